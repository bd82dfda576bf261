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

from psycopg.errors import UniqueViolation

from ledger.usage.keys import PROBE, KeyspaceFull, pair_key, usage_key

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
_SQLITE_COLS = "position, batch_id, " + ", ".join(LINE_COLUMNS) + ", pair_last"
# The lean PostgreSQL table (migration 0040): 64-bit keys, bytea hashes, no batch id.
_PG_COLUMNS = (
    ("position", "int8"),
    ("usage_key", "int8"),
    ("occurred_at_us", "int8"),
    ("gross_micros", "int8"),
    ("pair_key", "int8"),
    ("pricing_version", "int4"),
    ("play_number", "int4"),
    ("seconds_played", "int4"),
    ("line_no", "int2"),
    ("counted", "bool"),
    ("pair_last", "bool"),
    ("listener_hash", "bytea"),
    ("payload_sha256", "bytea"),
    ("source", "text"),
    ("usage_id", "text"),
    ("kind", "text"),
    ("isrc", "text"),
    ("upc", "text"),
    ("territory", "text"),
    ("currency", "text"),
    ("pricing_model", "text"),
    ("refund_of", "text"),
)
PG_COPY = f"COPY usage_rows ({', '.join(c for c, _ in _PG_COLUMNS)}) FROM STDIN (FORMAT BINARY)"
PG_TYPES = [t for _, t in _PG_COLUMNS]
# LINE_COLUMNS as stored on each backend (the hashes as hex text, as the digest reads them).
PG_LINE_SELECT = ", ".join(
    f"encode({c}, 'hex')" if c in ("listener_hash", "payload_sha256") else c for c in LINE_COLUMNS
)
SQLITE_CACHE_KIB = 256 * 1024
_WATERMARK = "SELECT COALESCE(MAX(position), 0) AS w FROM usage_rows"
# PostgreSQL: the table's position index is BRIN (no MAX by index); one row per batch instead.
_PG_WATERMARK = "SELECT COALESCE(MAX(position), 0) AS w FROM usage_positions"


PG_COLUMN_NAMES = ", ".join(c for c, _ in _PG_COLUMNS)


def postgres_row(position: int, line: Sequence[Any], last: bool = False, key: int | None = None) -> tuple[Any, ...]:
    """A line (LINE_COLUMNS order, hashes as hex) as the lean table's row (PG_COLUMN_NAMES order):
    its usage key (the first of its probe range unless `key` says otherwise), the pair key on
    the batch's last counted play of a pair, the hashes as bytes."""
    s, u, n, k, at, i, e, lh, t, sec, c, g, m, v, pn, o, h, r = line
    listener = bytes.fromhex(lh)
    return (
        position,
        usage_key(s, u) if key is None else key,
        at,
        g,
        pair_key(listener, i) if last else None,
        v,
        pn,
        sec,
        n,
        o,
        last,
        listener,
        bytes.fromhex(h),
        s,
        u,
        k,
        i,
        e,
        t,
        c,
        m,
        r,
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

    def existing_payloads(self, source: str, usage_ids: Sequence[str]) -> dict[str, str]:
        if not usage_ids:
            return {}
        if self.backend == "sqlite":
            rows = self.query(
                "SELECT usage_id, payload_sha256 FROM usage_rows WHERE source = ? AND line_no = 0 "
                "AND usage_id IN (SELECT value FROM json_each(?))",
                "",
                (source, json.dumps(list(usage_ids))),
            )
            return {r[0]: r[1] for r in rows}
        # One range probe of the primary key per id (its key and the keys a colliding id may
        # have taken), the full id re-checked.
        rows = self.query(
            "",
            "SELECT u.usage_id, encode(u.payload_sha256, 'hex') FROM unnest(%b::int8[], %b::text[]) AS p(k, id) "
            "CROSS JOIN LATERAL (SELECT usage_id, payload_sha256 FROM usage_rows "
            f"WHERE usage_key BETWEEN p.k AND p.k + {PROBE - 1} AND line_no = 0 AND source = %s "
            "AND usage_id = p.id LIMIT 1) AS u",
            ([usage_key(source, i) for i in usage_ids], list(usage_ids), source),
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
        # PostgreSQL: one descent of (pair_key, play_number) WHERE pair_last per pair, the full
        # listener hash and ISRC re-checked on the row (another pair with the same key is
        # stepped over).
        hashes = [bytes.fromhex(pair[0]) for pair in asked]
        isrcs = [pair[1] for pair in asked]
        rows = self.query(
            "",
            "SELECT p.n, u.play_number FROM unnest(%b::int8[], %b::bytea[], %b::text[]) WITH ORDINALITY "
            "AS p(k, l, i, n) CROSS JOIN LATERAL (SELECT play_number FROM usage_rows "
            "WHERE pair_key = p.k AND pair_last AND listener_hash = p.l AND isrc = p.i "
            "ORDER BY play_number DESC LIMIT 1) AS u",
            ([pair_key(h, i) for h, i in zip(hashes, isrcs, strict=True)], hashes, isrcs),
        )
        return {asked[int(r[0]) - 1]: int(r[1]) for r in rows if r[1]}

    def sale_lines(self, source: str, usage_ids: Sequence[str]) -> dict[str, list[tuple[Any, ...]]]:
        """Lines of earlier sales a refund names: usage_id → [(line_no, isrc, upc, currency, gross)]."""
        if not usage_ids:
            return {}
        if self.backend == "sqlite":
            rows = self.query(
                "SELECT usage_id, line_no, isrc, upc, currency, gross_micros, kind FROM usage_rows "
                "WHERE source = ? AND usage_id IN (SELECT value FROM json_each(?)) "
                "ORDER BY usage_id, line_no",
                "",
                (source, json.dumps(list(usage_ids))),
            )
        else:
            unique = list(dict.fromkeys(usage_ids))
            rows = self.query(
                "",
                "SELECT u.usage_id, u.line_no, u.isrc, u.upc, u.currency, u.gross_micros, u.kind "
                "FROM unnest(%b::int8[], %b::text[]) AS p(k, id) CROSS JOIN LATERAL (SELECT * FROM usage_rows "
                f"WHERE usage_key BETWEEN p.k AND p.k + {PROBE - 1} AND source = %s AND usage_id = p.id) AS u "
                "ORDER BY u.usage_id, u.line_no",
                ([usage_key(source, i) for i in unique], unique, source),
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
            f"INSERT INTO usage_rows ({_SQLITE_COLS}) VALUES ({prefix}{', '.join('?' * 19)})",
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

    def _keys(self) -> dict[tuple[str, str], int]:
        """Each id's 64-bit key; two ids of this batch with the same key (never seen, but
        possible) are left to `_probe`, through the primary key's refusal."""
        keys: dict[tuple[str, str], int] = {}
        for line in self.lines:
            if line[2] == 0:
                keys[(line[0], line[1])] = usage_key(line[0], line[1])
        return keys

    def _probe(self, cursor: Any) -> dict[tuple[str, str], int]:
        """Keys by linear probing, under the log's write lock: refuse (the primary key's error)
        an id that is stored already, else give each id the first key of its range that no
        stored or earlier id of the batch holds."""
        ids = list(dict.fromkeys((line[0], line[1]) for line in self.lines))
        starts = [usage_key(s, u) for s, u in ids]
        cursor.execute(
            "SELECT u.usage_key, u.source, u.usage_id FROM unnest(%b::int8[]) AS p(k) CROSS JOIN LATERAL "
            f"(SELECT usage_key, source, usage_id FROM usage_rows WHERE usage_key BETWEEN p.k AND p.k + {PROBE - 1} "
            "AND line_no = 0) AS u",
            (sorted(set(starts)),),
        )
        held = {int(r["usage_key"]): (r["source"], r["usage_id"]) for r in cursor.fetchall()}
        keys: dict[tuple[str, str], int] = {}
        for key_id, start in zip(ids, starts, strict=True):
            if key_id in held.values():
                raise UniqueViolation(f"usage id {key_id[1]!r} of source {key_id[0]!r} is stored already")
            for key in range(start, start + PROBE):
                if key not in held:
                    held[key] = key_id
                    keys[key_id] = key
                    break
            else:
                raise KeyspaceFull(f"{PROBE} stored ids share the 64-bit key of usage id {key_id[1]!r}")
        return keys

    def _copy(self, cursor: Any, position: int, keys: dict[tuple[str, str], int]) -> None:
        with cursor.copy(PG_COPY) as copy:
            copy.set_types(PG_TYPES)
            for line, last in zip(self.lines, self._last(), strict=True):
                copy.write_row(postgres_row(position, line, last, keys[(line[0], line[1])]))

    def write_postgres(self, cursor: Any, positions: Sequence[int]) -> None:
        position, bid = self._position(positions), self.batch_hex
        cursor.execute(_PG_WATERMARK)
        self._check(int(cursor.fetchone()["w"]))
        if self.lines:
            keys = self._keys()
            try:
                with cursor.connection.transaction():  # a savepoint: a refused key is looked at below
                    self._copy(cursor, position, keys)
            except UniqueViolation:
                # A key is taken: by one of these ids (a duplicate — the caller looks every id up
                # and prepares the batch again) or, rarely, by another id whose 64-bit key is the
                # same (then the next free key of its probe range, found under the log's lock).
                keys = self._probe(cursor)
                self._copy(cursor, position, keys)
            cursor.execute("INSERT INTO usage_positions (position) VALUES (%s)", (position,))
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
