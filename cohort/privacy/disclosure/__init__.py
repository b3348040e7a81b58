"""Disclosure control for anonymous-table releases (*kleine-celrisicoanalyse*, small-cell risk analysis).

The flow of one release::

    tables = {s.name: tabulate(micro, s, dims) for s in specs.values()}   # long format, all margins
    protected = protect(tables, specs, rules)        # primary rules + secondary suppression, all tables together
    report = audit(protected, specs, rules, earlier=earlier_releases(lake, project))   # the outsider's LP attack
    signoff = record_signoff(lake, project, release_id, who, content_hash(protected, specs))
    release(protected, report, project, release_id, lake, signoff)   # refuses unless passed AND signed

Modules: :mod:`.tables` (Dimension, TableSpec, tabulate), :mod:`.rules` (DisclosureRules),
:mod:`.entity` (the entity-size rule), :mod:`.suppression` (protect), :mod:`.audit`
(audit, AuditReport), :mod:`.ledger` (ReleaseLedger, earlier_releases), :mod:`.gate`
(record_signoff, release, ReleaseRefused). See docs/disclosure.md.
"""

from cohort.privacy.disclosure.audit import AuditReport, audit
from cohort.privacy.disclosure.entity import EntitySplit, split_by_entity_size
from cohort.privacy.disclosure.gate import ReleaseRefused, record_signoff, release
from cohort.privacy.disclosure.ledger import ReleaseLedger, content_hash, earlier_releases, public_frame
from cohort.privacy.disclosure.rules import DisclosureRules
from cohort.privacy.disclosure.suppression import protect
from cohort.privacy.disclosure.tables import Dimension, TableSpec, tabulate

__all__ = [
    "AuditReport",
    "Dimension",
    "DisclosureRules",
    "EntitySplit",
    "ReleaseLedger",
    "ReleaseRefused",
    "TableSpec",
    "audit",
    "content_hash",
    "earlier_releases",
    "protect",
    "public_frame",
    "record_signoff",
    "release",
    "split_by_entity_size",
    "tabulate",
]
