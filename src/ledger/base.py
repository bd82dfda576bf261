"""LedgerBase: the application core every command mixin builds on — store wiring, lookups, the log.

The command mixins (catalogue, rights, accounting, pricing, audio) subclass it, and
`RoyaltyLedger` combines them; so each mixin is typed against the real core, not a cycle.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any, TypeVar, cast
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Application, ProcessingEvent
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import JSONTranscoder, Notification, Transcoding
from eventsourcing.persistence import Recording as LogRecording

from ledger.domain.alias import IdentifierAlias
from ledger.domain.ids import alias_id, party_id, recording_id, release_id, split_agreement_id, work_id
from ledger.domain.party import DomainError, Party
from ledger.domain.recording import Recording
from ledger.domain.release import Release
from ledger.domain.split_agreement import SplitAgreement
from ledger.domain.text import storable_problem
from ledger.domain.work import Work
from ledger.store.config import StoreConfig

if TYPE_CHECKING:
    from ledger.pending import Pending

A = TypeVar("A", bound=Aggregate)
Clock = Callable[[], datetime]


class NotFound(DomainError):
    """A referenced aggregate does not exist."""


class DateAsISO(Transcoding):
    type = date
    name = "date_iso"

    def encode(self, obj: date) -> str:
        return obj.isoformat()

    def decode(self, data: str) -> date:
        return date.fromisoformat(data)


def system_clock() -> datetime:
    return datetime.now(tz=UTC)


class LedgerBase(Application[UUID]):
    """Store wiring, lookups by natural key, and bulk reads of the one log."""

    def __init__(
        self, config: StoreConfig | None = None, *, clock: Clock = system_clock, env: dict[str, str] | None = None
    ) -> None:
        self.config = config or StoreConfig.from_env()
        self.clock = clock
        super().__init__(env if env is not None else self.config.eventsourcing_env())

    def register_transcodings(self, transcoder: JSONTranscoder) -> None:
        super().register_transcodings(transcoder)
        transcoder.register(DateAsISO())

    def _record(self, processing_event: ProcessingEvent[UUID]) -> list[LogRecording[UUID]]:
        """The last line before the log: no event may hold text the log cannot keep for good.

        Every way in checks its fields by kind first (ledger.domain.text); this refuses what
        slipped past any of them — a control character other than TAB/LF/CR, or an unpaired
        surrogate, in any field — so no read model ever meets an event it cannot store.
        """
        for event in processing_event.events:
            fields = {k: v for k, v in vars(event).items() if k != "originator_id"}
            problem = storable_problem(fields)
            if problem is not None:
                raise problem
        return super()._record(processing_event)

    # --- lookups -------------------------------------------------------------------------

    def _get(self, cls: type[A], aggregate_id: UUID, what: str) -> A:
        try:
            aggregate: Any = self.repository.get(aggregate_id)
        except AggregateNotFoundError:
            raise NotFound(f"{what}: not found") from None
        assert isinstance(aggregate, cls)
        return aggregate

    def _exists(self, aggregate_id: UUID) -> bool:
        return aggregate_id in self.repository

    def get_party(self, key: str) -> Party:
        return self._get(Party, party_id(key), f"party {key}")

    def get_work(self, key: str) -> Work:
        return self._get(Work, work_id(key), f"work {key}")

    def get_recording(self, isrc: str) -> Recording:
        return self._get(Recording, recording_id(isrc), f"recording {isrc}")

    def get_release(self, upc: str) -> Release:
        return self._get(Release, release_id(upc), f"release {upc}")

    def find_release(self, key: str) -> Release:
        """The release filed under `key` (a UPC, "GRID:…" or a proprietary "NS:…:id"), or the one
        `key` is an alias of: a release is found by any id it was ever delivered with."""
        if not self._exists(release_id(key)):
            aliased = alias_id("release", key)
            if self._exists(aliased):
                alias = self._get(IdentifierAlias, aliased, f"release alias {key}")
                return self.get_release(alias.key)
        return self.get_release(key)

    def get_split(self, right: str, subject_key: str) -> SplitAgreement:
        return self._get(SplitAgreement, split_agreement_id(right, subject_key), f"{right} split of {subject_key}")

    def find_split(self, right: str, subject_key: str) -> SplitAgreement | None:
        try:
            return self.get_split(right, subject_key)
        except NotFound:
            return None

    def require_parties(self, keys: Sequence[str]) -> None:
        missing = [k for k in keys if not self._exists(party_id(k))]
        if missing:
            raise NotFound(f"unknown part{'y' if len(missing) == 1 else 'ies'}: {', '.join(missing)}")

    def _require_pending_parties(self, keys: list[str], pending: Pending) -> None:
        """Like require_parties, but parties created earlier in the same unit of work count."""
        missing = [k for k in dict.fromkeys(keys) if not pending.exists(party_id(k))]
        if missing:
            raise NotFound(f"unknown part{'y' if len(missing) == 1 else 'ies'}: {', '.join(missing)}")

    # --- the log ---------------------------------------------------------------------------

    def head_position(self) -> int:
        return self.recorder.max_notification_id() or 0

    def read_log(
        self,
        start: int = 1,
        *,
        stop: int | None = None,
        topics: Sequence[str] = (),
        page: int = 5_000,
    ) -> Iterator[Notification]:
        """Every notification from `start` (inclusive), read in pages — never one at a time."""
        position = start
        while True:
            batch = self.recorder.select_notifications(position, page, stop=stop, topics=list(topics))
            yield from batch
            if len(batch) < page:
                return
            position = batch[-1].id + 1

    def log_of(self, originator_ids: Sequence[UUID], topics: Sequence[str] = ()) -> list[Notification]:
        """The events of these aggregates (optionally of these topics), with their positions,
        in log order: one query by the primary key (originator_id, originator_version), never
        a scan of the log."""
        if not originator_ids:
            return []
        wanted, recorder = set(topics), cast(Any, self.recorder)
        if self.config.backend == "sqlite":
            marks = ",".join("?" * len(originator_ids))
            with recorder.datastore.transaction(commit=False) as c:
                c.execute(
                    f"SELECT rowid, originator_id, originator_version, topic, state FROM stored_events "
                    f"WHERE originator_id IN ({marks}) ORDER BY rowid",
                    [i.hex for i in originator_ids],
                )
                rows = [(r[0], recorder.convert_originator_id(r[1]), r[2], r[3], bytes(r[4])) for r in c.fetchall()]
        else:
            with recorder.datastore.get_connection() as conn, conn.cursor() as curs:
                curs.execute(
                    "SELECT notification_id, originator_id, originator_version, topic, state FROM stored_events "
                    "WHERE originator_id = ANY(%s::uuid[]) ORDER BY notification_id",
                    [list(originator_ids)],
                )
                rows = [
                    (r["notification_id"], r["originator_id"], r["originator_version"], r["topic"], bytes(r["state"]))
                    for r in curs.fetchall()
                ]
        return [
            Notification(id=p, originator_id=o, originator_version=v, topic=t, state=st)
            for p, o, v, t, st in rows
            if not wanted or t in wanted
        ]

    def decode(self, notification: Notification) -> Any:
        return self.mapper.to_domain_event(notification)

    def topics_of(self, *event_classes: type) -> list[str]:
        from eventsourcing.utils import get_topic

        return [get_topic(cls) for cls in event_classes]

    def aggregate_ids_with(self, event_class: type) -> list[UUID]:
        """Ids of aggregates that recorded `event_class` (e.g. every Recording.Registered)."""
        return [n.originator_id for n in self.read_log(topics=self.topics_of(event_class))]  # type: ignore[misc]
