"""POST /v1/deliveries: a distributor uploads ERN or CSV and reads the report in the answer."""

from pathlib import Path

from tests.e2e.api_fixtures import Api

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "ern"
XML = {"Content-Type": "application/xml"}


def _distributor(api: Api, verified: bool) -> dict[str, str]:
    api.ledger.upsert_party(
        "northern", "Northern Lights Distribution", ["distributor"], "test", {"dpid": "PADPIDA2014120301"}
    )
    if verified:
        api.ledger.set_party_verification("northern", "verified", "contract", "test")
    return api.key("distributor", "northern")


def test_a_verified_distributor_uploads_ern_and_it_goes_live_once(sqlite_api: Api) -> None:
    key = _distributor(sqlite_api, verified=True)
    body = (FIXTURES / "ern43_single.xml").read_bytes()
    first = sqlite_api.client.post("/v1/deliveries", content=body, headers={**key, **XML})
    assert first.status_code == 200, first.text
    assert [(i["result"], i["status"]) for i in first.json()["items"]] == [("accepted", "live")]
    again = sqlite_api.client.post("/v1/deliveries", content=body, headers={**key, **XML})
    assert [i["result"] for i in again.json()["items"]] == ["unchanged"]
    assert again.json()["position"] == first.json()["position"]


def test_uploads_are_refused_for_other_senders_unsafe_xml_and_other_roles(sqlite_api: Api) -> None:
    key = _distributor(sqlite_api, verified=False)
    bomb = sqlite_api.client.post(
        "/v1/deliveries", content=(FIXTURES / "malicious_billion_laughs.xml").read_bytes(), headers={**key, **XML}
    )
    assert bomb.status_code == 422 and "entity expansion" in bomb.json()["detail"]
    other = (FIXTURES / "ern382_album.xml").read_bytes()  # sent by another DPID
    assert sqlite_api.client.post("/v1/deliveries", content=other, headers={**key, **XML}).status_code == 403
    party_key = sqlite_api.key("party", "northern")
    single = (FIXTURES / "ern43_single.xml").read_bytes()
    assert sqlite_api.client.post("/v1/deliveries", content=single, headers={**party_key, **XML}).status_code == 403
    pending = sqlite_api.client.post("/v1/deliveries", content=single, headers={**key, **XML})
    assert [i["status"] for i in pending.json()["items"]] == ["in_review"]
