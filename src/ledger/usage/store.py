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

from ledger.usage.keys import slot_of, slot_of_key, slots_of

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
    "int8",  # position
    "text",  # batch_id
    "int8",  # usage_key
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
    "int8",  # refund_key
]
_COLS = "position, batch_id, usage_key, " + ", ".join(LINE_COLUMNS) + ", refund_key"
SQLITE_CACHE_KIB = 256 * 1024
_WATERMARK = "SELECT COALESCE(MAX(position), 0) AS w FROM usage_rows"  # SQLite: by the position index
# PostgreSQL: BRIN cannot answer max(position), the writer keeps it (migration 0040).
_PG_WATERMARK = "SELECT position AS w FROM usage_watermark"
_DAY_US = 86_400_000_000
_COUNT_UPSERT = (
    "ON CONFLICT (listener_hash, isrc) DO UPDATE SET plays = excluded.plays, position = excluded.position"
)


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
        return int(self.query(_WATERMARK, _PG_WATERMARK)[0][0])

    def _at_keys(self, keys: Sequence[int]) -> list[tuple[Any, ...]]:
        """(usage_key, source, usage_id, payload_sha256) of the stored lines with these keys."""
        return self.query(
            "SELECT usage_key, source, usage_id, payload_sha256 FROM usage_rows "
            "WHERE usage_key IN (SELECT value FROM json_each(?))",
            "SELECT usage_key, source, usage_id, payload_sha256 FROM usage_rows WHERE usage_key = ANY(%b::int8[])",
            (json.dumps(list(keys)),) if self.backend == "sqlite" else (list(keys),),
        )

    def locate(
        self, source: str, usage_ids: Sequence[str], taken: set[int] | None = None
    ) -> tuple[dict[str, tuple[int, str]], dict[str, int]]:
        """Where each id is stored: {id: (slot, payload of its line 0)} for the stored ones, and
        {id: slot} — the first slot of its probe sequence no stored id holds, nor one in
        `taken` (the slots this batch's written lines hold; each slot given out is added).
        Every row found at a slot is compared by its full (source, usage id): a slot holding
        another id is a collision, and the id probes its next slot (ledger.usage.keys)."""
        # None: ids of this call may share a slot (the caller tells them apart, see batch.py)
        track, taken = taken is not None, taken if taken is not None else set()
        found: dict[str, tuple[int, str]] = {}
        free: dict[str, int] = {}
        pending = dict(zip(usage_ids, slots_of(source, list(usage_ids)), strict=True))
        probe = 0
        while pending:
            at: dict[int, list[tuple[str, str, str]]] = {}
            for key, src, uid, payload in self._at_keys(list(set(pending.values()))):
                at.setdefault(slot_of_key(int(key)), []).append((src, uid, payload))
            probe += 1
            following: dict[str, int] = {}
            for uid, slot in pending.items():
                here = at.get(slot)
                if here is None and slot not in taken:
                    free[uid] = slot
                    if track:
                        taken.add(slot)
                    continue
                mine = [payload for src, u, payload in here or () if src == source and u == uid]
                if mine:
                    found[uid] = (slot, mine[0])
                else:  # another id holds this slot: the next probe
                    following[uid] = slot_of(source, uid, probe)
            pending = following
        return found, free

    def existing_payloads(self, source: str, usage_ids: Sequence[str]) -> dict[str, str]:
        found, _ = self.locate(source, usage_ids)
        return {uid: payload for uid, (_, payload) in found.items()}

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
        (pairs with none are left out): the pair's counter (usage_play_counts), one primary-key
        probe per pair, whatever the listener's history. Only pairs with plays come back, by
        their place in the request."""
        asked = list(pairs)
        if not asked:
            return {}
        if self.backend == "sqlite":
            rows = self.query(
                "SELECT p.k, c.plays FROM (SELECT key AS k, json_extract(value, '$[0]') AS l, "
                "json_extract(value, '$[1]') AS i FROM json_each(?)) AS p "
                "JOIN usage_play_counts AS c ON c.listener_hash = p.l AND c.isrc = p.i",
                "",
                (json.dumps(asked),),
            )
            return {asked[int(r[0])]: int(r[1]) for r in rows}
        listeners, isrcs = [pair[0] for pair in asked], [pair[1] for pair in asked]
        rows = self.query(
            "",
            "SELECT p.n, c.plays FROM unnest(%b::text[], %b::text[]) WITH ORDINALITY AS p(l, i, n) "
            "JOIN usage_play_counts AS c ON c.listener_hash = p.l AND c.isrc = p.i",
            (listeners, isrcs),
        )
        return {asked[int(r[0]) - 1]: int(r[1]) for r in rows if r[1]}

    def lines_of(self, source: str, usage_ids: Sequence[str], columns: str) -> dict[str, list[tuple[Any, ...]]]:
        """The stored lines of these ids, by line number: usage_id → [(usage_key, line_no,
        *columns)] — by their slots (a range of the key index), each line's full id compared."""
        found, _ = self.locate(source, usage_ids)
        if not found:
            return {}
        slots = sorted({slot for slot, _ in found.values()})
        select = f"SELECT u.usage_key, u.source, u.usage_id, u.line_no, {columns} FROM usage_rows AS u "
        if self.backend == "sqlite":
            rows = self.query(
                select + "JOIN json_each(?) AS p ON u.usage_key >= p.value AND u.usage_key <= p.value + 1023",
                "",
                (json.dumps(slots),),
            )
        else:
            rows = self.query(
                "",
                select + "JOIN unnest(%b::int8[]) AS p(s) ON u.usage_key >= p.s AND u.usage_key <= p.s + 1023",
                (slots,),
            )
        lines: dict[str, list[tuple[Any, ...]]] = {}
        for r in sorted(rows, key=lambda r: (r[2], r[3])):
            if r[1] == source and r[2] in found and slot_of_key(int(r[0])) == found[r[2]][0]:
                lines.setdefault(r[2], []).append((int(r[0]), r[3], *r[4:]))
        return lines

    def sale_lines(self, source: str, usage_ids: Sequence[str]) -> dict[str, list[tuple[Any, ...]]]:
        """Lines of earlier sales a refund names: usage_id → [(line_no, isrc, upc, currency,
        gross, kind, usage_key)]."""
        if not usage_ids:
            return {}
        found = self.lines_of(source, usage_ids, "u.isrc, u.upc, u.currency, u.gross_micros, u.kind")
        return {uid: [(*line[1:], line[0]) for line in lines] for uid, lines in found.items()}

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
    keys: list[int] = field(default_factory=list)  # usage_key per line (ledger.usage.keys)
    refund_keys: dict[int, int] = field(default_factory=dict)  # refund line → its sale line's key
    # Stream2own counters after this batch: (listener_hash, isrc, plays), one per pair played.
    counters: list[tuple[str, str, int]] = field(default_factory=list)

    def _position(self, positions: Sequence[int]) -> int:
        assert len(positions) == 1, "a usage batch is saved as exactly one event"
        return positions[0]

    def _check(self, watermark: int) -> None:
        if watermark != self.expected_watermark:
            raise UsageConflict(f"usage watermark moved from {self.expected_watermark} to {watermark}")

    def write_sqlite(self, cursor: Any, positions: Sequence[int]) -> None:
        position, bid = self._position(positions), self.batch_hex
        # Usage indexes are keyed on hashes (random order): the default 2 MiB page cache makes
        # every insert a page miss. A larger cache is per connection, no effect on durability.
        cursor.execute(f"PRAGMA cache_size = -{SQLITE_CACHE_KIB}")
        cursor.execute(_WATERMARK)
        self._check(int(cursor.fetchone()[0]))
        assert len(self.keys) == len(self.lines), "every usage line has its key"
        prefix = f"{int(position)}, '{bid}', "  # an int and a hex string: safe to inline
        refunds = self.refund_keys
        cursor.executemany(
            f"INSERT INTO usage_rows ({_COLS}) VALUES ({prefix}{', '.join('?' * 20)})",
            [(key, *line, refunds.get(n)) for n, (key, line) in enumerate(zip(self.keys, self.lines, strict=True))]
            if refunds
            else [(key, *line, None) for key, line in zip(self.keys, self.lines, strict=True)],
        )
        cursor.executemany(
            f"INSERT INTO usage_play_counts (listener_hash, isrc, plays, position) VALUES (?, ?, ?, {int(position)}) "
            + _COUNT_UPSERT,
            self.counters,
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
        cursor.execute(_PG_WATERMARK)
        self._check(int(cursor.fetchone()["w"]))
        assert len(self.keys) == len(self.lines), "every usage line has its key"
        if self.lines:
            # The month partitions the lines fall in (created if missing; migration 0040).
            days = sorted({line[4] - line[4] % _DAY_US for line in self.lines})
            cursor.execute("SELECT DISTINCT royalty_usage_month(d) FROM unnest(%b::int8[]) AS d", (days,))
            with cursor.copy(f"COPY usage_rows ({_COLS}) FROM STDIN (FORMAT BINARY)") as copy:
                copy.set_types(_PG_TYPES)
                refunds, write = self.refund_keys, copy.write_row
                for n, (key, line) in enumerate(zip(self.keys, self.lines, strict=True)):
                    write((position, bid, key, *line, refunds.get(n)))
            cursor.execute("UPDATE usage_watermark SET position = %s", (position,))
        if self.counters:
            cursor.execute(
                "INSERT INTO usage_play_counts (listener_hash, isrc, plays, position) "
                "SELECT l, i, n, %s FROM unnest(%b::text[], %b::text[], %b::int4[]) AS p(l, i, n) " + _COUNT_UPSERT,
                (
                    position,
                    [c[0] for c in self.counters],
                    [c[1] for c in self.counters],
                    [c[2] for c in self.counters],
                ),
            )
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
