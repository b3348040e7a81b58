"""Pseudonyms (docs/design.md, decision 4).

An identifier (national number, employer number) is first hashed with a keyed HMAC-SHA256
under the project's key, then looked up in the project's mapping table, which gives it a
meaningless sequence number. The research tables carry only the sequence number; the
mapping table stays in ``secure/<project>/_mapping/`` apart from them. Numbers are stable
over all years of a project (the mapping is only ever extended) and unlinkable across
projects (each project has its own key).

The key is loaded from ``COHORT_KEY_<PROJECT>`` or ``$COHORT_KEY_DIR/<project>.key``: exactly 64
hexadecimal characters (32 bytes), anything else is refused. Only in demo mode (``COHORT_DEMO`` set
to ``1``, ``true`` or ``yes``; see :func:`demo_mode`) is a missing key made and kept under
``data/keys/``.
The key's bytes live only inside :class:`ProjectKey` and the DuckDB session variables
that the HMAC macro reads; they are never written to SQL text, logs, metadata or outputs.
A key cannot be pickled (so it never travels in a Dagster event or to another process);
``key.fingerprint`` identifies it safely; ``uninstall_hmac`` forgets it in a connection.
A malformed key raises :class:`InvalidKeyError` without repeating the value.
``tests/test_reliability_keys.py`` checks all of this on a real materialisation.
"""

import os
import re
import secrets
from pathlib import Path

import duckdb

from cohort import storage

MAPPING_DIR = "_mapping"
KEY_HEX = re.compile(r"[0-9a-fA-F]{64}")
# COHORT_DEMO: the only values read as on and as off; any other value is refused, never guessed
DEMO_ON = ("1", "true", "yes")
DEMO_OFF = ("", "0", "false", "no", "off")


class MissingKeyError(RuntimeError):
    """No pseudonymisation key is configured for a project outside demo mode."""


class ProjectKey:
    """A project's secret key. Its repr and str never show the bytes."""

    __slots__ = ("_secret", "project", "source")

    def __init__(self, project: str, secret: bytes, source: str):
        if len(secret) < 32:
            raise ValueError(f"the key of project {project} is shorter than 32 bytes")
        self.project = project
        self._secret = secret
        self.source = source

    def __repr__(self) -> str:
        return f"ProjectKey(project={self.project!r}, source={self.source!r})"

    __str__ = __repr__

    def __reduce__(self):
        # Never pickled: a key must not travel in Dagster events, multiprocess payloads or caches.
        raise TypeError(f"the key of project {self.project} cannot be pickled or copied out of its process")

    @property
    def fingerprint(self) -> str:
        """16 hex characters that identify the key without revealing it (safe in metadata and the audit log)."""
        import hashlib

        return hashlib.sha256(b"cohort-key-fingerprint\0" + self._secret).hexdigest()[:16]

    def pads(self) -> tuple[bytes, bytes]:
        """HMAC inner and outer pads (RFC 2104) for the SQL macro."""
        k = self._secret if len(self._secret) <= 64 else __import__("hashlib").sha256(self._secret).digest()
        k = k.ljust(64, b"\0")
        return bytes(b ^ 0x36 for b in k), bytes(b ^ 0x5C for b in k)


class DemoModeError(ValueError):
    """``COHORT_DEMO`` holds a value that is neither an explicit on nor an explicit off."""


def demo_mode() -> bool:
    """Whether demo mode is on: the one reading of ``COHORT_DEMO``. On only for ``1``, ``true`` or
    ``yes`` (any case, spaces ignored); off when unset, empty, ``0``, ``false``, ``no`` or ``off``.
    Any other value is refused: demo mode makes a local key, so a typo must not switch it on."""
    value = os.environ.get("COHORT_DEMO", "").strip().lower()
    if value in DEMO_ON:
        return True
    if value in DEMO_OFF:
        return False
    raise DemoModeError(
        "COHORT_DEMO must be 1, true or yes (demo mode on) or unset, empty, 0, false, no or off "
        f"(demo mode off); {value!r} is neither"
    )


class InvalidKeyError(MissingKeyError):
    """A key is not 64 hexadecimal characters; the message never repeats the value."""


def _from_hex(text: str, project: str, where: str) -> bytes:
    # Exactly 32 bytes as hex: a shorter key is weaker, a longer or odd one is more likely a
    # pasted wrong value (a fingerprint, a password) than a key. Surrounding whitespace (the
    # newline of a key file) is not part of it.
    if not KEY_HEX.fullmatch(text.strip()):
        raise InvalidKeyError(
            f"the key of project {project} in {where} is not 64 hexadecimal characters (32 bytes); "
            "make one with: python -c 'import secrets; print(secrets.token_hex(32))'"
        )
    return bytes.fromhex(text.strip())


def uninstall_hmac(con: duckdb.DuckDBPyConnection) -> None:
    """Forget the key material in a connection (call when the pseudonymisation step is done)."""
    con.execute("DROP MACRO IF EXISTS keyed_hash")
    for name in ("cohort_hmac_ipad", "cohort_hmac_opad"):
        con.execute(f"RESET VARIABLE {name}")


def load_key(project: str, keys_dir: Path | None = None, allow_demo: bool | None = None) -> ProjectKey:
    """The key of ``project``; in demo mode a missing key is made under ``keys_dir``."""
    env_name = "COHORT_KEY_" + project.upper().replace("-", "_")
    if os.environ.get(env_name):
        return ProjectKey(
            project, _from_hex(os.environ[env_name], project, env_name), f"environment variable {env_name}"
        )
    key_dir = os.environ.get("COHORT_KEY_DIR")
    if key_dir and (Path(key_dir) / f"{project}.key").exists():
        path = Path(key_dir) / f"{project}.key"
        return ProjectKey(
            project,
            _from_hex(path.read_text(), project, f"{path.name} in COHORT_KEY_DIR"),
            f"key file in COHORT_KEY_DIR ({path.name})",
        )
    allow_demo = demo_mode() if allow_demo is None else allow_demo
    if not allow_demo or keys_dir is None:
        raise MissingKeyError(
            f"no pseudonymisation key for project {project}: set {env_name} (64 hex characters) or put "
            f"{project}.key in COHORT_KEY_DIR. Only the demo (COHORT_DEMO=1) makes a local key."
        )
    path = keys_dir / f"{project}.key"
    if not path.exists():
        keys_dir.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_hex(32))
    return ProjectKey(
        project,
        _from_hex(path.read_text(), project, f"demo key file {path.name}"),
        "demo key made locally under data/keys",
    )


def install_hmac(con: duckdb.DuckDBPyConnection, key: ProjectKey) -> None:
    """Define the SQL macro ``keyed_hash(text)`` = hex HMAC-SHA256 under the key, in this connection only."""
    ipad, opad = key.pads()
    con.execute("SET VARIABLE cohort_hmac_ipad = ?", [ipad])
    con.execute("SET VARIABLE cohort_hmac_opad = ?", [opad])
    con.execute(
        "CREATE OR REPLACE TEMP MACRO keyed_hash(x) AS "
        "sha256(getvariable('cohort_hmac_opad') || unhex(sha256(getvariable('cohort_hmac_ipad') || encode(x))))"
    )


def mapping_file(secure_project_dir: Path, kind: str) -> Path:
    return storage.partition_file(secure_project_dir / MAPPING_DIR, kind)


def extend_mapping(
    con: duckdb.DuckDBPyConnection, secure_project_dir: Path, kind: str, ids_sql: str
) -> dict[str, int]:
    """Give every identifier returned by ``ids_sql`` (one column) a sequence number in the
    ``kind`` mapping ("person", "employer"), keeping the numbers already given.

    New identifiers are numbered after the current maximum in the order of their keyed
    hash, which is random-looking and carries nothing of the identifier. Call it from one
    step at a time (an unpartitioned asset), never from parallel yearly steps.
    Returns counts: ``existing`` and ``added``.
    """
    path = mapping_file(secure_project_dir, kind)
    if path.exists():
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE _old_map AS SELECT * FROM read_parquet({storage.sql_string(path)})"
        )
    else:
        con.execute("CREATE OR REPLACE TEMP TABLE _old_map (hash VARCHAR, seq BIGINT)")
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE _new_map AS
        WITH ids AS (SELECT DISTINCT keyed_hash(CAST(id AS VARCHAR)) AS hash
                     FROM ({ids_sql}) AS t(id) WHERE id IS NOT NULL),
        fresh AS (SELECT hash FROM ids ANTI JOIN _old_map USING (hash)),
        start AS (SELECT coalesce(max(seq), 0) AS m FROM _old_map)
        SELECT hash, seq FROM _old_map
        UNION ALL
        SELECT hash, (SELECT m FROM start) + row_number() OVER (ORDER BY hash) AS seq FROM fresh
        """
    )
    existing = con.execute("SELECT count(*) FROM _old_map").fetchone()[0]
    total = con.execute("SELECT count(*) FROM _new_map").fetchone()[0]
    storage.write_query(con, "SELECT hash, seq FROM _new_map ORDER BY seq", path)
    con.execute("DROP TABLE _old_map; DROP TABLE _new_map")
    return {"existing": int(existing), "added": int(total - existing)}


def attach_mapping(con: duckdb.DuckDBPyConnection, secure_project_dir: Path, kind: str) -> str:
    """Expose the ``kind`` mapping as a temp view ``<kind>_map(hash, seq)`` and return its name.

    Use it as ``LEFT JOIN person_map m ON m.hash = keyed_hash(t.insz)``; select ``m.seq``.
    """
    path = mapping_file(secure_project_dir, kind)
    if not path.exists():
        raise FileNotFoundError(
            f"no {kind} mapping for this project yet: build the mapping asset first ({path})"
        )
    view = f"{kind}_map"
    con.execute(
        f"CREATE OR REPLACE TEMP VIEW {storage.sql_identifier(view)} AS "
        f"SELECT hash, seq FROM read_parquet({storage.sql_string(path)})"
    )
    return view
