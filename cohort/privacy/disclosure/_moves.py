"""Whole-number witnesses without a MILP: "cube" moves of a cross table.

In a table with every margin, adding ``+1`` to two codes ``a``, ``b`` of one dimension that share
an equation cancels in it when they are siblings (``+1`` and ``-1``) or a code and its parent (``+1``
and ``+1``: the margin follows its child). The product of one such pair per dimension is a vector
``d`` of ``+-1`` on the ``2^k`` corners of a box that keeps every equation of the table: the moves
statisticians use to show that a suppression pattern leaves a cell free. When every corner is
hidden and has room to move ``step`` units its way, ``true + step * d`` is another whole-number
table that publishes the same numbers: an integer witness found by a small search instead of a
MILP (which took ~95% of the protection and audit time of the seed-004 phase-2 tables).

A cell no box proves gets a MILP over a small region instead of the whole component
(:meth:`CubeMoves.region`: per dimension the codes whose neighbour of the cell is hidden), every
other cell held at its true value: the minimal moves of a 4-way table with hidden margins are
cycles of 20-60 cells over a few codes per dimension, which such a region often holds. (Wider
regions, with every code whose slice holds hidden cells, were tried: nearly the whole table, as
slow as the component's MILP and slower than its pushes.)

Nothing here is trusted: :func:`._integer.integer_protection` uses a move only after checking
``A d = 0`` on every equation of the release (linked tables and earlier releases included), the
bounds of every corner, and that the true table is itself feasible for the component; a cell no
move proves goes to the MILPs as before. So the moves and regions change which proof is found first,
never a verdict.
"""

import itertools
from collections.abc import Callable

import polars as pl

from cohort.privacy.disclosure._model import ReleaseModel, parent_map, row_cells
from cohort.privacy.disclosure.tables import Dimension, TableSpec

#: Boxes tried per cell before it is left to the MILP (bounds the search on wide tables).
_MAX_NODES = 400


class CubeMoves:
    """Per table: each cell's coordinates and, per dimension, the codes it can pair with."""

    def __init__(
        self,
        model: ReleaseModel,
        frames: dict[str, pl.DataFrame],
        specs: dict[str, TableSpec],
        dimensions: dict[str, Dimension] | None = None,
    ) -> None:
        dimensions = dimensions or {}
        self._tables: list[tuple[dict[tuple[str, ...], int], list[dict[str, list[tuple[str, int]]]]]] = []
        self._where: dict[int, list[tuple[int, tuple[str, ...]]]] = {}
        for name, frame in frames.items():
            spec = specs.get(name)
            if spec is None or not spec.dimensions or frame.height == 0:
                continue
            dims = list(spec.dimensions)
            if any(d not in frame.columns for d in dims):
                continue
            cells = row_cells(model, name)
            coords = frame.select([pl.col(d).cast(pl.String) for d in dims]).rows()
            index = dict(zip(coords, cells.tolist(), strict=True))
            partners = []
            for d in dims:
                dim = dimensions.get(d, Dimension(d))
                pm = parent_map(name, frame, d, dim)
                children: dict[str, list[str]] = {}
                for code, parent in pm.items():
                    if parent is not None:
                        children.setdefault(parent, []).append(code)
                leaves = {c for c in pm if c not in children}
                root = {c for c, p in pm.items() if p is None}
                pairs: dict[str, list[tuple[str, int]]] = {}
                for code, parent in pm.items():
                    # Two leaves of one parent move against each other, a leaf and the total
                    # together. A subtotal is also the sum of its own children, so moving it
                    # alone would break that equation: boxes use leaves and the total only.
                    near: list[tuple[str, int]] = []
                    if code in leaves and parent is not None:
                        near += [(s, -1) for s in children[parent] if s != code and s in leaves]
                        if parent in root:
                            near.append((parent, 1))
                    elif code in root:
                        near += [(c, 1) for c in children.get(code, []) if c in leaves]
                    pairs[code] = near
                partners.append(pairs)
            t = len(self._tables)
            self._tables.append((index, partners))
            for co, c in zip(coords, cells.tolist(), strict=True):
                self._where.setdefault(int(c), []).append((t, co))

    def find(self, cell: int, movable: Callable[[int, int], bool]) -> dict[int, int] | None:
        """A box through ``cell`` (as cell -> +-1, ``cell`` at +1) whose every corner is
        ``movable(corner, sign)``; ``None`` when the search finds none. The box is searched in the
        first table that shows the cell (a linked table shows the same number)."""
        where = self._where.get(cell)
        if not where:
            return None
        t, co = where[0]
        index, partners = self._tables[t]
        budget = [_MAX_NODES]

        def grow(corners: list[tuple[tuple[str, ...], int]], j: int) -> list | None:
            """Depth first, one dimension at a time: double the box along dimension ``j``."""
            if j == len(co):
                return corners
            for code, rel in partners[j].get(co[j], []):
                budget[0] -= 1
                if budget[0] < 0:
                    return None
                new = []
                for c, s in corners:
                    moved = (*c[:j], code, *c[j + 1 :])
                    other = index.get(moved)
                    if other is None or not movable(other, s * rel):
                        break
                    new.append((moved, s * rel))
                else:
                    found = grow(corners + new, j + 1)
                    if found is not None:
                        return found
            return None

        found = grow([(co, 1)], 0)
        if found is None:
            return None
        out: dict[int, int] = {}
        for c, s in found:
            k = index[c]
            out[k] = out.get(k, 0) + s
        return out

    def region(self, cell: int, room: Callable[[int], float]) -> list[int]:
        """The cells of a small box around ``cell``: per dimension its own code and the partner
        codes whose neighbour of ``cell`` has ``room`` (0 for a published cell). A MILP over these
        cells alone, every other cell held at its true value, is small and finds many moves that
        one box misses (a box corner that is published, made up by a second box inside the region)."""
        where = self._where.get(cell)
        if not where:
            return []
        t, co = where[0]
        index, partners = self._tables[t]
        axes = []
        for j, code in enumerate(co):
            near = []
            for other, _ in partners[j].get(code, []):
                c = index.get((*co[:j], other, *co[j + 1 :]))
                if c is not None and room(c) > 0:
                    near.append(other)
            axes.append([code, *near])
        out = []
        for combo in itertools.product(*axes):
            c = index.get(combo)
            if c is not None:
                out.append(c)
        return out
