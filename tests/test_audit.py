"""The audit trail (core/audit.py): every change recorded beside the codes, with its actor, front
end, request id and the database's time, on every store (SQLite, mongomock, SecantusDB)."""

from __future__ import annotations

import hashlib
import io
import logging
from datetime import datetime, timedelta, timezone

import pytest

from code_console.core.audit import AuditTrail, EventRecord, code_timeline, parse_since
from code_console.core.errors import Cancelled, Conflict, InvalidInput
from code_console.core.models import Channel, Principal
from code_console.core.service import CodeService

from tests.conftest import T0, FakeClock

ALICE = Principal("alice", supreme=True, channel=Channel.CONSOLE)
VERIFIER = Principal("verification-service", supreme=True, channel=Channel.API, request_id="req-1")
BOB = Principal("bob", supreme=True, channel=Channel.CLI)
FILE = b"code\nA1\nA2\nA3\nA4\n"
RETENTION = timedelta(days=3650)


@pytest.fixture
def audited(store, clock) -> CodeService:
    service = CodeService(store, clock=clock, reservation_ttl=timedelta(hours=24))
    # Ten years: past the real date, so that a TTL monitor (mongomock's runs on every read)
    # leaves the fake clock's events alone.
    service.subscribe(AuditTrail(store, RETENTION))
    return service


def only(service, principal=ALICE, campaign="C1", **filters) -> EventRecord:
    events = service.history(principal, campaign, **filters).events
    assert len(events) == 1, events
    return events[0]


def test_upload_event_names_the_file_its_sha256_counts_and_warnings(audited, clock):
    data = b"code\nA1\nA2\n1.23457E+11\n"
    result = audited.upload_from_file(ALICE, "C1", "tm", io.BytesIO(data), source_name="batch1.csv")
    assert result.sha256 == hashlib.sha256(data).hexdigest()
    e = only(audited)
    assert e.to_dict() == {
        "id": e.id,
        "at": T0.isoformat(),
        "kind": "uploaded",
        "campaignId": "C1",
        "actor": "alice",
        "channel": "console",
        "requestId": None,
        "type": "tm",
        "reserveId": None,
        "key": None,
        "codes": {},
        "details": {
            "source": "batch1.csv",
            "sha256": hashlib.sha256(data).hexdigest(),
            "in": 3,
            "inserted": 3,
            "updated": 0,
            "warnings": [w.to_dict() for w in result.warnings],
        },
    }
    assert e.details["warnings"][0]["kind"] == "scientific_notation"
    assert e.expires == T0 + RETENTION
    assert e.id.startswith(f"{int(T0.timestamp() * 1000):013d}-")


def test_reserve_event_has_the_reservation_key_and_counts_asked_and_given(audited, clock):
    audited.upload_from_file(ALICE, "C1", "tm", io.BytesIO(FILE))
    clock.advance(minutes=1)
    r = audited.reserve(VERIFIER, "C1", "tm", 6, key="k-1")
    assert len(r.codes) == 4
    e = only(audited, kind="reserved")
    assert e.to_dict() == {
        "id": e.id,
        "at": (T0 + timedelta(minutes=1)).isoformat(),
        "kind": "reserved",
        "campaignId": "C1",
        "actor": "verification-service",
        "channel": "api",
        "requestId": "req-1",
        "type": "tm",
        "reserveId": "k-1",
        "key": "k-1",
        "codes": {"A1": "reserved", "A2": "reserved", "A3": "reserved", "A4": "reserved"},
        "details": {"asked": 6, "given": 4},
    }


def test_assign_event_has_per_code_outcomes(audited, clock):
    audited.upload_from_file(ALICE, "C1", "tm", io.BytesIO(FILE))
    r = audited.reserve(BOB, "C1", "tm", 2)
    audited.assign(BOB, "C1", [r.codes[0]])
    clock.advance(seconds=5)
    audited.assign(BOB, "C1", [r.codes[0], r.codes[1], "NOPE"], reserve_id=r.reserve_id)
    e = audited.history(BOB, "C1", kind="assigned").events[0]
    assert (e.kind, e.actor, e.channel, e.reserve_id, e.at) == ("assigned", "bob", "cli", r.reserve_id, T0 + timedelta(seconds=5))
    assert e.to_dict()["codes"] == {r.codes[1]: "assigned", "NOPE": "not_found", r.codes[0]: "already_assigned"}
    assert e.details == {"in": 3, "updated": 1}


def test_release_refused_for_a_code_another_reservation_holds(audited, clock):
    audited.upload_from_file(ALICE, "C1", "tm", io.BytesIO(b"A1\n"))
    first = audited.reserve(BOB, "C1", "tm", 1)
    clock.advance(hours=25)
    second = audited.reserve(VERIFIER, "C1", "tm", 1)
    assert second.codes == ["A1"]
    taken = audited.history(BOB, "C1", reserve_id=second.reserve_id).events[0]
    assert taken.details == {"asked": 1, "given": 1, "expired": [{"code": "A1", "reserveId": first.reserve_id}]}
    result = audited.release(BOB, "C1", ["A1"], reserve_id=first.reserve_id)
    assert result.updated == 0
    e = audited.history(BOB, "C1", kind="released").events[0]
    assert e.to_dict()["codes"] == {"A1": "held_by_another_reservation"}
    assert (e.reserve_id, e.details) == (first.reserve_id, {"in": 1, "updated": 0})


def test_release_of_a_whole_reservation(audited, clock):
    audited.upload_from_file(ALICE, "C1", "tm", io.BytesIO(FILE))
    r = audited.reserve(BOB, "C1", "tm", 3)
    audited.assign(BOB, "C1", [r.codes[0]])
    audited.release_reservation(ALICE, "C1", r.reserve_id)
    e = only(audited, kind="reservation_released")
    assert (e.actor, e.channel, e.reserve_id) == ("alice", "console", r.reserve_id)
    assert e.to_dict()["codes"] == {r.codes[1]: "released", r.codes[2]: "released", r.codes[0]: "already_assigned"}
    assert e.details == {"in": 3, "updated": 2}


def test_events_never_change_answers_or_documents(store, clock):
    """The same calls with and without the trail: same answers, same code documents."""
    plain = CodeService(store, clock=clock, rng=__import__("random").Random(1))
    plain.upload_from_file(ALICE, "P", "tm", io.BytesIO(FILE))
    r1 = plain.reserve(BOB, "P", "tm", 2, key="kp")
    a1 = plain.assign(BOB, "P", r1.codes + ["X"])
    before = [(s.code, s.reserved, s.assigned, s.reserve_id) for s in store.scan("P", 100)]
    audited = CodeService(store, clock=clock, rng=__import__("random").Random(1))
    audited.subscribe(AuditTrail(store, RETENTION))
    audited.upload_from_file(ALICE, "Q", "tm", io.BytesIO(FILE))
    r2 = audited.reserve(BOB, "Q", "tm", 2, key="kq")
    a2 = audited.assign(BOB, "Q", r2.codes + ["X"])
    after = [(s.code, s.reserved, s.assigned, s.reserve_id) for s in store.scan("Q", 100)]
    assert (r1.codes, a1) == (r2.codes, a2)
    assert [(c, rs, a, rid.replace("kp", "kq") if rid else rid) for c, rs, a, rid in before] == after
    assert plain.history(BOB, "P").events == []


def test_filters_and_pages_newest_first(audited, clock):
    audited.upload_from_file(ALICE, "C1", "tm", io.BytesIO(FILE))
    ids = []
    for _ in range(4):
        clock.advance(minutes=1)
        ids.append(audited.reserve(BOB, "C1", "tm", 1).reserve_id)
    page = audited.history(BOB, "C1", limit=2)
    assert [e.reserve_id for e in page.events] == [ids[3], ids[2]]
    page2 = audited.history(BOB, "C1", limit=2, before=page.next)
    assert [e.reserve_id for e in page2.events] == [ids[1], ids[0]]
    page3 = audited.history(BOB, "C1", limit=2, before=page2.next)
    assert [e.kind for e in page3.events] == ["uploaded"] and page3.next is None
    since = audited.history(BOB, "C1", since=(T0 + timedelta(minutes=3)).isoformat())
    assert [e.reserve_id for e in since.events] == [ids[3], ids[2]]
    assert [e.reserve_id for e in audited.history(BOB, "C1", since="30s").events] == [ids[3]]
    assert audited.history(BOB, "C2").events == []
    with pytest.raises(InvalidInput):
        audited.history(BOB, "C1", before="garbage")
    with pytest.raises(InvalidInput):
        audited.history(BOB, "C1", limit=0)


def test_a_codes_full_life_read_back_in_order(audited, clock):
    """Upload, reserve, expiry, reserve by another caller, a stale release refused, assign."""
    audited.upload_from_file(ALICE, "C1", "tm", io.BytesIO(b"A1\n"), source_name="batch1.csv")
    clock.advance(minutes=2)
    first = audited.reserve(BOB, "C1", "tm", 1)
    clock.advance(hours=25)
    second = audited.reserve(VERIFIER, "C1", "tm", 1)
    clock.advance(minutes=1)
    audited.release(BOB, "C1", ["A1"], reserve_id=first.reserve_id)
    clock.advance(minutes=1)
    audited.assign(VERIFIER, "C1", ["A1"], reserve_id=second.reserve_id)
    events = audited.history(ALICE, "C1", code="A1").events
    assert [(e.kind, e.actor, e.outcome("A1")) for e in events] == [
        ("assigned", "verification-service", "assigned"),
        ("released", "bob", "held_by_another_reservation"),
        ("reserved", "verification-service", "reserved"),
        ("reserved", "bob", "reserved"),
        ("uploaded", "alice", None),
    ]
    lines = audited.code_history(ALICE, "C1", "A1")
    assert [(line.at - T0, line.text, line.actor) for line in lines] == [
        (timedelta(0), f"uploaded from batch1.csv (sha256 {hashlib.sha256(b'A1' + bytes([10])).hexdigest()[:12]}, 1 code)", "alice"),
        (timedelta(minutes=2), f"reserved under {first.reserve_id}", "bob"),
        (timedelta(hours=24, minutes=2), f"hold {first.reserve_id} expired (TTL 24 h); the code is available again", None),
        (timedelta(hours=25, minutes=2), f"reserved under {second.reserve_id}, taking over expired hold {first.reserve_id}", "verification-service"),
        (timedelta(hours=25, minutes=3), f"release naming reserveId {first.reserve_id} refused: held by another reservation", "bob"),
        (timedelta(hours=25, minutes=4), f"assigned (reserveId {second.reserve_id})", "verification-service"),
    ]


def test_a_reupload_is_the_upload_a_codes_history_shows(audited, clock):
    audited.upload_from_file(ALICE, "C1", "tm", io.BytesIO(b"A1\n"), source_name="one.csv")
    clock.advance(hours=1)
    audited.upload_from_file(BOB, "C1", "tm", io.BytesIO(b"A1\nA2\n"), source_name="two.csv")
    clock.advance(hours=1)
    audited.upload_from_file(BOB, "C1", "tm", io.BytesIO(b"A3\n"), source_name="three.csv")
    events = audited.history(ALICE, "C1", code="A1").events
    assert [(e.details["source"], e.at - T0) for e in events] == [("two.csv", timedelta(hours=1))]


def test_retention_prunes_old_events(store):
    clock = FakeClock(datetime(2100, 1, 1, tzinfo=timezone.utc))  # after the real date: a TTL monitor keeps what is not expired
    service = CodeService(store, clock=clock)
    trail = AuditTrail(store, timedelta(days=1), prune_every=2)
    service.subscribe(trail)
    service.upload_from_file(ALICE, "C1", "tm", io.BytesIO(FILE))  # 1st record: prunes nothing
    clock.advance(days=2)
    service.reserve(BOB, "C1", "tm", 1)  # 2nd
    service.reserve(BOB, "C1", "tm", 1)  # 3rd: prunes what expired by now
    assert [e.kind for e in service.history(BOB, "C1").events] == ["reserved", "reserved"]


def test_a_failed_event_write_never_fails_the_change(store, clock, caplog):
    service = CodeService(store, clock=clock)
    service.upload_from_file(ALICE, "C1", "tm", io.BytesIO(FILE))

    class Broken:
        def record_event(self, record):
            raise RuntimeError("the events table is gone")

    service.subscribe(AuditTrail(Broken()))
    # Listen on the core's logger itself: an API test in this process may have configured the
    # `code_console` logger not to propagate to the root, where caplog listens by default.
    core_log = logging.getLogger("code_console.core")
    core_log.addHandler(caplog.handler)
    try:
        assert len(service.reserve(BOB, "C1", "tm", 2).codes) == 2
    finally:
        core_log.removeHandler(caplog.handler)
    assert "an observer failed on a reserved event" in caplog.text


def test_since_parses_times_dates_and_spans():
    now = lambda: T0  # noqa: E731
    assert parse_since("2h", now) == T0 - timedelta(hours=2)
    assert parse_since("7d", now) == T0 - timedelta(days=7)
    assert parse_since("2026-03-01T07:00:00Z", now) == T0 - timedelta(hours=1)
    assert parse_since("2026-03-01", now) == T0 - timedelta(hours=8)
    with pytest.raises(InvalidInput, match="invalid time 'yesterday'"):
        parse_since("yesterday", now)


def test_timeline_of_a_hold_still_running_has_no_expiry():
    e = EventRecord("x", "C1", T0, T0, "reserved", "bob", "cli", reserve_id="R", codes=("A",), outcomes=("reserved",))
    assert [line.text for line in code_timeline("A", [e], timedelta(hours=24), T0 + timedelta(hours=1))] == ["reserved under R"]
    later = code_timeline("A", [e], timedelta(hours=24), T0 + timedelta(hours=24))
    assert [line.text for line in later][-1] == "hold R expired (TTL 24 h); the code is available again"


def test_mongodb_events_collection_has_its_indexes_and_ttl(mongo_store, clock):
    """On SecantusDB: the four filters each read one index (no collection scan); `expires` is a TTL index."""
    info = mongo_store.events_collection.index_information()
    keys = {tuple(v["key"]): v for v in info.values()}
    assert keys[(("expires", 1),)]["expireAfterSeconds"] == 0
    for wanted in (
        (("campaign_id", 1), ("_id", 1)),
        (("campaign_id", 1), ("codes", 1), ("_id", 1)),
        (("campaign_id", 1), ("reserve_id", 1), ("_id", 1)),
        (("campaign_id", 1), ("kind", 1), ("_id", 1)),
    ):
        assert wanted in keys
    service = CodeService(mongo_store, clock=clock)
    service.subscribe(AuditTrail(mongo_store, RETENTION))
    service.upload_from_file(ALICE, "C1", "tm", io.BytesIO(FILE))
    r = service.reserve(BOB, "C1", "tm", 1)
    for flt in (
        {"campaign_id": "C1", "_id": {"$gte": "0"}},
        {"campaign_id": "C1", "codes": r.codes[0]},
        {"campaign_id": "C1", "reserve_id": r.reserve_id},
        {"campaign_id": "C1", "kind": "uploaded", "_id": {"$lt": "9"}},
    ):
        plan = str(mongo_store.events_collection.find(flt).sort("_id", -1).explain()["queryPlanner"]["winningPlan"])
        assert "IXSCAN" in plan and "COLLSCAN" not in plan, (flt, plan)


@pytest.mark.realserver
def test_the_trail_adds_one_insert_per_reserve_on_secantusdb(secantus):
    """Commands per reserve (pymongo command monitoring), without then with the trail: one
    `insert` more per call, nothing else (after the first record's pruning)."""
    import uuid

    from code_console.core.mongo import connect

    from bench.common import CommandCounter

    counter = CommandCounter()
    store = connect(secantus.uri, f"t_{uuid.uuid4().hex[:12]}", timeout_seconds=10, batch_timeout_seconds=60, event_listeners=[counter])
    store.prepare()
    plain = CodeService(store)
    plain.upload_from_file(ALICE, "C1", "tm", io.BytesIO("".join(f"K{i:04d}\n" for i in range(300)).encode()))
    audited = CodeService(store)
    audited.subscribe(AuditTrail(store))
    audited.reserve(BOB, "C1", "tm", 5)  # the trail's first record also prunes (then every 1,000th)

    def per_call(service) -> list[dict]:
        out = []
        for _ in range(10):
            counter.reset()
            assert len(service.reserve(BOB, "C1", "tm", 5).codes) == 5
            out.append(dict(counter.names))
        return out

    assert per_call(plain) == [{"find": 1, "update": 1}] * 10
    assert per_call(audited) == [{"find": 1, "update": 1, "insert": 1}] * 10
    store.collection.drop()
    store.events_collection.drop()
    store.close()


def test_the_operator_is_code_console_operator_else_the_login_user(monkeypatch, tmp_path):
    """The actor on the command line and in the console (runtime.operator): over SSH the login
    user is the SSH user (sshd sets LOGNAME and USER)."""
    from code_console import runtime
    from code_console.config import Settings

    monkeypatch.setenv("LOGNAME", "ssh-carol")
    monkeypatch.setenv("USER", "ssh-carol")
    monkeypatch.delenv("CODE_CONSOLE_OPERATOR", raising=False)
    assert runtime.operator(Settings(), Channel.CONSOLE) == Principal("ssh-carol", supreme=True, channel=Channel.CONSOLE)
    monkeypatch.setenv("CODE_CONSOLE_OPERATOR", "alice@support")
    assert runtime.operator(Settings(), Channel.CLI) == Principal("alice@support", supreme=True, channel=Channel.CLI)


def test_runtime_records_every_change_with_the_configured_retention(monkeypatch, tmp_path):
    from code_console import runtime
    from code_console.config import Settings

    monkeypatch.setenv("CODE_CONSOLE_AUDIT_RETENTION_DAYS", "7")
    settings = Settings.of(mongo_uri=None, sqlite_path=tmp_path / "codes.sqlite3")
    assert settings.audit.retention_days == 7
    service = runtime.open_service(settings)
    service.upload_from_file(BOB, "C1", "tm", io.BytesIO(FILE))
    [event] = service.history(BOB, "C1").events
    assert event.expires - event.at == timedelta(days=7)
    service.close()
    quiet = runtime.open_service(settings.but(audit_enabled=False, sqlite_path=tmp_path / "other.sqlite3"))
    quiet.upload_from_file(BOB, "C1", "tm", io.BytesIO(FILE))
    assert quiet.history(BOB, "C1").events == []
    quiet.close()


def test_a_code_given_twice_keeps_its_outcome_and_is_named_repeated(audited):
    audited.upload_from_file(ALICE, "C1", "tm", io.BytesIO(FILE))
    audited.assign(BOB, "C1", ["A1", "A1", "A2", "NOPE", "NOPE"])
    e = only(audited, kind="assigned")
    assert e.to_dict()["codes"] == {"A1": "assigned", "A2": "assigned", "NOPE": "not_found"}
    assert e.details == {"in": 5, "updated": 2, "repeated": ["A1", "NOPE"]}


def test_a_released_reservations_id_cannot_become_anothers_key(audited):
    """Found by attacking: A reserves and releases; B passes A's reserveId as its key and gets a
    reservation under it; A's late assign naming its id then takes B's code. The trail remembers
    that the id was a reservation's, so the key is refused."""
    audited.upload_from_file(ALICE, "C1", "tm", io.BytesIO(FILE))
    first = audited.reserve(BOB, "C1", "tm", 2)
    audited.release_reservation(BOB, "C1", first.reserve_id)
    with pytest.raises(Conflict) as err:
        audited.reserve(VERIFIER, "C1", "tm", 2, key=first.reserve_id)
    assert err.value.code == "reservation_id_in_use"
    assert audited.count(ALICE, "C1", "tm") == {"available": 4, "reserved": 0, "assigned": 0}


def test_a_keyed_retry_is_not_recorded_again(audited):
    audited.upload_from_file(ALICE, "C1", "tm", io.BytesIO(FILE))
    first = audited.reserve(VERIFIER, "C1", "tm", 2, key="k-9")
    again = audited.reserve(VERIFIER, "C1", "tm", 2, key="k-9")
    assert again == first and again.replayed and not first.replayed
    assert len(audited.history(ALICE, "C1", kind="reserved").events) == 1


def test_since_far_in_the_past_or_future_is_everything_or_nothing(audited):
    audited.upload_from_file(ALICE, "C1", "tm", io.BytesIO(FILE))
    assert len(audited.history(ALICE, "C1", since="999999w").events) == 1
    assert audited.history(ALICE, "C1", since="2300-01-01").events == []
    assert audited.history(ALICE, "C1", since="9999-12-31").events == []


def test_an_upload_stopped_midway_records_what_it_wrote(store, clock):
    import threading

    service = CodeService(store, clock=clock, reservation_ttl=timedelta(hours=24), batch_size=2)
    service.subscribe(AuditTrail(store, RETENTION))
    cancel = threading.Event()

    def progress(p):
        if p.phase == "writing" and p.codes >= 2:
            cancel.set()  # the user cancels once the first batch is written

    with pytest.raises(Cancelled):
        service.upload_from_file(ALICE, "C1", "tm", io.BytesIO(FILE), progress=progress, cancel=cancel, source_name="f.csv")
    e = only(service, kind="uploaded")
    assert e.details == {
        "source": "f.csv", "sha256": hashlib.sha256(FILE).hexdigest(), "in": 2, "inserted": 2, "updated": 0, "stopped": "Cancelled",
    }
    assert service.count(ALICE, "C1", "tm") == {"available": 2, "reserved": 0, "assigned": 0}
