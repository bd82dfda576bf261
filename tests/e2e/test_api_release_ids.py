"""GET /v1/releases/{id}: a release is read by any id its sender named it by — UPC/EAN, GRid
(GRID:<GRid> or bare) or a DPID-namespaced proprietary id."""

from pathlib import Path

from tests.e2e.api_fixtures import Api

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "ern" / "versions"
XML = {"Content-Type": "application/xml"}
DPID = "PADPIDA2023061501M"


def _deliver(api: Api) -> dict[str, str]:
    api.ledger.upsert_party("meridian", "Meridian Digital", ["distributor"], "test", {"dpid": DPID})
    api.ledger.set_party_verification("meridian", "verified", "contract", "test")
    key = api.key("distributor", "meridian")
    for name in ("ern43_album.xml", "ern43_mix.xml"):
        r = api.client.post("/v1/deliveries", content=(FIXTURES / name).read_bytes(), headers={**key, **XML})
        assert r.status_code == 200, r.text
        assert [i["result"] for i in r.json()["items"]] == ["accepted"], r.text
    return key


def test_a_release_is_read_by_its_upc_grid_or_proprietary_id(sqlite_api: Api) -> None:
    _deliver(sqlite_api)
    admin = sqlite_api.key("admin")

    def get(ref: str) -> dict[str, object]:
        r = sqlite_api.client.get(f"/v1/releases/{ref}", headers=admin)
        assert r.status_code == 200, (ref, r.text)
        return r.json()  # type: ignore[no-any-return]

    album = get("5060070000015")
    assert album["upc"] == "5060070000015" and f"DPID:{DPID}:MRD-ALB-43" in album["identifiers"]
    assert get(f"DPID:{DPID}:MRD-ALB-43") == album
    mix = get("GRID:A12425GMRD07000018")
    assert mix["upc"] == "GRID:A12425GMRD07000018"
    assert get("A12425GMRD07000018") == mix == get(f"DPID:{DPID}:MRD-MIX-43")
    assert mix["identifiers"] == sorted(["GRID:A12425GMRD07000018", f"DPID:{DPID}:MRD-MIX-43"])


def test_a_wrong_id_is_a_clear_422_and_an_unknown_one_404(sqlite_api: Api) -> None:
    _deliver(sqlite_api)
    admin = sqlite_api.key("admin")
    bad_grid = sqlite_api.client.get("/v1/releases/A12425GMRD07000019", headers=admin)
    assert bad_grid.status_code == 422 and "GRid" in bad_grid.text
    bad_upc = sqlite_api.client.get("/v1/releases/5060070000016", headers=admin)
    assert bad_upc.status_code == 422 and "check digit" in bad_upc.text
    assert sqlite_api.client.get(f"/v1/releases/DPID:{DPID}:NOPE-1", headers=admin).status_code == 404
    assert sqlite_api.client.get("/v1/releases/GRID:A1-2425G-ABC1234002-M", headers=admin).status_code == 404


def test_the_sender_takes_a_release_down_by_its_grid(sqlite_api: Api) -> None:
    key = _deliver(sqlite_api)
    body = {"territories": ["DE"], "reason": "licence ended", "effective_at": "2026-05-01T00:00:00Z"}
    r = sqlite_api.client.post("/v1/releases/A12425GMRD07000018/takedowns", json=body, headers=key)
    assert r.status_code == 201, r.text
    release = sqlite_api.client.get(f"/v1/releases/DPID:{DPID}:MRD-MIX-43", headers=key).json()
    assert [c["territories"] for c in release["availability"]] == [["DE"]]
