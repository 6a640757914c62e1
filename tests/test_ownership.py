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
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest

from code_console.core.mongo import connect
from code_console.core.service import CodeService
from tests.ownership_hosts import Host, embedded_host, secantus_host
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
        store = connect(server.uri, f"key8_{id(request)}", timeout_seconds=30, batch_timeout_seconds=120)
    else:
        store = embedded_store()
    service = CodeService(store)  # the database's clock, as deployed
    service.prepare()
    from code_console.core.models import LOCAL_OPERATOR

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
