"""The demo's catalogue: a small, realistic label world, built deterministically.

24 parties, 12 releases (albums, EPs, singles), 56 recordings, works with writers and ISWCs,
credits, master and publishing splits; then the month's rights events: a split change in the
middle of the month, a back-dated correction, an ownership transfer, takedowns and an open dispute.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from stdnum import ean

from ledger.application import RoyaltyLedger
from ledger.domain.identifiers import iswc_check_digit
from ledger.domain.period import Period

ACTOR = "demo"
LABELS = [("night-owl", "Night Owl Records", "label"), ("tidewater", "Tidewater Music", "label"),
          ("indigo-dist", "Indigo Distribution", "distributor")]
PUBLISHERS = [("fugue-pub", "Fugue Publishing"), ("harbour-pub", "Harbour Songs")]
ARTISTS = ["Aria Lune", "The Quiet Foxes", "Mara Okafor", "Juno Vale", "Static Bloom",
           "Teodor Sand", "Lumen Choir", "Kofi Mensah", "Willa Reyes", "Paper Lanterns",
           "Nadia Brook", "Ossian Hart"]
WRITERS = ["Ines Duarte", "Tom Ashgrove", "Leila Haddad", "Ruth Okoye", "Pavel Novak"]
CREW = [("sam-producer", "Sam Keel", "producer"), ("eli-engineer", "Eli Marsh", "engineer")]
WORDS = ["Moth", "Harbour", "Lanterns", "Glass", "Tide", "Ember", "Northern", "Velvet", "Signal",
         "Orchard", "Salt", "Paper", "Winter", "Echo", "Hollow", "Copper", "Meadow", "Static"]


@dataclass
class DemoCatalogue:
    period: Period
    artists: list[str] = field(default_factory=list)
    recordings: list[str] = field(default_factory=list)
    releases: list[str] = field(default_factory=list)
    works: list[str] = field(default_factory=list)
    events: list[str] = field(default_factory=list)


def slug(name: str) -> str:
    return name.lower().replace(" ", "-")


def make_upc(n: int) -> str:
    body = f"0{760000000 + n:010d}"
    return body + ean.calc_check_digit(body)


def make_iswc(n: int) -> str:
    digits = f"{310000000 + n:09d}"
    return f"T-{digits[:3]}.{digits[3:6]}.{digits[6:]}-{iswc_check_digit(digits)}"


def build(app: RoyaltyLedger, period: Period, seed: int = 7) -> DemoCatalogue:
    rnd = random.Random(seed)
    demo = DemoCatalogue(period)
    _parties(app, demo)
    _releases(app, demo, rnd)
    _month_events(app, demo)
    return demo


def _parties(app: RoyaltyLedger, demo: DemoCatalogue) -> None:
    app.upsert_party("coop", "Resonant Co-op (platform)", ["platform"], ACTOR)
    for key, name, kind in LABELS + [(k, n, "publisher") for k, n in PUBLISHERS] + CREW:
        app.upsert_party(key, name, [kind], ACTOR)
    for n, name in enumerate(ARTISTS):
        app.upsert_party(slug(name), name, ["artist"], ACTOR)
        app.add_party_manager(slug(name), LABELS[n % 2][0], ACTOR)
        demo.artists.append(slug(name))
    for n, name in enumerate(WRITERS):
        ipi = f"{400000000 + n * 7919:09d}"
        from ledger.domain.identifiers import ipi_check_digits

        app.upsert_party(slug(name), name, ["writer"], ACTOR, {"ipi": ipi + ipi_check_digits(ipi)})
    app.set_party_verification("indigo-dist", "verified", "contract signed, KYC passed", ACTOR)
    app.set_party_verification("night-owl", "verified", "member label since 2024", ACTOR)


def _releases(app: RoyaltyLedger, demo: DemoCatalogue, rnd: random.Random) -> None:
    layout = [("album", 9)] * 4 + [("ep", 4)] * 4 + [("single", 1)] * 4
    track = 0
    for r, (rtype, ntracks) in enumerate(layout):
        artist = ARTISTS[r]
        label = LABELS[r % 2][0]
        released = date(2025, 3, 1) + timedelta(days=37 * r)
        isrcs = []
        for t in range(ntracks):
            track += 1
            isrc = f"GBA2V26{track:05d}"
            title = f"{rnd.choice(WORDS)} {rnd.choice(WORDS)}"
            work_key = _work(app, demo, track, title, rnd) if track % 11 else None
            featured = ARTISTS[(r + 5) % len(ARTISTS)] if t == 1 and rtype == "album" else None
            credits = [{"party": slug(artist), "role": "main_artist"},
                       {"party": "sam-producer", "role": "producer"},
                       {"party": "eli-engineer", "role": "engineer"}]
            if featured:
                credits.append({"party": slug(featured), "role": "featured_artist"})
            display = f"{artist} feat. {featured}" if featured else artist
            app.upsert_recording(isrc, title, display, rnd.randint(150, 320) * 1000, ACTOR,
                                 work_key=work_key, credits=credits)
            shares = {slug(artist): 500_000, label: 500_000}
            if featured:
                shares = {slug(artist): 400_000, label: 500_000, slug(featured): 100_000}
            app.set_split("master", isrc, shares, datetime.combine(released, datetime.min.time(), UTC),
                          ACTOR, "initial delivery", kind="initial")
            isrcs.append(isrc)
            demo.recordings.append(isrc)
        upc = make_upc(r + 1)
        territories = ["WW"] if r != 5 else ["GB", "IE", "US", "CA"]
        app.deliver_release(upc, f"{rnd.choice(WORDS)} {rtype.title()}", isrcs, released, ACTOR,
                            label_key=label, release_type=rtype, territories=territories,
                            delivered_by="indigo-dist")
        demo.releases.append(upc)


def _work(app: RoyaltyLedger, demo: DemoCatalogue, n: int, title: str, rnd: random.Random) -> str:
    writers = rnd.sample(WRITERS, k=rnd.choice([1, 2, 2, 3]))
    iswc = make_iswc(n)
    app.upsert_work(iswc, title, [{"party": slug(w), "role": "composer"} for w in writers], ACTOR,
                    iswc=iswc)
    publisher = PUBLISHERS[n % 2][0]
    pub_ppm = 500_000
    each, rest = divmod(1_000_000 - pub_ppm, len(writers))
    shares = {slug(w): each + (1 if i < rest else 0) for i, w in enumerate(writers)}
    shares[publisher] = pub_ppm
    app.set_split("publishing", iswc, shares, datetime(2025, 1, 1, tzinfo=UTC), ACTOR,
                  "initial registration", kind="initial")
    demo.works.append(iswc)
    return iswc


def _month_events(app: RoyaltyLedger, demo: DemoCatalogue) -> None:
    p = demo.period
    mid = p.start + timedelta(days=14)
    # A split change in the middle of the month: proposed by the artist, accepted by the label.
    isrc = demo.recordings[0]
    agreement, version = app.propose_split(
        "master", isrc, {"aria-lune": 600_000, "night-owl": 400_000}, mid, "aria-lune", ACTOR,
        reason="renegotiated after the first album recouped")
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
    app.set_split("publishing", work, shares, p.start, ACTOR,
                  "back-dated correction: co-writer Ruth Okoye omitted from registration",
                  kind="correction")
    demo.events.append(f"back-dated correction on work {work} effective {p.start:%Y-%m-%d}")
    # A catalogue sale: Tidewater sells one master to Night Owl from the 1st of the month.
    sold = demo.recordings[9]
    held = app.get_split("master", sold).version_in_force(p.start)
    assert held is not None
    new = {k: v for k, v in held["shares"].items() if k != "tidewater"}
    new["night-owl"] = held["shares"]["tidewater"]
    _, v = app.transfer_ownership("master", sold, new, p.start, "tidewater",
                                  "catalogue sale: Tidewater to Night Owl", ACTOR)
    for party in app.get_split("master", sold).get_version(v)["required"]:
        if party not in app.get_split("master", sold).get_version(v)["accepted_by"]:
            app.accept_split("master", sold, v, party, f"party:{party}")
    demo.events.append(f"ownership transfer of {sold} master: Tidewater → Night Owl")
    # Takedowns: one recording in Germany from the 20th, one single worldwide from the 25th.
    app.take_down("recording", demo.recordings[3], ["DE"], "rights dispute with a German sub-publisher",
                  p.start + timedelta(days=19), ACTOR)
    app.take_down("release", demo.releases[-1], ["WW"], "artist request", p.start + timedelta(days=24), ACTOR)
    demo.events.append(f"takedown of {demo.recordings[3]} in DE and of release {demo.releases[-1]} worldwide")
    # An open dispute: the producer claims 10 % of a master from the label.
    disputed = demo.recordings[4]
    dispute = app.open_dispute("master", disputed, "sam-producer", 100_000, p.start + timedelta(days=9),
                               "producer points were agreed by email in 2024", ACTOR,
                               respondent="night-owl")
    demo.events.append(f"open dispute {dispute.id} on {disputed}: Sam Keel claims 10 % of the master")
