"""The store contract (core/contract.py), river-style: the same store-level cases against every store.

Each case calls the Store methods directly, below CodeService, with exact expected values:
SqliteStore (the embedded default), MongoStore over mongomock (its queries in-process) and
MongoStore over SecantusDB (a real server over a socket, marked realserver). A store that
passes here can be given to CodeService; the service suite (tests/test_service.py) then runs
every business rule over the same three.

Times are whole milliseconds (the precision every store keeps).
"""

from __future__ import annotations

import inspect
import re
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from code_console.core.contract import BatchWrite, Candidate, Change, KeyRecord, Seen, Store, StoredCode
from code_console.core.models import CodeType, StatusCounts
from code_console.core.mongo import MongoStore
from code_console.core.sqlite import SqliteStore

TM, EXT = CodeType.TM, CodeType.EXTERNAL
T0 = datetime(2026, 3, 1, 8, 0, tzinfo=timezone.utc)
T1 = T0 + timedelta(seconds=1)
T2 = T0 + timedelta(minutes=5)
MS = timedelta(milliseconds=1)
NEVER = Seen(None, None)  # the state of a code never reserved (or released)


# `store`: every store (tests/conftest.py).


def stored(campaign, code, code_type="tm", saved=T0, reserved=None, assigned=None, reserve_id=None) -> StoredCode:
    return StoredCode(campaign, code, code_type, saved, reserved, assigned, reserve_id)


def reserve(store, campaign, codes, now, reserve_id, seen=NEVER) -> int:
    return store.compare_and_set(campaign, Change.RESERVE, {seen: list(codes)}, now, reserve_id)


# -- the contract itself ------------------------------------------------------------------


PROTOCOL_METHODS = sorted(
    name for name, member in vars(Store).items() if inspect.isfunction(member) and not name.startswith("_")
)


@pytest.mark.parametrize("cls", [SqliteStore, MongoStore])
def test_every_store_has_every_protocol_method_with_its_parameters(cls):
    for name in PROTOCOL_METHODS:
        declared = list(inspect.signature(getattr(Store, name)).parameters)
        implemented = list(inspect.signature(getattr(cls, name)).parameters)
        assert implemented == declared, f"{cls.__name__}.{name}"


def test_this_suite_calls_every_protocol_method():
    source = Path(__file__).read_text()
    assert {"prepare", "write_batch", "find_available", "compare_and_set", "counts"} <= set(PROTOCOL_METHODS)
    missing = [name for name in PROTOCOL_METHODS if not re.search(rf"store\.{name}\(", source)]
    assert missing == []


# -- lifecycle ------------------------------------------------------------------------------


def test_prepare_is_safe_to_repeat_and_the_store_answers(store):
    store.prepare()
    store.prepare()
    assert store.ping() is None
    assert isinstance(store.label, str) and store.label
    assert store.write_batch("C1", TM, ["A1"], T0) == BatchWrite(inserted=1, updated=0)
    store.prepare()  # on a store holding data
    assert store.states("C1", ["A1"]) == {"A1": stored("C1", "A1")}


def test_server_time_is_the_clock_now_in_utc(store):
    before = datetime.now(timezone.utc)
    told = store.server_time()
    after = datetime.now(timezone.utc)
    assert told.utcoffset() == timedelta(0)
    # SecantusDB runs on this machine: its clock is this one, to its millisecond precision.
    assert before - timedelta(seconds=1) <= told <= after + timedelta(seconds=1)


def test_sqlite_data_outlives_the_store(tmp_path):
    path = tmp_path / "codes.sqlite3"
    store = SqliteStore(path)
    store.write_batch("C1", TM, ["A1", "A2"], T0)
    store.close()
    again = SqliteStore(path)
    assert again.counts("C1", T0) == {"C1": {TM: StatusCounts(available=2)}}
    assert again.label == f"embedded (SQLite {path})"
    again.close()


def test_a_closed_store_can_be_closed_again(store):
    store.write_batch("C1", TM, ["A1"], T0)
    store.close()
    store.close()


# -- write_batch ----------------------------------------------------------------------------


def test_write_batch_inserts_then_refreshes_saved(store):
    assert store.write_batch("C1", TM, ["A1", "A2", "A3"], T0) == BatchWrite(inserted=3, updated=0)
    assert store.write_batch("C1", TM, ["A2", "A3", "A4"], T1) == BatchWrite(inserted=1, updated=2)
    assert store.states("C1", ["A1", "A2", "A3", "A4"]) == {
        "A1": stored("C1", "A1", saved=T0),
        "A2": stored("C1", "A2", saved=T1),
        "A3": stored("C1", "A3", saved=T1),
        "A4": stored("C1", "A4", saved=T1),
    }


def test_write_batch_counts_conflicts_and_duplicates_and_leaves_them_alone(store):
    assert store.write_batch("C1", EXT, ["B1"], T0) == BatchWrite(inserted=1, updated=0)
    assert store.write_batch("C1", TM, ["A1", "A2"], T0) == BatchWrite(inserted=2, updated=0)
    # A1, A2: saved by this very stamp (an earlier batch of the same upload): duplicates.
    # B1: stored under the other type: a conflict. N1: new.
    assert store.write_batch("C1", TM, ["A1", "A2", "B1", "N1"], T0) == BatchWrite(inserted=1, updated=0, conflicts=1, duplicates=2)
    assert store.write_batch("C1", TM, ["A1", "B1"], T1) == BatchWrite(inserted=0, updated=1, conflicts=1, duplicates=0)
    assert store.states("C1", ["A1", "A2", "B1", "N1"]) == {
        "A1": stored("C1", "A1", saved=T1),
        "A2": stored("C1", "A2", saved=T0),
        "B1": stored("C1", "B1", code_type="external", saved=T0),
        "N1": stored("C1", "N1", saved=T0),
    }


def test_write_batch_keeps_reservation_and_assignment(store):
    store.write_batch("C1", TM, ["A1", "A2"], T0)
    assert reserve(store, "C1", ["A1", "A2"], T0, "r-1") == 2
    assert store.compare_and_set("C1", Change.ASSIGN, {Seen("r-1", T0): ["A2"]}, T0) == 1
    assert store.write_batch("C1", TM, ["A1", "A2"], T1) == BatchWrite(inserted=0, updated=2)
    assert store.states("C1", ["A1", "A2"]) == {
        "A1": stored("C1", "A1", saved=T1, reserved=T0, reserve_id="r-1"),
        "A2": stored("C1", "A2", saved=T1, reserved=T0, assigned=T0, reserve_id="r-1"),
    }


def test_the_same_code_in_two_campaigns_is_two_codes(store):
    assert store.write_batch("C1", TM, ["A1"], T0) == BatchWrite(inserted=1, updated=0)
    assert store.write_batch("C2", EXT, ["A1"], T0) == BatchWrite(inserted=1, updated=0)
    assert store.counts(None, T0) == {"C1": {TM: StatusCounts(available=1)}, "C2": {EXT: StatusCounts(available=1)}}


# -- find_available -------------------------------------------------------------------------


def test_find_available_gives_fresh_codes_first_then_expired_ones(store):
    store.write_batch("C1", TM, ["F1", "F2", "F3", "F4"], T0)
    store.write_batch("C1", EXT, ["X1"], T0)
    assert reserve(store, "C1", ["F1"], T0, "r-old") == 1
    assert reserve(store, "C1", ["F2"], T2, "r-new") == 1
    assert store.compare_and_set("C1", Change.ASSIGN, {NEVER: ["F3"]}, T2) == 1
    cutoff = T0  # F1's reservation (at T0) is over: at the cutoff counts as expired; F2's is not
    found = store.find_available("C1", TM, cutoff, 10)
    assert found == [Candidate("F4", NEVER), Candidate("F1", Seen("r-old", T0))]
    assert store.find_available("C1", TM, cutoff, 1) == [Candidate("F4", NEVER)]
    assert store.find_available("C1", TM, T0 - MS, 10) == [Candidate("F4", NEVER)]
    assert store.find_available("C1", EXT, cutoff, 10) == [Candidate("X1", NEVER)]
    assert store.find_available("C2", TM, cutoff, 10) == []


def test_find_available_limit_is_the_most_it_returns(store):
    store.write_batch("C1", TM, [f"A{i}" for i in range(7)], T0)
    reserve(store, "C1", ["A0", "A1", "A2"], T0, "r-1")
    assert len(store.find_available("C1", TM, T0, 5)) == 5
    fresh = store.find_available("C1", TM, T0, 4)
    assert sorted(c.code for c in fresh) == ["A3", "A4", "A5", "A6"]
    everything = store.find_available("C1", TM, T0, 100)
    assert sorted(c.code for c in everything[:4]) == ["A3", "A4", "A5", "A6"]
    assert sorted(c.code for c in everything[4:]) == ["A0", "A1", "A2"]
    assert {c.seen for c in everything[4:]} == {Seen("r-1", T0)}


# -- compare_and_set ------------------------------------------------------------------------


def test_compare_and_set_changes_only_codes_still_in_the_seen_state(store):
    store.write_batch("C1", TM, ["A1", "A2", "A3"], T0)
    assert reserve(store, "C1", ["A1", "A2"], T1, "r-1") == 2
    # The losing side: a second caller saw A1, A2 fresh, and A3 still is.
    assert reserve(store, "C1", ["A1", "A2", "A3"], T1, "r-2") == 1
    assert store.states("C1", ["A1", "A2", "A3"]) == {
        "A1": stored("C1", "A1", reserved=T1, reserve_id="r-1"),
        "A2": stored("C1", "A2", reserved=T1, reserve_id="r-1"),
        "A3": stored("C1", "A3", reserved=T1, reserve_id="r-2"),
    }
    # Taking over an expired reservation compares its reserveId and reserved date.
    assert reserve(store, "C1", ["A1"], T2, "r-3", seen=Seen("r-1", T0)) == 0  # wrong date
    assert reserve(store, "C1", ["A1"], T2, "r-3", seen=Seen("r-9", T1)) == 0  # wrong reservation
    assert reserve(store, "C1", ["A1"], T2, "r-3", seen=Seen("r-1", T1)) == 1
    assert store.states("C1", ["A1"])["A1"] == stored("C1", "A1", reserved=T2, reserve_id="r-3")


def test_compare_and_set_sums_over_groups_and_ignores_unknown_codes_and_other_campaigns(store):
    store.write_batch("C1", TM, ["A1", "A2", "A3"], T0)
    store.write_batch("C2", TM, ["A1"], T0)
    reserve(store, "C1", ["A1"], T0, "r-1")
    groups = {NEVER: ["A2", "A3", "NOPE"], Seen("r-1", T0): ["A1"]}
    assert store.compare_and_set("C1", Change.ASSIGN, groups, T1) == 3
    assert store.states("C2", ["A1"]) == {"A1": stored("C2", "A1")}
    assert store.compare_and_set("C1", Change.ASSIGN, {}, T1) == 0


def test_an_assigned_code_never_changes_again(store):
    store.write_batch("C1", TM, ["A1"], T0)
    reserve(store, "C1", ["A1"], T0, "r-1")
    assert store.compare_and_set("C1", Change.ASSIGN, {Seen("r-1", T0): ["A1"]}, T1) == 1
    for change in Change:
        assert store.compare_and_set("C1", change, {Seen("r-1", T0): ["A1"]}, T2, "r-2") == 0
    assert store.states("C1", ["A1"])["A1"] == stored("C1", "A1", reserved=T0, assigned=T1, reserve_id="r-1")


def test_release_unsets_the_reservation(store):
    store.write_batch("C1", TM, ["A1", "A2"], T0)
    reserve(store, "C1", ["A1", "A2"], T0, "r-1")
    assert store.compare_and_set("C1", Change.RELEASE, {Seen("r-1", T0): ["A1"]}, T1) == 1
    assert store.compare_and_set("C1", Change.RELEASE, {Seen("r-1", T0): ["A1"]}, T1) == 0  # already released
    assert store.states("C1", ["A1", "A2"]) == {
        "A1": stored("C1", "A1"),
        "A2": stored("C1", "A2", reserved=T0, reserve_id="r-1"),
    }
    assert store.find_available("C1", TM, T0 - MS, 10) == [Candidate("A1", NEVER)]


# -- holding, states, lookup, scan ----------------------------------------------------------


def test_holding_gives_the_codes_carrying_a_reserve_id_assigned_or_not(store):
    store.write_batch("C1", TM, ["A1", "A2", "A3", "A4"], T0)
    store.write_batch("C2", TM, ["A1"], T0)
    reserve(store, "C1", ["A1", "A2", "A3"], T0, "r-1")
    reserve(store, "C2", ["A1"], T0, "r-1")
    store.compare_and_set("C1", Change.ASSIGN, {Seen("r-1", T0): ["A2"]}, T1)
    held = store.holding("C1", "r-1", 10)
    assert sorted(held, key=lambda s: s.code) == [
        stored("C1", "A1", reserved=T0, reserve_id="r-1"),
        stored("C1", "A2", reserved=T0, assigned=T1, reserve_id="r-1"),
        stored("C1", "A3", reserved=T0, reserve_id="r-1"),
    ]
    assert len(store.holding("C1", "r-1", 2)) == 2
    assert store.holding("C1", "r-2", 10) == []


def test_states_gives_only_codes_that_exist_in_the_campaign(store):
    store.write_batch("C1", TM, ["A1", "A2"], T0)
    store.write_batch("C2", TM, ["A3"], T0)
    assert store.states("C1", ["A2", "A3", "ZZ"]) == {"A2": stored("C1", "A2")}
    assert store.states("C1", []) == {}


def test_states_reads_past_the_chunk_size(store):
    codes = [f"A{i:04d}" for i in range(1_201)]  # three chunks of 500
    assert store.write_batch("C1", TM, codes, T0) == BatchWrite(inserted=1_201, updated=0)
    assert sorted(store.states("C1", codes)) == codes
    assert store.compare_and_set("C1", Change.RESERVE, {NEVER: codes}, T1, "r-1") == 1_201
    assert len(store.holding("C1", "r-1", 5_000)) == 1_201


def test_lookup_finds_a_code_in_one_campaign_or_all(store):
    store.write_batch("C1", TM, ["A1", "A2"], T0)
    store.write_batch("C2", EXT, ["A1"], T1)
    assert sorted(store.lookup("A1", None, 10), key=lambda s: s.campaign_id) == [
        stored("C1", "A1"),
        stored("C2", "A1", code_type="external", saved=T1),
    ]
    assert store.lookup("A1", "C2", 10) == [stored("C2", "A1", code_type="external", saved=T1)]
    assert len(store.lookup("A1", None, 1)) == 1
    assert store.lookup("A2", "C2", 10) == []
    assert store.lookup("NOPE", None, 10) == []


def test_scan_gives_every_code_of_a_campaign_in_batches(store):
    store.write_batch("C1", TM, ["A1", "A2", "A3"], T0)
    store.write_batch("C1", EXT, ["B1", "B2"], T0)
    store.write_batch("C2", TM, ["A9"], T0)
    scanned = sorted(store.scan("C1", 2), key=lambda s: s.code)
    assert scanned == [
        stored("C1", "A1"),
        stored("C1", "A2"),
        stored("C1", "A3"),
        stored("C1", "B1", code_type="external"),
        stored("C1", "B2", code_type="external"),
    ]
    assert list(store.scan("NONE", 2)) == []


def test_case_twins_gives_stored_codes_that_differ_only_by_letter_case(store):
    store.write_batch("C1", TM, ["ABC1", "Mixed2", "caf\u00e910", "SAME3"], T0)
    store.write_batch("C2", TM, ["other4"], T0)
    asked = ["abc1", "ABC1", "MIXED2", "CAF\u00c910", "SAME3", "OTHER4", "new5"]
    assert store.case_twins("C1", asked) == {"abc1": "ABC1", "MIXED2": "Mixed2", "CAF\u00c910": "caf\u00e910"}
    assert store.case_twins("C2", asked) == {"OTHER4": "other4"}
    assert store.case_twins("C1", []) == {}
    # Past one chunk of the store's queries.
    many = [f"k{i:04d}" for i in range(1_200)]
    store.write_batch("C3", TM, [c.upper() for c in many], T0)
    assert store.case_twins("C3", many) == {c: c.upper() for c in many}


# -- counts -----------------------------------------------------------------------------------


def test_counts_per_campaign_and_type_by_the_status_rule(store):
    store.write_batch("C1", TM, ["A1", "A2", "A3", "A4", "A5"], T0)
    store.write_batch("C1", EXT, ["B1", "B2"], T0)
    store.write_batch("C2", TM, ["Z1"], T0)
    reserve(store, "C1", ["A1"], T0, "r-old")  # expired at the cutoff below
    reserve(store, "C1", ["A2", "A3"], T2, "r-new")
    store.compare_and_set("C1", Change.ASSIGN, {NEVER: ["A4", "B1"]}, T2)
    cutoff = T0
    assert store.counts("C1", cutoff) == {
        "C1": {TM: StatusCounts(available=2, reserved=2, assigned=1), EXT: StatusCounts(available=1, reserved=0, assigned=1)}
    }
    assert store.counts(None, cutoff) == {
        "C1": {TM: StatusCounts(available=2, reserved=2, assigned=1), EXT: StatusCounts(available=1, reserved=0, assigned=1)},
        "C2": {TM: StatusCounts(available=1)},
    }
    # One millisecond earlier, A1's reservation is still on.
    assert store.counts("C1", T0 - MS)["C1"][TM] == StatusCounts(available=1, reserved=3, assigned=1)
    assert store.counts("NONE", cutoff) == {}
    # One type's pool only: the other type is not read.
    assert store.counts("C1", cutoff, EXT) == {"C1": {EXT: StatusCounts(available=1, reserved=0, assigned=1)}}
    assert store.counts("C2", cutoff, EXT) == {}


# -- reservation keys -------------------------------------------------------------------------


def key_record(key="k-1", expires=T2, **changes) -> KeyRecord:
    return KeyRecord(
        key=key, campaign_id="C1", code_type="tm", count=3, subject="local", created=T0, expires=expires,
        lease_owner=changes.get("lease_owner", "owner-a"), lease_until=changes.get("lease_until", T1),
    )


def test_insert_key_stores_once_and_returns_what_is_stored(store):
    first = key_record()
    assert store.insert_key(first) is None
    assert store.get_key("k-1") == first
    rival = KeyRecord("k-1", "C9", "external", 7, "other", T1, T2, "owner-b", T2)
    assert store.insert_key(rival) == first
    assert store.get_key("k-1") == first
    assert store.get_key("k-unknown") is None


def test_lease_key_is_a_compare_and_set_on_owner_and_until(store):
    store.insert_key(key_record())
    assert store.lease_key("k-1", "owner-b", T1, "owner-b", T2) is False  # not the owner shown
    assert store.lease_key("k-1", "owner-a", T0, "owner-b", T2) is False  # not the date shown
    assert store.lease_key("k-1", "owner-a", T1, "owner-b", T2) is True  # a take-over
    assert store.get_key("k-1") == key_record(lease_owner="owner-b", lease_until=T2)
    assert store.lease_key("k-1", "owner-a", T1, "owner-a", T2) is False  # the loser's renewal
    assert store.lease_key("k-1", "owner-b", T2, None, None) is True  # given back
    assert store.get_key("k-1") == key_record(lease_owner=None, lease_until=None)
    assert store.lease_key("k-1", None, None, "owner-c", T2) is True  # taken again
    assert store.lease_key("k-unknown", None, None, "owner-c", T2) is False


def test_finish_key_records_the_answer_once_for_the_lease_holder(store):
    store.insert_key(key_record())
    assert store.finish_key("k-1", "owner-b", ["A1"]) is False
    assert store.finish_key("k-1", "owner-a", ["A1", "A2"]) is True
    assert store.get_key("k-1").codes == ("A1", "A2")
    assert store.finish_key("k-1", "owner-a", ["A3"]) is False  # answered already
    assert store.lease_key("k-1", "owner-a", T1, "owner-b", T2) is False  # no lease on an answered key
    assert store.get_key("k-1") == KeyRecord("k-1", "C1", "tm", 3, "local", T0, T2, "owner-a", T1, ("A1", "A2"))
    assert store.finish_key("k-unknown", "owner-a", []) is False


def test_an_empty_answer_is_an_answer(store):
    store.insert_key(key_record())
    assert store.finish_key("k-1", "owner-a", []) is True
    assert store.get_key("k-1").codes == ()


def test_prune_keys_removes_records_expired_at_or_before(store):
    for n, expires in enumerate([T0, T1, T2]):
        store.insert_key(key_record(key=f"k-{n}", expires=expires))
    assert store.prune_keys(T0 - MS) == 0
    assert store.prune_keys(T1) == 2
    assert [store.get_key(f"k-{n}") is not None for n in range(3)] == [False, False, True]
    assert store.prune_keys(T1) == 0
    assert store.insert_key(key_record(key="k-0")) is None  # a pruned key is new again


# -- the audit trail (core/audit.py) ----------------------------------------------------------

# Events dated after the real date: a TTL monitor (mongomock's runs on every read) keeps them.
E0 = datetime(2100, 1, 1, tzinfo=timezone.utc)
YEAR = timedelta(days=365)


def event(n: int, at: datetime = E0, kind: str = "reserved", reserve_id: str | None = "R1", codes=("A1",), campaign="C1", expires=None):
    from code_console.core.audit import EventRecord

    return EventRecord(
        id=f"{int(at.timestamp() * 1000):013d}-{n:012x}",
        campaign_id=campaign,
        at=at,
        expires=expires or at + YEAR,
        kind=kind,
        actor="bob",
        channel="cli",
        request_id=None if n % 2 else f"req-{n}",
        code_type="tm",
        reserve_id=reserve_id,
        key=None,
        codes=tuple(codes),
        outcomes=tuple("reserved" for _ in codes),
        details={"asked": len(codes), "given": len(codes), "expired": [{"code": "A1", "reserveId": "R0"}]},
    )


def test_events_are_stored_whole_and_read_newest_first_by_filter(store):
    e1 = event(1, E0, codes=("A1", "A2"))
    e2 = event(2, E0 + MS, kind="released", reserve_id="R2", codes=("A2",))
    e3 = event(3, E0 + timedelta(minutes=1), kind="uploaded", reserve_id=None, codes=())
    other = event(4, E0, campaign="C2")
    for e in (e1, e2, e3, other):
        assert store.record_event(e) is None
    assert store.events("C1") == [e3, e2, e1]
    assert store.events("C1", code="A2") == [e2, e1]
    assert store.events("C1", code="A1") == [e1]
    assert store.events("C1", reserve_id="R2") == [e2]
    assert store.events("C1", kind="uploaded") == [e3]
    assert store.events("C1", since=E0 + MS) == [e3, e2]
    assert store.events("C1", before=e2.id) == [e1]
    assert store.events("C1", limit=1) == [e3]
    assert store.events("C1", code="A2", reserve_id="R1") == [e1]
    assert store.events("C2") == [other]
    assert store.events("C3") == []


def test_prune_events_removes_those_expired_at_or_before(store):
    for n in range(3):
        store.record_event(event(n, E0 + n * MS, expires=E0 + timedelta(days=n)))
    assert store.prune_events(E0 - MS) == 0
    assert store.prune_events(E0 + timedelta(days=1)) == 2
    assert [e.id for e in store.events("C1")] == [event(2, E0 + 2 * MS).id]
    assert store.events("C1", code="A1") == [event(2, E0 + 2 * MS, expires=E0 + timedelta(days=2))]


# -- usage, export paging, alerts (core/usage.py, core/export.py, core/alerts.py) --------------


def test_activity_counts_reserved_and_assigned_dates_into_buckets_ending_at_end(store):
    from code_console.core.contract import Series, Stamp

    store.write_batch("C1", TM, ["A1", "A2", "A3", "A4"], T0)
    store.write_batch("C1", EXT, ["B1"], T0)
    store.write_batch("C2", TM, ["Z1"], T0)
    end = T0 + timedelta(hours=3)
    reserve(store, "C1", ["A1"], T0 + timedelta(minutes=30), "r1")  # bucket 0 of 3 hourly buckets
    reserve(store, "C1", ["A2", "A3"], end - timedelta(minutes=10), "r2")  # bucket 2
    store.compare_and_set("C1", Change.ASSIGN, {Seen("r2", end - timedelta(minutes=10)): ["A2"]}, end)  # exactly at end: counted
    reserve(store, "C1", ["B1"], end + MS, "late")  # after end: not counted
    reserve(store, "C2", ["Z1"], T0 - timedelta(hours=1), "old")  # before the series: not counted
    series = (Series(timedelta(hours=1), 3), Series(timedelta(minutes=30), 2))
    assert store.activity("C1", end, series) == {
        "C1": {
            (TM, Stamp.RESERVED): [[1, 0, 2], [0, 2]],
            (TM, Stamp.ASSIGNED): [[0, 0, 1], [0, 1]],
        }
    }
    assert store.activity(None, end, series) == store.activity("C1", end, series)
    assert store.activity("NONE", end, series) == {}


def test_page_reads_a_campaign_in_code_order_after_a_code(store):
    store.write_batch("C1", TM, ["D", "B", "A"], T0)
    store.write_batch("C1", EXT, ["C"], T0)
    store.write_batch("C2", TM, ["AA"], T0)
    assert [s.code for s in store.page("C1", None, 2)] == ["A", "B"]
    assert [(s.code, s.code_type) for s in store.page("C1", "B", 10)] == [("C", "external"), ("D", "tm")]
    assert store.page("C1", "D", 10) == []


def test_put_alert_inserts_once_then_changes_only_the_state_it_saw(store):
    from code_console.core.contract import AlertRecord

    first = AlertRecord("C1|tm|low_stock", "C1", "tm", "low_stock", True, 1, T0, {"available": 3})
    assert store.put_alert(first, None) is True
    assert store.put_alert(first, None) is False  # a second checker: the key is taken
    crossed_back = AlertRecord("C1|tm|low_stock", "C1", "tm", "low_stock", False, 1, T1, {"available": 900})
    assert store.put_alert(crossed_back, first) is True
    assert store.put_alert(crossed_back, first) is False  # the state seen is gone
    assert store.alert_records() == [crossed_back]
