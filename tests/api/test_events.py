"""GET /{campaignId}/events (issue 14): a code's full life read back over HTTP, newest first,
paginated, supreme only, in the original envelope; the actor is the token's subject and the
request id the correlation id. On the embedded store and on SecantusDB."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest

from code_console.core.audit import AuditTrail
from code_console.core.service import CodeService

from tests.api.conftest import data, error, hs256, running, settings_for
from tests.conftest import T0, secantus_store
from tests.stores import embedded_store

FILE = b"FAN-0001\nFAN-0002\n"


@pytest.fixture(params=["embedded", pytest.param("secantus", marks=pytest.mark.realserver)])
def audited_api(request, clock):
    store = embedded_store() if request.param == "embedded" else secantus_store(request.getfixturevalue("secantus"))
    service = CodeService(store, clock=clock, reserve_max_count=500)
    service.subscribe(AuditTrail(store, timedelta(days=3650)))
    with running(service, settings_for()) as api:
        yield api
    store.close()


def as_(subject: str, **claims) -> str:
    return hs256(sub=subject, **claims)


def test_a_codes_full_life_over_http(audited_api, clock):
    api = audited_api
    up = api.post("/CAMP/codes", as_("campaign-manager"), params={"type": "tm"}, content=FILE,
                  headers={"Content-Type": "text/csv", "X-Correlation-ID": "up-1"})
    assert up.status_code == 200, up.text
    clock.advance(minutes=2)
    first = api.get("/CAMP/reserve?count=2&type=tm", as_("verification-service"), headers={"Idempotency-Key": "hold-1", "X-Correlation-ID": "r-1"})
    assert data(first) == ["FAN-0001", "FAN-0002"]
    assert api.post("/CAMP/assign", as_("verification-service"), json={"codes": ["FAN-0002"]}).status_code == 200
    clock.advance(hours=25)
    second = api.get("/CAMP/reserve?count=1&type=tm", as_("verifier-b"), headers={"X-Correlation-ID": "r-2"})
    assert data(second) == ["FAN-0001"]
    second_id = second.headers["Reservation-Id"]
    clock.advance(minutes=1)
    stale = api.post("/CAMP/release", as_("support-desk"), json={"codes": ["FAN-0001"], "reserveId": "hold-1"}, headers={"X-Correlation-ID": "rel-1"})
    assert data(stale) == {"count": {"in": 1, "updated": 0}, "unchanged": {"held_by_another_reservation": ["FAN-0001"]}}
    clock.advance(minutes=1)
    assigned = api.post("/CAMP/assign", as_("verifier-b"), json={"codes": ["FAN-0001"], "reserveId": second_id}, headers={"X-Correlation-ID": "a-2"})
    assert assigned.status_code == 200

    got = api.get("/CAMP/events", as_("auditor"), params={"code": "FAN-0001"}, headers={"X-Correlation-ID": "ev-1"})
    assert got.status_code == 200 and got.json()["meta"]["correlationId"] == "ev-1"
    page = data(got)
    assert page["next"] is None
    assert [(e["kind"], e["actor"], e["channel"], e["requestId"], e["reserveId"], e["codes"]) for e in page["events"]] == [
        ("assigned", "verifier-b", "api", "a-2", second_id, {"FAN-0001": "assigned"}),
        ("released", "support-desk", "api", "rel-1", "hold-1", {"FAN-0001": "held_by_another_reservation"}),
        ("reserved", "verifier-b", "api", "r-2", second_id, {"FAN-0001": "reserved"}),
        ("reserved", "verification-service", "api", "r-1", "hold-1", {"FAN-0001": "reserved", "FAN-0002": "reserved"}),
        ("uploaded", "campaign-manager", "api", "up-1", None, {}),
    ]
    assert [e["at"] for e in page["events"]] == [
        (T0 + timedelta(hours=25, minutes=4)).isoformat(),
        (T0 + timedelta(hours=25, minutes=3)).isoformat(),
        (T0 + timedelta(hours=25, minutes=2)).isoformat(),
        (T0 + timedelta(minutes=2)).isoformat(),
        T0.isoformat(),
    ]
    assert page["events"][2]["details"] == {"asked": 1, "given": 1, "expired": [{"code": "FAN-0001", "reserveId": "hold-1"}]}
    assert page["events"][3]["key"] == "hold-1"
    assert page["events"][4]["details"] == {
        "source": "a text/csv request body", "sha256": hashlib.sha256(FILE).hexdigest(), "in": 2, "inserted": 2, "updated": 0,
    }


def test_pages_filters_and_refusals(audited_api, clock):
    api = audited_api
    api.post("/CAMP/codes", params={"type": "tm"}, content=FILE, headers={"Content-Type": "text/csv"})
    ids = []
    for _ in range(3):
        clock.advance(minutes=1)
        ids.append(api.get("/CAMP/reserve?count=1&type=tm").headers.get("Reservation-Id"))
    first = data(api.get("/CAMP/events", params={"limit": "2"}))
    assert [e["kind"] for e in first["events"]] == ["reserved", "reserved"] and first["next"] == first["events"][1]["id"]
    rest = data(api.get("/CAMP/events", params={"limit": "2", "before": first["next"]}))
    assert [e["kind"] for e in rest["events"]] == ["reserved", "uploaded"] and rest["next"] is None
    assert [e["reserveId"] for e in data(api.get("/CAMP/events", params={"reserveId": ids[0]}))["events"]] == [ids[0]]
    assert len(data(api.get("/CAMP/events", params={"since": (T0 + timedelta(minutes=2)).isoformat()}))["events"]) == 2
    assert data(api.get("/OTHER/events")) == {"events": [], "next": None}

    refused = api.get("/CAMP/events", hs256(isSupreme=False))
    assert refused.status_code == 403 and error(refused)["name"] == "supremeUserRequired"
    assert api.get("/CAMP/events", "not-a-token").status_code == 401
    for params, code in (
        ({"since": "yesterday"}, "invalid_since"),
        ({"limit": "0"}, "invalid_limit"),
        ({"before": "x"}, "invalid_cursor"),
        ({"code": ""}, "invalid_codes"),
    ):
        bad = api.get("/CAMP/events", params=params)
        assert bad.status_code == 400 and error(bad)["code"] == code, (params, bad.text)
