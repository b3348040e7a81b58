"""The generator's fast paths give exactly what the plain NumPy formulas they replace give."""

import numpy as np
import pytest

from cohort.warehouse.columns import arg_sort
from cohort.warehouse.demography_households import household_anchors
from cohort.warehouse.labour import Spells, in_codes


@pytest.mark.parametrize("n_keys", [1, 2, 3])
def test_arg_sort_is_a_stable_lexsort(n_keys: int):
    rng = np.random.default_rng(n_keys)
    # few distinct values, so ties are many and only a stable sort gives np.lexsort's order
    keys = [rng.integers(-3, 4, 5_000) for _ in range(n_keys)]
    order = arg_sort(*keys)
    assert order.dtype == np.int64
    assert np.array_equal(order, np.lexsort(keys[::-1]))


def test_arg_sort_of_nothing_is_empty():
    assert arg_sort(np.empty(0, np.int64)).size == 0


def _anchor_rounds_whole_array(couple, parent, partner):
    """The anchor rounds as ``household_anchors`` did them before it touched only the children at home."""
    ids = np.arange(len(parent))
    anchor = np.where(couple, np.minimum(ids, partner), ids)
    pc = np.clip(parent, 0, None)
    for _ in range(4):
        anchor = np.where(parent >= 0, anchor[pc], anchor)
    return anchor


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_anchors_match_the_whole_array_rounds(seed: int):
    rng = np.random.default_rng(seed)
    n = 4_000
    # random mothers, fathers and couples, one municipality for most so that children live with
    # their parents
    mother = np.where(rng.random(n) < 0.7, rng.integers(0, n, n), -1)
    mother = np.where(mother < np.arange(n), mother, -1)  # a mother comes before her child
    father = np.where(rng.random(n) < 0.5, rng.integers(0, n, n), -1)
    partner = np.full(n, -1)
    a, b = rng.permutation(n)[: n // 2].reshape(2, -1)
    pair = rng.random(len(a)) < 0.5
    partner[a[pair]], partner[b[pair]] = b[pair], a[pair]
    priv = rng.random(n) < 0.9
    muni = rng.choice([1, 1, 1, 2], n)
    age = rng.uniform(0, 40, n)
    leave_age = np.full(n, 60.0)
    # and one chain of six generations at home, so the four-round limit shows
    partner[np.isin(partner, np.arange(6))] = -1
    mother[:6], father[:6], partner[:6] = np.arange(-1, 5), -1, -1
    priv[:6], muni[:6], age[:6] = True, 1, 10.0
    anchor, couple, parent = household_anchors(priv, muni, partner, mother, father, age, leave_age)
    want = _anchor_rounds_whole_array(couple, parent, partner)
    assert (parent >= 0).sum() > n // 4  # not trivial: many children live with a parent
    assert (anchor != np.arange(n)).sum() > n // 4
    assert np.array_equal(anchor, want)
    assert list(anchor[:6]) == [0, 0, 0, 0, 0, 1]


def test_spells_at_gives_the_open_spells_value_on_each_day():
    rng = np.random.default_rng(5)
    n, k = 300, 2_000
    start = rng.integers(0, 100, k)
    spells = Spells(
        who=rng.integers(0, n, k),
        start=start,
        end=start + rng.integers(1, 30, k),
        values={"a": rng.integers(1, 9, k).astype(np.int8), "b": rng.integers(1, 9, k).astype(np.int16)},
    )
    for day in (10, 10, 50, 10, 99):  # a day asked again, and after another day
        for name in ("a", "b"):
            m = (spells.start <= day) & (spells.end > day)
            want = np.full(n, -1, spells.values[name].dtype)
            want[spells.who[m]] = spells.values[name][m]
            got = spells.at(n, day, name, fill=-1)
            assert got.dtype == want.dtype
            assert np.array_equal(got, want)


@pytest.mark.parametrize("among", [[0], [3, 7, 11], [-1, 5], list(range(-128, 128, 3)), []])
def test_in_codes_is_isin(among: list[int]):
    # every int8 value, the negative ones (``pos`` marks the absent -1) included
    codes = np.random.default_rng(len(among)).integers(-128, 128, 20_000).astype(np.int8)
    assert np.array_equal(in_codes(codes, among), np.isin(codes, among))


def test_in_codes_refuses_other_types():
    with pytest.raises(TypeError, match="int8"):
        in_codes(np.arange(5, dtype=np.int16), [1])
