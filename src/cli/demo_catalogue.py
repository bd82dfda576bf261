"""The demo's catalogue: a small, realistic label world, delivered as files and imported.

The label world's accounts (platform, labels, the distributor, publishers, crew) are onboarded with
their identifiers; then 12 releases (albums, EPs, singles; 56 recordings, works with writers,
ISWCs and publishing shares, credits incl. featured artists, master splits, one release restricted
to four territories) are written under `var/demo-delivery/` as ERN 4.3 messages, one ERN 3.8.2
message and one catalogue CSV, delivered by the verified distributor and imported — the artists
and writers come into the ledger from those files. One more release, from a sender nobody has
verified yet, waits in review. Then the month's rights events: a split change in the middle of
the month, a back-dated correction, an ownership transfer, takedowns and an open dispute.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

from stdnum import ean

from cli.demo_delivery import DemoRelease, DemoTrack, DemoWork, Person, Sender, catalogue_csv, ern43, ern382
from ledger.application import RoyaltyLedger
from ledger.domain.identifiers import ipi_check_digits, iswc_check_digit
from ledger.domain.period import Period
from ledger.ingest.importer import ImportSummary, import_paths

ACTOR = "demo"
LABELS = [
    ("night-owl", "Night Owl Records", "label", "PADPIDA2024NIGHTOWL"),
    ("tidewater", "Tidewater Music", "label", "PADPIDA2024TIDEWATR"),
    ("indigo-dist", "Indigo Distribution", "distributor", "PADPIDA2024INDIGO01"),
]
PUBLISHERS = [("fugue-pub", "Fugue Publishing"), ("harbour-pub", "Harbour Songs")]
ARTISTS = [
    "Aria Lune",
    "The Quiet Foxes",
    "Mara Okafor",
    "Juno Vale",
    "Static Bloom",
    "Teodor Sand",
    "Lumen Choir",
    "Kofi Mensah",
    "Willa Reyes",
    "Paper Lanterns",
    "Nadia Brook",
    "Ossian Hart",
]
WRITERS = ["Ines Duarte", "Tom Ashgrove", "Leila Haddad", "Ruth Okoye", "Pavel Novak"]
CREW = [("sam-producer", "Sam Keel", "producer", "Producer"), ("eli-engineer", "Eli Marsh", "engineer", "Engineer")]
WORDS = [
    "Moth",
    "Harbour",
    "Lanterns",
    "Glass",
    "Tide",
    "Ember",
    "Northern",
    "Velvet",
    "Signal",
    "Orchard",
    "Salt",
    "Paper",
    "Winter",
    "Echo",
    "Hollow",
    "Copper",
    "Meadow",
    "Static",
]
UNVERIFIED = Sender("PADPIDA2025OPENMIC1", "Open Mic Uploads", "")


@dataclass
class DemoCatalogue:
    period: Period
    artists: list[str] = field(default_factory=list)
    recordings: list[str] = field(default_factory=list)
    releases: list[str] = field(default_factory=list)
    works: list[str] = field(default_factory=list)
    events: list[str] = field(default_factory=list)
    parties: int = 0
    delivery_dir: str = ""
    imported: dict[str, int] = field(default_factory=dict)
    in_review: list[str] = field(default_factory=list)


def slug(name: str) -> str:
    return name.lower().replace(" ", "-")


def make_upc(n: int) -> str:
    body = f"0{760000000 + n:010d}"
    return body + ean.calc_check_digit(body)


def make_iswc(n: int) -> str:
    digits = f"{310000000 + n:09d}"
    return f"T-{digits[:3]}.{digits[3:6]}.{digits[6:]}-{iswc_check_digit(digits)}"


def _ipi(n: int) -> str:
    ipi = f"{400000000 + n * 7919:09d}"
    return ipi + ipi_check_digits(ipi)


def delivery_dir(app: RoyaltyLedger) -> Path:
    """`var/demo-delivery/` beside a SQLite store, else under the working directory."""
    base = app.config.sqlite_path.parent if app.config.sqlite_path else Path("var")
    return base / "demo-delivery"


def build(app: RoyaltyLedger, period: Period, seed: int = 7) -> DemoCatalogue:
    rnd = random.Random(seed)
    demo = DemoCatalogue(period)
    _onboard(app)
    releases = _catalogue(demo, rnd)
    summary = _deliver(app, demo, releases)
    if not summary.ok:
        raise RuntimeError(f"the demo delivery was not imported cleanly: {summary.to_json()}")
    for n, name in enumerate(ARTISTS):
        app.add_party_manager(slug(name), LABELS[n % 2][0], ACTOR)
    demo.parties = len(app.aggregate_ids_with(_party_registered()))
    counts = demo.imported
    demo.events.append(
        f"imported from {demo.delivery_dir}: {counts['files']} files (ERN 4.3, ERN 3.8.2, CSV), "
        f"{counts['accepted']} releases, {demo.parties} parties in the ledger"
    )
    demo.events.append(
        f"in review (unverified sender {UNVERIFIED.name}): {', '.join(demo.in_review)} — see `royalty review list`"
    )
    _month_events(app, demo)
    return demo


def _party_registered() -> type:
    from ledger.domain.party import Party

    return Party.Registered  # type: ignore[attr-defined, no-any-return]


def _onboard(app: RoyaltyLedger) -> None:
    """The accounts that exist before any delivery: signed up, with their identifiers."""
    app.upsert_party("coop", "Resonant Co-op (platform)", ["platform"], ACTOR)
    for key, name, kind, dpid in LABELS:
        app.upsert_party(key, name, [kind], ACTOR, {"dpid": dpid})
    for n, (key, name) in enumerate(PUBLISHERS):
        app.upsert_party(key, name, ["publisher"], ACTOR, {"ipi": _ipi(90 + n)})
    for key, name, kind, _role in CREW:
        app.upsert_party(key, name, [kind], ACTOR)
    app.set_party_verification("indigo-dist", "verified", "contract signed, KYC passed", ACTOR)
    app.set_party_verification("night-owl", "verified", "member label since 2024", ACTOR)


def _people() -> tuple[dict[str, Person], dict[str, Person]]:
    people = {name: Person(name) for name in ARTISTS}
    people |= {name: Person(name, ipi=_ipi(n)) for n, name in enumerate(WRITERS)}
    orgs = {key: Person(name, dpid=dpid) for key, name, _kind, dpid in LABELS}
    orgs |= {key: Person(name, ipi=_ipi(90 + n)) for n, (key, name) in enumerate(PUBLISHERS)}
    orgs |= {key: Person(name) for key, name, _kind, _role in CREW}
    return people, orgs


def _catalogue(demo: DemoCatalogue, rnd: random.Random) -> list[DemoRelease]:
    people, orgs = _people()
    layout = [("Album", 9)] * 4 + [("EP", 4)] * 4 + [("Single", 1)] * 4
    crew = tuple((orgs[key], role) for key, _name, _kind, role in CREW)
    releases, track = [], 0
    for r, (rtype, ntracks) in enumerate(layout):
        artist, label = people[ARTISTS[r]], orgs[LABELS[r % 2][0]]
        released = date(2025, 3, 1) + timedelta(days=37 * r)
        tracks = []
        for t in range(ntracks):
            track += 1
            title = f"{rnd.choice(WORDS)} {rnd.choice(WORDS)}"
            work = _work(demo, track, title, rnd, people, orgs, csv=rtype == "Single") if track % 11 else None
            featured = people[ARTISTS[(r + 5) % len(ARTISTS)]] if t == 1 and rtype == "Album" else None
            master = ((artist, "40"), (label, "50"), (featured, "10")) if featured else ((artist, "50"), (label, "50"))
            tracks.append(
                DemoTrack(f"GBA2V26{track:05d}", title, artist, rnd.randint(150, 320), crew, master, featured, work)
            )
            demo.recordings.append(tracks[-1].isrc)
        territories = ("WW",) if r != 5 else ("GB", "IE", "US", "CA")
        releases.append(
            DemoRelease(
                make_upc(r + 1),
                f"{rnd.choice(WORDS)} {rtype.title()}",
                rtype,
                released,
                label,
                artist,
                tuple(tracks),
                territories,
            )
        )
        demo.releases.append(releases[-1].upc)
    demo.artists = [slug(a) for a in ARTISTS]
    return releases


def _work(
    demo: DemoCatalogue,
    n: int,
    title: str,
    rnd: random.Random,
    people: dict[str, Person],
    orgs: dict[str, Person],
    *,
    csv: bool,
) -> DemoWork:
    """Writers share half (the publisher the other half); the CSV template has no publisher column."""
    writers = [people[w] for w in rnd.sample(WRITERS, k=rnd.choice([1, 2, 2, 3]))]
    whole = 1_000_000 if csv else 500_000
    each, rest = divmod(whole, len(writers))
    shares = [(w, _pct(each + (1 if i < rest else 0))) for i, w in enumerate(writers)]
    if not csv:
        shares.append((orgs[PUBLISHERS[n % 2][0]], "50"))
    demo.works.append(make_iswc(n))
    return DemoWork(make_iswc(n), title, tuple(writers), tuple(shares))


def _pct(ppm: int) -> str:
    return f"{ppm // 10_000}.{ppm % 10_000:04d}"


def _deliver(app: RoyaltyLedger, demo: DemoCatalogue, releases: list[DemoRelease]) -> ImportSummary:
    """Write the delivery files, import them as the distributor sent them, and one unverified release."""
    folder = delivery_dir(app)
    folder.mkdir(parents=True, exist_ok=True)
    sent = app.clock() - timedelta(days=1)
    indigo = Sender("PADPIDA2024INDIGO01", "Indigo Distribution", sent.isoformat())
    for n, release in enumerate(releases[:8]):
        writer = ern382 if n == 2 else ern43
        (folder / f"{n + 1:02d}-{release.upc}.xml").write_text(writer(release, indigo, f"INDIGO-DEMO-{n + 1:03d}"))
    (folder / "09-singles.csv").write_text(catalogue_csv(releases[8:]))
    newcomer = Person("Rosa Vega")
    demo_track = DemoTrack("GBA2V2699001", "First Light", newcomer, 201, (), ((newcomer, "100"),))
    upload = DemoRelease(
        make_upc(99), "First Light", "Single", date(2025, 9, 5), Person("Rosa Vega Music"), newcomer, (demo_track,)
    )
    unverified = Sender(UNVERIFIED.dpid, UNVERIFIED.name, sent.isoformat())
    (folder / "10-unverified-sender.xml").write_text(ern43(upload, unverified, "OPENMIC-0001"))
    summary = import_paths(app, [folder], ACTOR, csv_sender="indigo-dist")
    demo.delivery_dir = str(folder)
    demo.imported = summary.counts()
    demo.in_review = [i.upc for i in summary.items if i.status == "in_review"]
    return summary


def _month_events(app: RoyaltyLedger, demo: DemoCatalogue) -> None:
    p = demo.period
    mid = p.start + timedelta(days=14)
    # A split change in the middle of the month: proposed by the artist, accepted by the label.
    isrc = demo.recordings[0]
    _agreement, version = app.propose_split(
        "master",
        isrc,
        {"aria-lune": 600_000, "night-owl": 400_000},
        mid,
        "aria-lune",
        ACTOR,
        reason="renegotiated after the first album recouped",
        by_operator=False,  # the artist acts for itself: a holder may propose
    )
    app.accept_split("master", isrc, version, "night-owl", "party:night-owl")
    demo.events.append(f"split change on {isrc} effective {mid:%Y-%m-%d}: Aria Lune 60 %, Night Owl 40 %")
    # A back-dated correction: a co-writer was missing from a work since the month began.
    work = demo.works[2]
    current = app.get_split("publishing", work).version_in_force(p.start)
    assert current is not None
    shares = dict(current["shares"])
    top = max(shares, key=lambda k: shares[k])
    shares[top] -= 100_000
    shares["ruth-okoye"] = shares.get("ruth-okoye", 0) + 100_000
    app.set_split(
        "publishing",
        work,
        shares,
        p.start,
        ACTOR,
        "back-dated correction: co-writer Ruth Okoye omitted from registration",
        kind="correction",
    )
    demo.events.append(f"back-dated correction on work {work} effective {p.start:%Y-%m-%d}")
    # A catalogue sale: Tidewater sells one master to Night Owl from the 1st of the month.
    sold = demo.recordings[9]
    held = app.get_split("master", sold).version_in_force(p.start)
    assert held is not None
    new = {k: v for k, v in held["shares"].items() if k != "tidewater"}
    new["night-owl"] = held["shares"]["tidewater"]
    _, v = app.transfer_ownership(
        "master", sold, new, p.start, "tidewater", "catalogue sale: Tidewater to Night Owl", ACTOR, by_operator=False
    )
    for party in app.get_split("master", sold).get_version(v)["required"]:
        if party not in app.get_split("master", sold).get_version(v)["accepted_by"]:
            app.accept_split("master", sold, v, party, f"party:{party}")
    demo.events.append(f"ownership transfer of {sold} master: Tidewater → Night Owl")
    # Takedowns: one recording in Germany from the 20th, one single worldwide from the 25th.
    app.take_down(
        "recording",
        demo.recordings[3],
        ["DE"],
        "rights dispute with a German sub-publisher",
        p.start + timedelta(days=19),
        ACTOR,
    )
    app.take_down("release", demo.releases[-1], ["WW"], "artist request", p.start + timedelta(days=24), ACTOR)
    demo.events.append(f"takedown of {demo.recordings[3]} in DE and of release {demo.releases[-1]} worldwide")
    # An open dispute: the producer claims 10 % of a master from the label.
    disputed = demo.recordings[4]
    dispute = app.open_dispute(
        "master",
        disputed,
        "sam-producer",
        100_000,
        p.start + timedelta(days=9),
        "producer points were agreed by email in 2024",
        ACTOR,
        respondent="night-owl",
        by_operator=False,  # the producer's credit on the recording gives it standing
    )
    demo.events.append(f"open dispute {dispute.id} on {disputed}: Sam Keel claims 10 % of the master")
