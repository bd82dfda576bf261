"""Largest remainder for many allocation keys at once (NumPy), for the statement hot path.

Keys whose contexts share a layout (pie, number of master and publishing accounts) are cut
together: floors, remainders and the leftover units as integer matrix arithmetic, ties by
column order — exactly `ledger.royalties.allocate_key_parts`, which a property test checks.
Keys with a special context (takedown, no pie, escrow release) or an amount too large for
int64 products go through the per-key function.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from ledger.royalties.allocation import (
    AllocationContext,
    KeyPlan,
    Part,
    allocate_key_parts,
    key_plan,
)

# |amount| · ppm must fit in int64: amounts up to 9·10¹² micro-units (9 million units) per key.
_SAFE = 9_000_000_000_000

Matrix = npt.NDArray[np.int64]


def _lr_rows(amounts: Matrix, weights: Matrix, totals: Matrix) -> Matrix:
    """Row-wise LR of amounts[i] by weights[i, :] (ties: lower column first)."""
    products = amounts[:, None] * weights
    floors, remainders = np.divmod(products, totals[:, None])
    leftover = amounts - floors.sum(axis=1)
    order = np.argsort(-remainders, axis=1, kind="stable")
    ranks = np.empty_like(order)
    np.put_along_axis(ranks, order, np.arange(weights.shape[1])[None, :], axis=1)
    result: Matrix = floors + (ranks < leftover[:, None])
    return result


def number_layouts(plans: Sequence[Any]) -> tuple[dict[tuple[Any, ...], int], Matrix]:
    """Plans numbered by layout (pie, number of master and publishing accounts), the keys of one
    layout being cut together by `layout_rows`; -1 for a context without a fixed plan."""
    layouts: dict[tuple[Any, ...], int] = {}
    layout_of = np.array(
        [
            -1
            if p is None
            else layouts.setdefault((p.pie, len(p.master.weights), len(p.publishing.weights)), len(layouts))
            for p in plans
        ],
        dtype=np.int64,
    )
    return layouts, layout_of


def layout_rows(gross: Matrix, pie: tuple[int, ...], shape_plans: Sequence[Any], at: Matrix) -> Matrix:
    """Keys of one layout cut column-wise: each gross by the layout's pie (performer, master,
    publishing), then the master and the publishing cut by each key's plan (`at` numbers the
    key's plan in `shape_plans`), every cut by largest remainder in integer micro-units. One row
    per key: the performer's share, then the master's parts, then the publishing parts."""
    size = len(gross)
    cut = _lr_rows(gross, np.tile(np.array(pie, dtype=np.int64), (size, 1)), np.full(size, sum(pie), dtype=np.int64))
    master = _lr_rows(
        cut[:, 1],
        np.array([p.master.weights for p in shape_plans], dtype=np.int64)[at],
        np.array([p.master.total for p in shape_plans], dtype=np.int64)[at],
    )
    publishing = _lr_rows(
        cut[:, 2],
        np.array([p.publishing.weights for p in shape_plans], dtype=np.int64)[at],
        np.array([p.publishing.total for p in shape_plans], dtype=np.int64)[at],
    )
    return np.concatenate([cut[:, :1], master, publishing], axis=1)


def _plan(ctx: AllocationContext) -> KeyPlan:
    plan = key_plan(ctx)
    assert plan is not None
    return plan


def _matrix(values: Sequence[object]) -> Matrix:
    return np.array(values, dtype=np.int64)


def allocate_many(
    grosses: Sequence[int], contexts: Sequence[AllocationContext]
) -> list[tuple[tuple[Part, ...], list[int]]]:
    """(parts, amounts) for every key, in order; the same numbers as allocate_key_parts."""
    out: list[tuple[tuple[Part, ...], list[int]] | None] = [None] * len(grosses)
    groups: dict[tuple[tuple[int, int, int], int, int], list[int]] = {}
    for index, (gross, ctx) in enumerate(zip(grosses, contexts, strict=True)):
        plan = key_plan(ctx)
        if plan is None or not -_SAFE < gross < _SAFE:
            out[index] = allocate_key_parts(gross, ctx)
            continue
        shape = (plan.pie, len(plan.master.weights), len(plan.publishing.weights))
        groups.setdefault(shape, []).append(index)
    for (pie, _, _), members in groups.items():
        plans = [_plan(contexts[i]) for i in members]
        size = len(members)
        amounts_in = np.array([grosses[i] for i in members], dtype=np.int64)
        pie_weights = np.tile(np.array(pie, dtype=np.int64), (size, 1))
        cut = _lr_rows(amounts_in, pie_weights, np.full(size, sum(pie), dtype=np.int64))
        master = _lr_rows(
            cut[:, 1], _matrix([p.master.weights for p in plans]), _matrix([p.master.total for p in plans])
        )
        publishing = _lr_rows(
            cut[:, 2], _matrix([p.publishing.weights for p in plans]), _matrix([p.publishing.total for p in plans])
        )
        rows = np.concatenate([cut[:, :1], master, publishing], axis=1).tolist()
        for i, plan, amounts in zip(members, plans, rows, strict=True):
            out[i] = (plan.parts, amounts)
    return [item for item in out if item is not None]
