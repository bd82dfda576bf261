"""Usage rows by position on SQLite without a per-row position index (migration 0046).

Rows are appended in position order, so each batch's rows are one rowid run, recorded once per
batch in `usage_positions` (position, first_row, last_row) with the rows. A reader of a position
range names `rows_between` in its WHERE: the rowid span of the runs recorded for the positions in
it (an index range of `usage_positions`, then a range of the table itself), and the position
test again on each row — so rows written out of order (a test's fixture, several runs at one
position) are still all found, only with more rows read. On PostgreSQL the same text is the plain
position test (BRIN serves it, migration 0040).
"""

from __future__ import annotations


def rows_between(backend: str, alias: str = "", *, after: bool = False, mark: str = "?") -> str:
    """SQL: the rows whose position is ≥ lo (> lo when `after`) and ≤ hi; `mark` is the
    placeholder. Its parameters are `position_params(backend, lo, hi)`."""
    low = ">" if after else ">="
    plain = f"{alias}position {low} {mark} AND {alias}position <= {mark}"
    if backend != "sqlite":
        return plain
    runs = f"FROM usage_positions WHERE position {low} {mark} AND position <= {mark}"
    return f"{alias}rowid BETWEEN (SELECT MIN(first_row) {runs}) AND (SELECT MAX(last_row) {runs}) AND {plain}"


def position_params(backend: str, lo: int, hi: int) -> list[int]:
    """The parameters of `rows_between` for positions lo…hi."""
    return [lo, hi] * 3 if backend == "sqlite" else [lo, hi]
