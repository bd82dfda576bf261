"""Splits, disputes, takedowns and ownership trails through the API, as parties and handlers."""

from __future__ import annotations

from tests.e2e.api_fixtures import ISRC_A, UPC_A, Api, seed_catalogue


def test_a_split_change_activates_when_every_affected_party_accepts(api: Api) -> None:
    admin = api.key("admin")
    seed_catalogue(api, admin)
    alice = api.key("party", "alice")
    carol_shares = {"alice": 600_000, "label": 300_000, "carol": 100_000}
    r = api.client.post(
        "/v1/parties/alice/split-proposals",
        json={
            "right": "master",
            "subject_key": ISRC_A,
            "shares": carol_shares,
            "effective_from": "2026-03-01T00:00:00Z",
            "reason": "feature",
        },
        headers=alice,
    )
    assert r.status_code == 201, r.text
    proposed = r.json()
    assert proposed["version"] == 2 and proposed["status"] == "proposed"
    label = api.key("party", "label")
    r = api.client.post(
        "/v1/parties/label/split-acceptances",
        json={"right": "master", "subject_key": ISRC_A, "version": 2},
        headers=label,
    )
    assert r.json()["status"] == "proposed"
    carol = api.key("party", "carol")
    r = api.client.post(
        "/v1/parties/carol/split-acceptances",
        json={"right": "master", "subject_key": ISRC_A, "version": 2},
        headers=carol,
    )
    assert r.status_code == 201 and r.json()["status"] == "active"
    history = api.client.get(
        f"/v1/splits/master/{ISRC_A}", params={"min_position": r.json()["position"]}, headers=carol
    ).json()
    v2 = history["versions"][1]
    assert v2["shares"] == carol_shares and v2["status"] == "active"
    assert [a["party"] for a in v2["acceptances"]] == ["alice", "label", "carol"]
    positions = [v2["proposed"]["position"], *(a["position"] for a in v2["acceptances"]), v2["activation"]["position"]]
    assert positions == sorted(positions)
    assert v2["activation"]["actor"].endswith("/party/carol")


def test_a_party_cannot_propose_a_split_it_has_no_part_in(api: Api) -> None:
    admin = api.key("admin")
    seed_catalogue(api, admin)
    carol = api.key("party", "carol")
    r = api.client.post(
        "/v1/parties/carol/split-proposals",
        json={
            "right": "master",
            "subject_key": ISRC_A,
            "shares": {"label": 1_000_000},
            "effective_from": "2026-03-01T00:00:00Z",
        },
        headers=carol,
    )
    assert r.status_code == 403


def test_dispute_opened_resolved_and_traced(api: Api) -> None:
    admin = api.key("admin")
    seed_catalogue(api, admin)
    carol = api.key("party", "carol")
    r = api.client.post(
        "/v1/parties/carol/disputes",
        json={
            "right": "master",
            "subject_key": ISRC_A,
            "claimed_ppm": 200_000,
            "effective_from": "2026-01-01T00:00:00Z",
            "statement": "I played on it",
            "respondent": "alice",
        },
        headers=carol,
    )
    assert r.status_code == 201, r.text
    dispute = r.json()["dispute"]
    # carol is neither credited on the recording nor a holder: no standing, so pending.
    assert dispute["status"] == "pending" and dispute["standing"] is None
    assert dispute["escrow_account"].startswith("escrow:")
    path = f"/v1/disputes/{dispute['dispute_id']}"
    assert api.client.get(path, headers=api.key("party", "bob")).status_code == 404
    assert api.client.get(path, headers=api.key("party", "alice")).status_code == 200
    handler = api.key("dispute_handler")
    r = api.client.post(f"{path}/resolution", json={"outcome": "upheld", "note": "ok"}, headers=handler)
    assert r.status_code == 422 and "pending" in r.json()["detail"]
    assert api.client.post(f"{path}/admission", json={"reason": "session sheet"}, headers=carol).status_code == 403
    r = api.client.post(f"{path}/admission", json={"reason": "session sheet shows carol"}, headers=handler)
    assert r.status_code == 200, r.text
    admitted = r.json()["dispute"]
    assert (admitted["status"], admitted["standing"], admitted["decision_note"]) == (
        "open",
        "operator",
        "session sheet shows carol",
    )
    listed = api.client.get("/v1/disputes", params={"status": "open"}, headers=handler).json()
    assert [d["dispute_id"] for d in listed] == [dispute["dispute_id"]]
    assert api.client.get("/v1/disputes", headers=api.key("party", "bob")).json() == []
    assert (
        api.client.post(f"{path}/resolution", json={"outcome": "upheld", "note": "ok"}, headers=carol).status_code
        == 403
    )
    r = api.client.post(
        f"{path}/resolution",
        json={
            "outcome": "partial",
            "awarded_ppm": 100_000,
            "note": "session player",
            "corrected_shares": {"alice": 600_000, "label": 300_000, "carol": 100_000},
        },
        headers=handler,
    )
    assert r.status_code == 200, r.text
    assert r.json()["dispute"]["outcome"] == "partial"
    assert api.client.get("/v1/disputes", params={"status": "open"}, headers=handler).json() == []
    rec = api.client.get(f"/v1/recordings/{ISRC_A}", headers=carol).json()
    assert rec["splits_in_force"]["master"]["shares"]["carol"] == 100_000
    trail = api.client.get(f"/v1/recordings/{ISRC_A}/ownership-trail", headers=handler).json()
    events = [(e["subject"].split(" ")[0], e["event"]) for e in trail["entries"]]
    assert events == [
        ("recording", "Registered"),
        ("master", "SplitVersionProposed"),
        ("master", "SplitVersionActivated"),
        ("dispute", "Opened"),
        ("dispute", "Admitted"),
        ("dispute", "Resolved"),
        ("master", "SplitVersionProposed"),
        ("master", "SplitVersionActivated"),
    ]
    positions = [e["position"] for e in trail["entries"]]
    assert positions == sorted(positions) and all(e["actor"] for e in trail["entries"])


def test_takedowns_by_the_label_and_refused_to_others(api: Api) -> None:
    admin = api.key("admin")
    seed_catalogue(api, admin)
    body = {"territories": ["DE"], "reason": "licence ended", "effective_at": "2026-05-01T00:00:00Z"}
    bob = api.key("party", "bob")
    assert api.client.post(f"/v1/releases/{UPC_A}/takedowns", json=body, headers=bob).status_code == 403
    r = api.client.post(f"/v1/releases/{UPC_A}/takedowns", json=body, headers=api.key("party", "label"))
    assert r.status_code == 201
    [change] = r.json()["availability"]
    assert change["territories"] == ["DE"] and change["action"] == "takedown"
    r = api.client.post(f"/v1/recordings/{ISRC_A}/reinstatements", json=body, headers=admin)
    assert r.status_code == 201
    trail = api.client.get(f"/v1/recordings/{ISRC_A}/ownership-trail", headers=admin).json()
    subjects = {e["subject"]: e["event"] for e in trail["entries"][-2:]}
    assert subjects == {f"release {UPC_A}": "TakenDown", "recording": "Reinstated"}


def test_the_work_trail_lists_writer_changes_and_publishing_versions(api: Api) -> None:
    admin = api.key("admin")
    seed_catalogue(api, admin)
    r = api.client.post(
        "/v1/splits/publishing/song-a/versions",
        json={"shares": {"alice": 1_000_000}, "effective_from": "2026-01-01T00:00:00Z", "reason": "initial"},
        headers=admin,
    )
    assert r.status_code == 201, r.text
    writers = [{"party": "alice", "role": "composer"}, {"party": "bob", "role": "lyricist"}]
    api.client.put("/v1/works/song-a", json={"title": "Song A", "writers": writers}, headers=admin)
    trail = api.client.get("/v1/works/song-a/ownership-trail", headers=api.key("party", "bob")).json()
    assert [(e["subject"], e["event"]) for e in trail["entries"]] == [
        ("work", "Registered"),
        ("publishing split", "SplitVersionProposed"),
        ("publishing split", "SplitVersionActivated"),
        ("work", "DetailsUpdated"),
    ]
    assert trail["entries"][-1]["details"]["writers"] == writers
    assert api.client.get("/v1/works/song-a/ownership-trail", headers=api.key("party", "carol")).status_code == 404
