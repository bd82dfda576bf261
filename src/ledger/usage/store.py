"""The usage tables on SQLite and PostgreSQL: set-based lookups per batch, and the side write.

Lookups run before a batch's transaction; the side write re-checks, under the log's write lock,
that no other batch landed in between (the usage watermark), so play numbers derived from the
lookups are still right when the rows commit. PostgreSQL rows go in with binary COPY.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ledger.application import RoyaltyLedger

LINE_COLUMNS = (
    "source",
    "usage_id",
    "line_no",
    "kind",
    "occurred_at_us",
    "isrc",
    "upc",
    "listener_hash",
    "territory",
    "seconds_played",
    "currency",
    "gross_micros",
    "pricing_model",
    "pricing_version",
    "play_number",
    "counted",
    "payload_sha256",
    "refund_of",
)
_PG_TYPES = [
    "int8",
    "text",
    "text",
    "text",
    "int4",
    "text",
    "int8",
    "text",
    "text",
    "text",
    "text",
    "int4",
    "text",
    "int8",
    "text",
    "int4",
    "int4",
    "bool",
    "text",
    "text",
    "bool",  # pair_last (UsageWrite.last_lines)
]
_COLS = "position, batch_id, " + ", ".join(LINE_COLUMNS) + ", pair_last"
SQLITE_CACHE_KIB = 256 * 1024
_WATERMARK = "SELECT COALESCE(MAX(position), 0) AS w FROM usage_rows"


class UsageConflict(RuntimeError):
    """Another batch was recorded between this batch's lookups and its write: prepare it again."""


class UsageStore:
    """Read-side queries the ingest needs, one query per batch (never one per row)."""

    def __init__(self, app: RoyaltyLedger) -> None:
        self.recorder: Any = app.recorder
        self.backend = app.config.backend

    def query(self, sqlite_sql: str, pg_sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """PostgreSQL arrays go as `%b` (binary): psycopg's text array dumper checks every
        element with a regex, ≈ 4x slower for the tens of thousands of ids a batch looks up."""
        if self.backend == "sqlite":
            with self.recorder.datastore.transaction(commit=False) as c:
                c.execute(sqlite_sql, tuple(params))
                return [tuple(r) for r in c.fetchall()]
        from psycopg.rows import tuple_row

        with self.recorder.datastore.get_connection() as conn, conn.cursor(row_factory=tuple_row) as curs:
            curs.execute(pg_sql, list(params))
            return list(curs.fetchall())

    def watermark(self) -> int:
        return int(self.query(_WATERMARK, _WATERMARK)[0][0])

    def existing_payloads(self, source: str, usage_ids: Sequence[str]) -> dict[str, str]:
        if not usage_ids:
            return {}
        rows = self.query(
            "SELECT usage_id, payload_sha256 FROM usage_rows WHERE source = ? AND line_no = 0 "
            "AND usage_id IN (SELECT value FROM json_each(?))",
            # LATERAL: one primary-key probe per id, whatever the planner thinks of the array.
            "SELECT u.usage_id, u.payload_sha256 FROM unnest(%b::text[]) AS p(id) "
            "CROSS JOIN LATERAL (SELECT usage_id, payload_sha256 FROM usage_rows "
            "WHERE source = %s AND usage_id = p.id AND line_no = 0 LIMIT 1) AS u",
            (source, json.dumps(list(usage_ids))) if self.backend == "sqlite" else (list(usage_ids), source),
        )
        return {r[0]: r[1] for r in rows}

    def quarantined_hashes(self, source: str, raw_hashes: Sequence[str]) -> set[str]:
        if not raw_hashes:
            return set()
        rows = self.query(
            "SELECT raw_sha256 FROM usage_quarantine WHERE source = ? "
            "AND raw_sha256 IN (SELECT value FROM json_each(?))",
            "SELECT raw_sha256 FROM usage_quarantine WHERE source = %s AND raw_sha256 = ANY(%b::text[])",
            (source, json.dumps(list(raw_hashes)) if self.backend == "sqlite" else list(raw_hashes)),
        )
        return {r[0] for r in rows}

    def prior_counted_plays(self, pairs: Iterable[tuple[str, str]]) -> dict[tuple[str, str], int]:
        """Counted stream2own plays already stored per (listener_hash, isrc), in one query
        (pairs with none are left out)."""
        asked = list(pairs)
        if not asked:
            return {}
        # Per pair, one descent of the index on (substr(listener_hash, 1, 16), isrc, play_number)
        # to the highest play number (numbers are dense, so it is the count); the full hash is
        # re-checked. Never a count or sort over a listener's whole history.
        # Only each batch's last play of a pair is in the index (pair_last), which holds the
        # pair's highest number as well as all of them would.
        # Only pairs with plays come back, by their place in the request: most pairs of a
        # batch are new, and sending each one back costs both ends for nothing.
        latest = (
            "SELECT u.play_number FROM usage_rows AS u "
            "WHERE substr(u.listener_hash, 1, 16) = substr(p.l, 1, 16) AND u.isrc = p.i "
            "AND u.listener_hash = p.l AND u.pricing_model = 'stream2own' AND u.counted{} "
            "ORDER BY u.play_number DESC LIMIT 1"
        )
        if self.backend == "sqlite":
            rows = self.query(
                f"SELECT k, n FROM (SELECT p.k, ({latest.format(' = 1 AND u.pair_last IS NOT 0')}) AS n "
                "FROM (SELECT key AS k, json_extract(value, '$[0]') AS l, json_extract(value, '$[1]') AS i "
                "FROM json_each(?)) AS p) WHERE n IS NOT NULL",
                "",
                (json.dumps(asked),),
            )
            return {asked[int(r[0])]: int(r[1]) for r in rows}
        listeners, isrcs = [pair[0] for pair in asked], [pair[1] for pair in asked]
        rows = self.query(
            "",
            "SELECT p.n, u.play_number FROM unnest(%b::text[], %b::text[]) WITH ORDINALITY AS p(l, i, n) "
            f"CROSS JOIN LATERAL ({latest.format(' AND u.pair_last IS NOT FALSE')}) AS u",
            (listeners, isrcs),
        )
        return {asked[int(r[0]) - 1]: int(r[1]) for r in rows if r[1]}

    def sale_lines(self, source: str, usage_ids: Sequence[str]) -> dict[str, list[tuple[Any, ...]]]:
        """Lines of earlier sales a refund names: usage_id → [(line_no, isrc, upc, currency, gross)]."""
        if not usage_ids:
            return {}
        rows = self.query(
            "SELECT usage_id, line_no, isrc, upc, currency, gross_micros, kind FROM usage_rows "
            "WHERE source = ? AND usage_id IN (SELECT value FROM json_each(?)) "
            "ORDER BY usage_id, line_no",
            "SELECT usage_id, line_no, isrc, upc, currency, gross_micros, kind FROM usage_rows "
            "WHERE source = %s AND usage_id = ANY(%b::text[]) ORDER BY usage_id, line_no",
            (source, json.dumps(list(usage_ids)) if self.backend == "sqlite" else list(usage_ids)),
        )
        found: dict[str, list[tuple[Any, ...]]] = {}
        for r in rows:
            found.setdefault(r[0], []).append(r[1:])
        return found

    def refunded_micros(self, source: str, sale_ids: Sequence[str]) -> dict[str, int]:
        """Micro-units already reversed by stored refunds, per sale id (sales with none are left
        out); by the partial index on (source, refund_of) of refund rows."""
        if not sale_ids:
            return {}
        rows = self.query(
            "SELECT refund_of, -SUM(gross_micros) FROM usage_rows WHERE kind = 'refund' AND source = ? "
            "AND refund_of IN (SELECT value FROM json_each(?)) GROUP BY refund_of",
            "SELECT refund_of, -SUM(gross_micros) FROM usage_rows WHERE kind = 'refund' AND source = %s "
            "AND refund_of = ANY(%b::text[]) GROUP BY refund_of",
            (source, json.dumps(list(sale_ids)) if self.backend == "sqlite" else list(sale_ids)),
        )
        return {r[0]: int(r[1]) for r in rows}


@dataclass
class UsageWrite:
    """A batch's rows, quarantined rows and ownerships, written after its UsageBatch event."""

    batch_hex: str
    expected_watermark: int
    lines: list[tuple[Any, ...]] = field(default_factory=list)  # LINE_COLUMNS order
    quarantine: list[tuple[Any, ...]] = field(default_factory=list)
    resolved: list[tuple[str, str]] = field(default_factory=list)  # (quarantine_id, outcome)
    ownership: list[tuple[Any, ...]] = field(default_factory=list)
    # Lines that are the last counted stream2own play of their (listener, recording) in the
    # batch — the highest number, found by the numbering (Prepared.pair_last_lines). Only
    # those go into the play-numbering index (pair_last).
    last_lines: list[int] = field(default_factory=list)

    def _last(self) -> list[bool]:
        flags = [False] * len(self.lines)
        for line in self.last_lines:
            flags[line] = True
        return flags

    def _position(self, positions: Sequence[int]) -> int:
        assert len(positions) == 1, "a usage batch is saved as exactly one event"
        return positions[0]

    def _check(self, watermark: int) -> None:
        if watermark != self.expected_watermark:
            raise UsageConflict(f"usage watermark moved from {self.expected_watermark} to {watermark}")

    def write_sqlite(self, cursor: Any, positions: Sequence[int]) -> None:
        position, bid = self._position(positions), self.batch_hex
        # Usage indexes are keyed on ids and hashes (random order): the default 2 MiB page
        # cache makes every insert a page miss. A larger cache is per connection, no effect on
        # durability.
        cursor.execute(f"PRAGMA cache_size = -{SQLITE_CACHE_KIB}")
        cursor.execute(_WATERMARK)
        self._check(int(cursor.fetchone()[0]))
        prefix = f"{int(position)}, '{bid}', "  # an int and a hex string: safe to inline
        cursor.executemany(
            f"INSERT INTO usage_rows ({_COLS}) VALUES ({prefix}{', '.join('?' * 19)})",
            map(tuple.__add__, self.lines, [(flag,) for flag in self._last()]),
        )
        cursor.executemany(
            "INSERT INTO usage_quarantine (quarantine_id, source, usage_id, raw_sha256, reason, "
            f"detail, raw_row, position, batch_id) VALUES (?, ?, ?, ?, ?, ?, ?, {prefix[:-2]})",
            self.quarantine,
        )
        cursor.executemany(
            "INSERT INTO usage_quarantine_resolved (quarantine_id, outcome, position, batch_id) "
            f"VALUES (?, ?, {prefix[:-2]})",
            self.resolved,
        )
        cursor.executemany(
            "INSERT INTO usage_ownership (listener_hash, isrc, source, usage_id, occurred_at_us, "
            f"position, batch_id) VALUES (?, ?, ?, ?, ?, {prefix[:-2]})",
            self.ownership,
        )

    def write_postgres(self, cursor: Any, positions: Sequence[int]) -> None:
        position, bid = self._position(positions), self.batch_hex
        cursor.execute(_WATERMARK)
        self._check(int(cursor.fetchone()["w"]))
        if self.lines:
            with cursor.copy(f"COPY usage_rows ({_COLS}) FROM STDIN (FORMAT BINARY)") as copy:
                copy.set_types(_PG_TYPES)
                head = (position, bid)
                for line, last in zip(self.lines, self._last(), strict=True):
                    copy.write_row((*head, *line, last))
        if self.quarantine:
            cursor.executemany(
                "INSERT INTO usage_quarantine (quarantine_id, source, usage_id, raw_sha256, "
                "reason, detail, raw_row, position, batch_id) "
                "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)",
                [(*q, position, bid) for q in self.quarantine],
            )
        if self.resolved:
            cursor.executemany(
                "INSERT INTO usage_quarantine_resolved (quarantine_id, outcome, position, batch_id)"
                " VALUES (%s, %s, %s, %s)",
                [(*r, position, bid) for r in self.resolved],
            )
        if self.ownership:
            cursor.executemany(
                "INSERT INTO usage_ownership (listener_hash, isrc, source, usage_id, "
                "occurred_at_us, position, batch_id) VALUES (%s, %s, %s, %s, %s, %s, %s)",
                [(*o, position, bid) for o in self.ownership],
            )
