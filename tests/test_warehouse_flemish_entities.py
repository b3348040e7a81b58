"""The Flemish government entities of the synthetic warehouse (issue 25): fewer entities of
realistic size at a small scale, not smaller ones, and the §6 path (an entity under 50) kept."""

import numpy as np
import polars as pl
import pytest

from cohort.warehouse import labour_params
from cohort.warehouse.agency import SMALL_ENTITY, TOTAL_STAFF, flemish_entities
from cohort.warehouse.labour import build_employers, pick_employer


def test_scale_one_keeps_every_entity_at_its_size():
    e = flemish_entities(1.0, 7)
    assert e.height == 59 and (e["size"] > 0).all()
    assert abs(int(e["size"].sum()) - TOTAL_STAFF) <= e.height  # rounding only
    assert e["policy_domain"].n_unique() == 12


@pytest.mark.parametrize("scale", [0.002, 0.01, 0.1])
@pytest.mark.parametrize("seed", [3, 7])
def test_a_small_warehouse_has_fewer_entities_of_realistic_size(scale, seed):
    e = flemish_entities(scale, seed)
    assert e.height == 59  # every entity stays an employer (the other employers' draws do not move)
    kept = e.filter(pl.col("size") > 0)
    budget = TOTAL_STAFF * scale
    assert budget / 1.5 <= kept["size"].sum() <= 1.5 * budget
    large = kept.filter(pl.col("size") >= SMALL_ENTITY)
    # most staff in entities of 50 and more; one small entity for the restricted path (§6)
    assert large["size"].sum() >= 0.8 * kept["size"].sum()
    assert kept.height - large.height == 1
    # no policy domain is a single small entity (its total would be that entity's figure)
    assert set(kept["policy_domain"]) == set(large["policy_domain"])
    assert flemish_entities(scale, seed).equals(e)  # deterministic from the seed


def test_the_sizes_are_those_of_scale_one():
    full = flemish_entities(1.0, 3)
    small = flemish_entities(0.01, 3)
    kept = small["size"] > 0
    assert (small["size"].filter(kept) == full["size"].filter(kept)).all()
    assert flemish_entities(0.01, 3)["size"].to_list() != flemish_entities(0.01, 4)["size"].to_list()


def test_no_government_job_goes_to_an_entity_left_out():
    sizes = flemish_entities(0.01, 7)["size"].to_numpy()
    emp = build_employers(0.01, 7, sizes)
    u = np.random.default_rng(0).random(20_000)
    picked = pick_employer(emp, np.full(u.size, labour_params.FLEMISH_GOV, np.int8), u)
    entity = emp.entity[picked]
    assert (entity >= 0).all()  # the government sector holds the entities only
    counts = np.bincount(entity, minlength=sizes.size)
    assert (counts[sizes == 0] == 0).all()
    share = counts[sizes > 0] / counts.sum()
    assert np.allclose(share, sizes[sizes > 0] / sizes.sum(), atol=0.02)
