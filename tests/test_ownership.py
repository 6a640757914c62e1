"""One code, one holder (issue 9): the issue's four reproductions, run as a tester runs them.

Each reproduction drives the command line as separate processes (`python -m code_console`, the
`code-console` entry point) on SecantusDB and on the embedded SQLite store. A reservation is made
"expired" by time travel: its stored `date.reserved` (and its key record) moved 25 h into the past.

Already covered elsewhere, not repeated here:
- a key reused with another campaign, type, count or subject, on every store, through the
  service: tests/faults/test_idempotent_reserve.py (here: the command line's exit status and line);
- a keyed retry after expiry, and pruning after retention: same file;
- the console's release after a stale lookup: tests/ui/test_lookup.py.
Reproduction 1 (skewed hosts) needs Debian's `faketime`; it is at the end of this file.
"""

from __future__ import annotations

import io
import json
import subprocess
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone

import pytest

from code_console.core.models import LOCAL_OPERATOR
from code_console.core.mongo import connect
from code_console.core.service import CodeService

from tests.ownership_hosts import FAKETIME, Host, embedded_host, faked_now, secantus_host
from tests.stores import embedded_store

OPERATOR = "tester"


@pytest.fixture(params=["secantus", "embedded"])
def host(request, tmp_path) -> Host:
    if request.param == "secantus":
        h = secantus_host(request.getfixturevalue("secantus"), tmp_path)
    else:
        h = embedded_host(tmp_path)
    h.env["CODE_CONSOLE_OPERATOR"] = OPERATOR
    yield h
    h.close()


def upload(host: Host, campaign: str, code_type: str, codes: list[str]) -> None:
    path = host.cwd / f"{campaign}-{code_type}.csv"
    path.write_text("".join(f"{c}\n" for c in codes))
    assert host.ok("upload", campaign, "--type", code_type, "--file", str(path))["inserted"] == len(codes)


def reserve(host: Host, campaign: str, count: int = 1, *extra: str) -> tuple[str, list[str]]:
    got = host.ok("reserve", campaign, "--type", "tm", "--count", str(count), "--with-reserve-id", *extra)
    return got["reserveId"], got["codes"]


# -- reproduction 2: a stale release -----------------------------------------------------------------


@pytest.mark.realserver
def test_a_late_release_naming_its_reservation_cannot_free_the_code_another_caller_holds(host):
    upload(host, "CAMP", "tm", ["X1"])
    a, got = reserve(host, "CAMP")
    assert got == ["X1"]
    assert host.age(a, hours=25) == 1  # A's reservation expired
    assert host.ok("count", "CAMP", "--type", "tm") == {"available": 1, "reserved": 0, "assigned": 0}
    b, got = reserve(host, "CAMP")
    assert got == ["X1"] and b != a

    late = host.run("release", "CAMP", "X1", "--reserve-id", a)
    assert late.status == 0
    assert late.out == {"count": {"in": 1, "updated": 0}, "unchanged": {"held_by_another_reservation": ["X1"]}}
    assert late.notes == ["code-console: 1 not changed (held by another reservation): X1"]
    # The whole of A's reservation: it holds nothing any more.
    assert host.ok("release", "CAMP", "--reserve-id", a) == {"count": {"in": 0, "updated": 0}}

    assert reserve(host, "CAMP")[1] == []  # C gets nothing: B still holds X1
    [record] = host.ok("lookup", "X1", "--campaign", "CAMP")
    assert (record["status"], record["reserveId"], record["date"]["assigned"]) == ("reserved", b, None)
    assert host.ok("count", "CAMP", "--type", "tm") == {"available": 0, "reserved": 1, "assigned": 0}

    # Why a caller names its reservation: the spec's call, without one, frees whatever is reserved.
    assert host.ok("release", "CAMP", "X1") == {"count": {"in": 1, "updated": 1}}
    assert reserve(host, "CAMP")[1] == ["X1"]


# -- reproduction 3: a stale assign ------------------------------------------------------------------


@pytest.mark.realserver
def test_a_late_assign_naming_its_reservation_cannot_take_the_code_another_caller_holds(host):
    upload(host, "CAMP", "tm", ["X1"])
    a, _ = reserve(host, "CAMP")
    host.age(a, hours=25)
    b, got = reserve(host, "CAMP")
    assert got == ["X1"]

    late = host.run("assign", "CAMP", "X1", "--reserve-id", a)
    assert late.status == 0
    assert late.out == {"count": {"in": 1, "updated": 0}, "unchanged": {"held_by_another_reservation": ["X1"]}}
    assert late.notes == ["code-console: 1 not changed (held by another reservation): X1"]
    [record] = host.ok("lookup", "X1", "--campaign", "CAMP")
    assert (record["status"], record["reserveId"], record["date"]["assigned"]) == ("reserved", b, None)

    assert host.ok("assign", "CAMP", "X1", "--reserve-id", b) == {"count": {"in": 1, "updated": 1}}
    [record] = host.ok("lookup", "X1", "--campaign", "CAMP")
    assert (record["status"], record["reserveId"]) == ("assigned", b)
    again = host.run("assign", "CAMP", "X1", "--reserve-id", a)
    assert again.out == {"count": {"in": 1, "updated": 0}, "unchanged": {"already_assigned": ["X1"]}}
    assert host.ok("count", "CAMP", "--type", "tm") == {"available": 0, "reserved": 0, "assigned": 1}


@pytest.mark.realserver
def test_a_late_assign_of_a_code_nobody_took_since_is_allowed(host):
    upload(host, "LATE", "tm", ["Y1", "Y2"])
    a, got = reserve(host, "LATE", 2)
    assert got == ["Y1", "Y2"]
    host.age(a, hours=25)
    assert host.ok("count", "LATE", "--type", "tm") == {"available": 2, "reserved": 0, "assigned": 0}
    assert host.ok("assign", "LATE", "Y1", "--reserve-id", a) == {"count": {"in": 1, "updated": 1}}
    assert host.ok("count", "LATE", "--type", "tm") == {"available": 1, "reserved": 0, "assigned": 1}
    # A late release of the other: it is expired, still carries A's id, so A may free it.
    assert host.ok("release", "LATE", "Y2", "--reserve-id", a) == {"count": {"in": 1, "updated": 1}}
    assert host.docs("LATE")["Y2"] == {"reserveId": None, "reserved": None, "assigned": None}


# -- reproduction 4: reservation keys ----------------------------------------------------------------


@pytest.mark.realserver
def test_a_reused_key_with_other_parameters_is_refused_with_status_2_and_hands_out_nothing(host):
    upload(host, "CAMP", "tm", [f"T{i}" for i in range(6)])
    upload(host, "CAMP", "external", [f"E{i}" for i in range(6)])
    first = host.ok("reserve", "CAMP", "--type", "tm", "--count", "3", "--key", "K")
    assert len(first) == 3 and all(c.startswith("T") for c in first)
    line = (
        "code-console: reservation_key_reused: reservation key 'K' was used for campaign CAMP, type tm, count 3 by "
        f"'{OPERATOR}'; a key belongs to one reservation: use a new key"
    )
    for other in (["--type", "external", "--count", "3"], ["--type", "tm", "--count", "2"], ["--type", "tm", "--count", "4"]):
        refused = host.run("reserve", "CAMP", *other, "--key", "K")
        assert (refused.status, refused.out, refused.notes) == (2, None, [line]), other
    assert host.ok("count", "CAMP", "--type", "tm") == {"available": 3, "reserved": 3, "assigned": 0}
    assert host.ok("count", "CAMP", "--type", "external") == {"available": 6, "reserved": 0, "assigned": 0}
    assert host.ok("reserve", "CAMP", "--type", "tm", "--count", "3", "--key", "K") == first
    assert {c for c, d in host.docs("CAMP").items() if d["reserveId"] == "K"} == set(first)

    # After the reservation expired, a retry with its key is refused and hands out nothing.
    host.age("K", hours=25)
    expired = host.run("reserve", "CAMP", "--type", "tm", "--count", "3", "--key", "K")
    assert expired.status == 2 and expired.out is None
    assert len(expired.notes) == 1 and expired.notes[0].startswith("code-console: reservation_expired: the reservation with key 'K' expired at ")
    assert host.ok("count", "CAMP", "--type", "tm") == {"available": 6, "reserved": 0, "assigned": 0}


KEYED_CALLS = 8


@pytest.mark.realserver
@pytest.mark.parametrize("kind", ["secantus", "embedded"])
def test_concurrent_calls_with_one_idempotency_key_hold_exactly_count_codes_and_agree(kind, request):
    from tests.api.conftest import data, running, settings_for

    if kind == "secantus":
        server = request.getfixturevalue("secantus")
        store = connect(server.uri, f"key8_{uuid.uuid4().hex[:10]}", timeout_seconds=30, batch_timeout_seconds=120)
    else:
        store = embedded_store()
    service = CodeService(store)  # the database's clock, as deployed
    service.prepare()
    service.upload_from_file(LOCAL_OPERATOR, "KEYS", "tm", io.BytesIO("".join(f"K{i:03d}\n" for i in range(40)).encode()))
    try:
        with running(service, settings_for()) as api:
            def call(_):
                return api.get("/KEYS/reserve", params={"count": 4, "type": "tm"}, headers={"Idempotency-Key": "same-key"}, timeout=60)

            with ThreadPoolExecutor(KEYED_CALLS) as pool:
                answers = list(pool.map(call, range(KEYED_CALLS)))
        assert [a.status_code for a in answers] == [200] * KEYED_CALLS
        assert {a.headers["Reservation-Id"] for a in answers} == {"same-key"}
        bodies = {tuple(data(a)) for a in answers}
        assert len(bodies) == 1
        [codes] = bodies
        assert len(codes) == 4
        held = {r.code for r in service.reservation(LOCAL_OPERATOR, "KEYS", "same-key")}
        assert held == set(codes)
        assert service.count(LOCAL_OPERATOR, "KEYS", "tm") == {"available": 36, "reserved": 4, "assigned": 0}
    finally:
        if kind == "secantus":
            store.collection.database.client.drop_database(store.collection.database.name)
        store.close()


# -- reproduction 1: hosts whose clocks disagree ----------------------------------------------------

# Each host's clock offset, as faketime takes it, and the offset in seconds (the guard's check).
OFFSETS = {"-25h": -25 * 3600, "-10m": -600, "+10m": 600, "+2h": 7200, "+10y": None}


@pytest.fixture
def skewed(secantus, tmp_path) -> Host:
    if FAKETIME is None:
        pytest.skip("faketime is not installed (Debian: apt-get install faketime); CI installs it")
    # The guard: faketime must really move a Python process's datetime.now(), else these tests prove nothing.
    for offset, seconds in OFFSETS.items():
        told = faked_now(offset)
        off = (told - datetime.now(timezone.utc)).total_seconds()
        if seconds is None:
            assert off > 9 * 365 * 86400, (offset, told)
        else:
            assert abs(off - seconds) < 120, (offset, told)
    h = secantus_host(secantus, tmp_path)
    h.env["CODE_CONSOLE_OPERATOR"] = OPERATOR
    yield h
    h.close()


@pytest.mark.realserver
def test_a_host_ahead_takes_no_live_hold_and_one_behind_writes_live_holds(skewed):
    host = skewed
    upload(host, "SKEW", "tm", [f"S{i:02d}" for i in range(40)])
    held, live = reserve(host, "SKEW", 20)
    host.age(held, hours=23)  # live for one more hour: a host 2 h ahead took such holds before
    ahead = host.ok("reserve", "SKEW", "--type", "tm", "--count", "40", offset="+2h")
    assert len(ahead) == 20 and not set(ahead) & set(live)  # only the 20 nobody held
    assert host.ok("reserve", "SKEW", "--type", "tm", "--count", "40", offset="+10y") == []
    counts = {o: host.ok("count", "SKEW", "--type", "tm", offset=o) for o in (*OFFSETS, None)}
    assert counts == {o: {"available": 0, "reserved": 40, "assigned": 0} for o in counts}

    # A host 25 h behind stamps what everybody else sees as live: nobody takes its codes.
    assert host.ok("release", "SKEW", *ahead)["count"] == {"in": 20, "updated": 20}
    behind, got = _reserve_at(host, "SKEW", 20, "-25h")
    assert sorted(got) == sorted(ahead)
    assert host.ok("reserve", "SKEW", "--type", "tm", "--count", "40") == []
    assert host.ok("reserve", "SKEW", "--type", "tm", "--count", "40", offset="+2h") == []
    assert host.ok("count", "SKEW", "--type", "tm", offset="+10m") == {"available": 0, "reserved": 40, "assigned": 0}
    assert {host.docs("SKEW")[c]["reserveId"] for c in got} == {behind}


def _reserve_at(host: Host, campaign: str, count: int, offset: str) -> tuple[str, list[str]]:
    got = host.ok("reserve", campaign, "--type", "tm", "--count", str(count), "--with-reserve-id", offset=offset)
    return got["reserveId"], got["codes"]


@pytest.mark.realserver
def test_a_far_ahead_hosts_reservation_carries_the_databases_time_and_expires_by_its_clock(skewed):
    host = skewed
    upload(host, "FAR", "tm", [f"F{i}" for i in range(3)])
    before = host.server_now()
    rid, got = _reserve_at(host, "FAR", 3, "+10y")
    after = host.server_now()
    assert len(got) == 3
    stamps = {host.docs("FAR")[c]["reserved"] for c in got}
    assert len(stamps) == 1
    [stamp] = stamps
    # The database's time, within the call's round trip (its clock's bound), not the host's 2036.
    assert before - timedelta(seconds=1) <= stamp <= after + timedelta(seconds=1), (before, stamp, after)
    # It expires after the TTL by the database's clock: 23 h 59 m later it is held, 24 h later free.
    host.age(rid, hours=23 + 59 / 60)
    assert host.ok("count", "FAR", "--type", "tm", offset="+10y") == {"available": 0, "reserved": 3, "assigned": 0}
    assert host.ok("reserve", "FAR", "--type", "tm", "--count", "3", offset="-25h") == []
    host.age(rid, hours=1 / 60)
    assert host.ok("count", "FAR", "--type", "tm", offset="-25h") == {"available": 3, "reserved": 0, "assigned": 0}
    assert sorted(host.ok("reserve", "FAR", "--type", "tm", "--count", "3")) == sorted(got)


SKEW_ROUNDS = 4
SKEW_ASK = 6


@pytest.mark.realserver
def test_concurrent_hosts_with_skewed_clocks_never_share_a_code_and_agree_on_counts(skewed):
    """Five hosts (−25 h, −10 min, +10 min, +2 h, +10 years) reserve at once, round after round,
    from a pool where 30 codes are held by a reservation 23 h old."""
    host = skewed
    upload(host, "HOT", "tm", [f"H{i:03d}" for i in range(120)])
    old, old_codes = reserve(host, "HOT", 30)
    host.age(old, hours=23)
    handed: dict[str, list[str]] = {o: [] for o in OFFSETS}
    for _ in range(SKEW_ROUNDS):
        procs = {
            o: subprocess.Popen(host.command("reserve", "HOT", "--type", "tm", "--count", str(SKEW_ASK), offset=o),
                                env=host.env, cwd=host.cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            for o in OFFSETS
        }
        for o, p in procs.items():
            out, err = p.communicate(timeout=120)
            assert p.returncode == 0, err.decode()
            handed[o].extend(json.loads(out))
    every = [c for codes in handed.values() for c in codes]
    twice = sum(n - 1 for n in Counter(every).values() if n > 1)
    print(f"\nSKEW hosts={list(OFFSETS)} calls={SKEW_ROUNDS * len(OFFSETS)} handed={len(every)} held_twice={twice} "
          f"taken_from_live_hold={len(set(every) & set(old_codes))}")
    assert twice == 0
    assert not set(every) & set(old_codes)
    assert SKEW_ROUNDS * len(OFFSETS) * SKEW_ASK > 90 and len(every) == 90  # demand beyond stock: every free code handed once
    docs = host.docs("HOT")
    assert all(docs[c]["reserveId"] not in (None, old) for c in every)
    expected = {"available": 0, "reserved": 120, "assigned": 0}
    counts = {o: host.ok("count", "HOT", "--type", "tm", offset=o) for o in (*OFFSETS, None)}
    assert counts == {o: expected for o in counts}


@pytest.mark.realserver
def test_the_same_scenario_with_the_hosts_clock_takes_every_live_hold_the_test_can_fail(secantus, tmp_path):
    """The skew test's control: a service that trusts a host clock 2 h ahead (what every process
    did before the database's clock) takes the 20 holds that have an hour left."""
    host = secantus_host(secantus, tmp_path)
    try:
        host.env["CODE_CONSOLE_OPERATOR"] = OPERATOR
        upload(host, "SKEW", "tm", [f"S{i:02d}" for i in range(40)])
        held, live = reserve(host, "SKEW", 20)
        host.age(held, hours=23)
        store = connect(secantus.uri, host.db, timeout_seconds=30, batch_timeout_seconds=60)
        ahead = CodeService(store, clock=lambda: datetime.now(timezone.utc) + timedelta(hours=2))
        got = ahead.reserve(LOCAL_OPERATOR, "SKEW", "tm", 40).codes
        store.close()
        assert len(got) == 40 and len(set(got) & set(live)) == 20
    finally:
        host.close()
