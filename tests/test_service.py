"""The business rules, run against every store: SQLite (embedded), mongomock and SecantusDB."""

import io

import pytest

from code_console.core.errors import BadFile, Forbidden, InvalidInput
from code_console.core.models import CodeType, Principal, Status, StatusCounts
from code_console.core.service import CodeService

from tests.conftest import ME

NOBODY = Principal(subject="someone", supreme=False)


def csv(*codes: str) -> io.BytesIO:
    return io.BytesIO(("\n".join(codes) + "\n").encode())


def upload(service, campaign, code_type, *codes):
    return service.upload_from_file(ME, campaign, code_type, csv(*codes))


def snapshot(service: CodeService, campaign="C1"):
    """Everything stored for a campaign, to prove a rejected call changed nothing."""
    out = {}
    for t in CodeType:
        out[t] = service.counts(ME, campaign, t)
    records = []
    for code in ["A1", "A2", "A3", "A4", "X1"]:
        records += [r.to_dict() for r in service.lookup(ME, code, campaign)]
    return out, records


# -- upload -----------------------------------------------------------------------------


def test_upload_counts_inserted_then_updated(service, clock):
    assert upload(service, "C1", "tm", "A1", "A2", "A3").to_dict() == {"in": 3, "inserted": 3, "updated": 0}
    clock.advance(seconds=1)  # a later upload: one stamped the same millisecond sees its codes as duplicates
    assert upload(service, "C1", "tm", "A2", "A3", "A4").to_dict() == {"in": 3, "inserted": 1, "updated": 2}
    assert service.count(ME, "C1", "tm") == {"available": 4, "reserved": 0, "assigned": 0}


def test_upload_duplicate_within_file_counts_as_a_duplicate(service):
    assert upload(service, "C1", "tm", "A1", "A1", "A2").to_dict() == {"in": 3, "inserted": 2, "updated": 0, "duplicates": 1}


def test_upload_duplicate_across_batches_counts_as_a_duplicate(store, clock):
    service = CodeService(store, clock=clock, batch_size=3)
    result = upload(service, "C1", "tm", *[f"A{i}" for i in range(10)], "A0")
    assert result.to_dict() == {"in": 11, "inserted": 10, "updated": 0, "duplicates": 1}
    # A re-upload of the same file (same frozen clock) refreshes every code once.
    again = upload(service, "C1", "tm", *[f"A{i}" for i in range(10)], "A0")
    assert again.to_dict() == {"in": 11, "inserted": 0, "updated": 10, "duplicates": 1}
    assert service.counts(ME, "C1", "tm").available == 10


def test_code_under_other_type_is_a_conflict_and_not_moved(service):
    upload(service, "C1", "tm", "A1", "A2")
    result = upload(service, "C1", "external", "A1", "X1")
    assert result.to_dict() == {"in": 2, "inserted": 1, "updated": 0, "conflicts": 1}
    assert service.lookup(ME, "A1", "C1")[0].code_type is CodeType.TM
    assert service.counts(ME, "C1", "tm").available == 2
    assert service.counts(ME, "C1", "external").available == 1


def test_same_code_in_two_campaigns_is_two_codes(service):
    upload(service, "C1", "tm", "A1")
    upload(service, "C2", "tm", "A1")
    assert {r.campaign_id for r in service.lookup(ME, "A1")} == {"C1", "C2"}


def test_reupload_keeps_reserved_assigned_and_reserve_id_and_refreshes_saved(service, clock):
    upload(service, "C1", "tm", "A1", "A2", "A3")
    got = service.reserve(ME, "C1", "tm", 2).codes
    service.assign(ME, "C1", [got[0]])
    before = {r.code: r for c in ["A1", "A2", "A3"] for r in service.lookup(ME, c, "C1")}
    clock.advance(hours=1)
    assert upload(service, "C1", "tm", "A1", "A2", "A3").to_dict() == {"in": 3, "inserted": 0, "updated": 3}
    after = {r.code: r for c in ["A1", "A2", "A3"] for r in service.lookup(ME, c, "C1")}
    for code in before:
        assert after[code].reserved == before[code].reserved
        assert after[code].assigned == before[code].assigned
        assert after[code].reserve_id == before[code].reserve_id
        assert after[code].status == before[code].status
        assert after[code].saved == clock.now
    assert service.count(ME, "C1", "tm") == {"available": 1, "reserved": 1, "assigned": 1}


@pytest.mark.parametrize(
    "data, code, line",
    [
        (b"A1\nA2\nbad\xff\n", "invalid_utf8", 3),
        (b"A1\nA\x002\n", "not_text", 2),
        (b"A1\n" + b"Z" * 200 + b"\n", "code_too_long", 2),
        (b"\x89PNG\r\n\x1a\n\x00\x00", "invalid_utf8", 1),
    ],
)
def test_bad_file_writes_nothing(service, data, code, line):
    upload(service, "C1", "tm", "A1", "A2")
    service.reserve(ME, "C1", "tm", 1).codes
    before = snapshot(service)
    with pytest.raises(BadFile) as info:
        service.upload_from_file(ME, "C1", "tm", io.BytesIO(data))
    assert info.value.code == code
    assert info.value.line == line
    assert snapshot(service) == before


def test_bad_file_after_a_full_batch_still_writes_nothing(store, clock):
    service = CodeService(store, clock=clock, batch_size=2)
    with pytest.raises(BadFile):
        service.upload_from_file(ME, "C1", "tm", io.BytesIO(b"A1\nA2\nA3\nA4\nA5\xff\n"))
    assert service.campaigns(ME) == []


def test_upload_type_and_campaign_validated(service):
    with pytest.raises(InvalidInput, match="invalid code type 'gold'"):
        upload(service, "C1", "gold", "A1")
    with pytest.raises(InvalidInput, match="invalid campaign id"):
        upload(service, "../C1", "tm", "A1")
    assert service.campaigns(ME) == []


# -- reserve ------------------------------------------------------------------------------


def test_reserve_returns_requested_count_under_one_reserve_id(service, clock):
    upload(service, "C1", "tm", *[f"A{i}" for i in range(10)])
    got = service.reserve(ME, "C1", "tm", 4).codes
    assert len(got) == 4 and len(set(got)) == 4
    records = [service.lookup(ME, c, "C1")[0] for c in got]
    assert len({r.reserve_id for r in records}) == 1
    assert all(r.reserved == clock.now and r.status is Status.RESERVED for r in records)
    assert service.count(ME, "C1", "tm") == {"available": 6, "reserved": 4, "assigned": 0}


def test_each_reserve_call_gets_a_fresh_reserve_id(service):
    upload(service, "C1", "tm", *[f"A{i}" for i in range(4)])
    a = service.reserve(ME, "C1", "tm", 2).codes
    b = service.reserve(ME, "C1", "tm", 2).codes
    assert not set(a) & set(b)
    assert service.lookup(ME, a[0], "C1")[0].reserve_id != service.lookup(ME, b[0], "C1")[0].reserve_id


def test_reserve_returns_fewer_only_when_pool_runs_out(service):
    upload(service, "C1", "tm", "A1", "A2", "A3")
    assert len(service.reserve(ME, "C1", "tm", 5).codes) == 3
    assert service.reserve(ME, "C1", "tm", 1).codes == []


def test_reserve_keeps_types_apart(service):
    upload(service, "C1", "tm", "A1", "A2")
    upload(service, "C1", "external", "X1")
    assert sorted(service.reserve(ME, "C1", "external", 5).codes) == ["X1"]
    assert sorted(service.reserve(ME, "C1", "tm", 5).codes) == ["A1", "A2"]


def test_reservation_expires_after_ttl_and_is_reserved_again(service, clock):
    upload(service, "C1", "tm", "A1", "A2")
    first = service.reserve(ME, "C1", "tm", 2).codes
    clock.advance(hours=23, minutes=59)
    assert service.count(ME, "C1", "tm") == {"available": 0, "reserved": 2, "assigned": 0}
    assert service.reserve(ME, "C1", "tm", 1).codes == []
    clock.advance(minutes=2)
    assert service.count(ME, "C1", "tm") == {"available": 2, "reserved": 0, "assigned": 0}
    again = service.reserve(ME, "C1", "tm", 2).codes
    assert sorted(again) == sorted(first)
    assert service.lookup(ME, again[0], "C1")[0].reserved == clock.now


def test_assigned_codes_are_never_reserved(service, clock):
    upload(service, "C1", "tm", "A1", "A2")
    got = service.reserve(ME, "C1", "tm", 2).codes
    service.assign(ME, "C1", got)
    clock.advance(days=3)
    assert service.reserve(ME, "C1", "tm", 2).codes == []
    assert service.count(ME, "C1", "tm") == {"available": 0, "reserved": 0, "assigned": 2}


@pytest.mark.parametrize("count", [0, -1, 10_001, 2.5, "ten", "", None, True, [3]])
def test_bad_counts_are_refused(service, count):
    upload(service, "C1", "tm", "A1")
    with pytest.raises(InvalidInput) as info:
        service.reserve(ME, "C1", "tm", count).codes
    assert info.value.code == "invalid_count"
    assert service.count(ME, "C1", "tm") == {"available": 1, "reserved": 0, "assigned": 0}


def test_count_as_digit_string_is_accepted(service):
    upload(service, "C1", "tm", "A1", "A2")
    assert len(service.reserve(ME, "C1", "tm", "2").codes) == 2


def test_reserve_with_key_is_idempotent(service):
    upload(service, "C1", "tm", *[f"A{i}" for i in range(6)])
    first = service.reserve(ME, "C1", "tm", 3, key="req-1").codes
    again = service.reserve(ME, "C1", "tm", 3, key="req-1").codes
    assert again == first  # the very same list, order included
    assert service.count(ME, "C1", "tm") == {"available": 3, "reserved": 3, "assigned": 0}
    other = service.reserve(ME, "C1", "tm", 3, key="req-2").codes
    assert not set(other) & set(first)


def test_a_keyed_retry_gets_the_same_answer_even_when_it_was_short(service):
    upload(service, "C1", "tm", "A1", "A2")
    assert service.reserve(ME, "C1", "tm", 3, key="k").codes == ["A1", "A2"]
    upload(service, "C1", "tm", "A3", "A4")
    assert service.reserve(ME, "C1", "tm", 3, key="k").codes == ["A1", "A2"]
    assert service.count(ME, "C1", "tm") == {"available": 2, "reserved": 2, "assigned": 0}


# -- assign / release ---------------------------------------------------------------------


def test_assign_sets_date_once(service, clock):
    upload(service, "C1", "tm", "A1", "A2")
    got = service.reserve(ME, "C1", "tm", 2).codes
    assert service.assign(ME, "C1", got).to_dict() == {"in": 2, "updated": 2}
    first = service.lookup(ME, got[0], "C1")[0].assigned
    clock.advance(minutes=5)
    assert service.assign(ME, "C1", got).to_dict() == {"in": 2, "updated": 0}
    assert service.lookup(ME, got[0], "C1")[0].assigned == first


def test_assign_works_on_expired_reservation(service, clock):
    upload(service, "C1", "tm", "A1")
    service.reserve(ME, "C1", "tm", 1).codes
    clock.advance(hours=30)
    assert service.assign(ME, "C1", ["A1"]).to_dict() == {"in": 1, "updated": 1}
    assert service.count(ME, "C1", "tm") == {"available": 0, "reserved": 0, "assigned": 1}


def test_assign_unknown_code_updates_nothing(service):
    upload(service, "C1", "tm", "A1")
    assert service.assign(ME, "C1", ["NOPE"]).to_dict() == {"in": 1, "updated": 0}
    assert service.assign(ME, "C2", ["A1"]).to_dict() == {"in": 1, "updated": 0}


def test_release_only_reserved_unassigned_and_idempotent(service):
    upload(service, "C1", "tm", "A1", "A2", "A3", "A4")
    got = sorted(service.reserve(ME, "C1", "tm", 3).codes)
    service.assign(ME, "C1", [got[0]])
    never_reserved = ({"A1", "A2", "A3", "A4"} - set(got)).pop()
    result = service.release(ME, "C1", [*got, never_reserved])
    assert result.to_dict() == {"in": 4, "updated": 2}
    assert service.release(ME, "C1", got).to_dict() == {"in": 3, "updated": 0}
    assert service.count(ME, "C1", "tm") == {"available": 3, "reserved": 0, "assigned": 1}
    released = service.lookup(ME, got[1], "C1")[0]
    assert released.reserved is None and released.reserve_id is None
    assert service.lookup(ME, got[0], "C1")[0].status is Status.ASSIGNED


def test_released_codes_can_be_reserved_again_at_once(service):
    upload(service, "C1", "tm", "A1")
    got = service.reserve(ME, "C1", "tm", 1).codes
    service.release(ME, "C1", got)
    assert service.reserve(ME, "C1", "tm", 1).codes == got


def test_release_by_reserve_id(service):
    upload(service, "C1", "tm", *[f"A{i}" for i in range(5)])
    got = service.reserve(ME, "C1", "tm", 3).codes
    service.assign(ME, "C1", [got[0]])
    rid = service.lookup(ME, got[1], "C1")[0].reserve_id
    assert service.release_reservation(ME, "C1", rid).to_dict() == {"in": 3, "updated": 2}
    assert service.count(ME, "C1", "tm") == {"available": 4, "reserved": 0, "assigned": 1}


@pytest.mark.parametrize("codes", [[], "A1", None, [1, 2], [""], ["  "], {"A1": 1}, ["A\x001"]])
def test_bad_code_lists_are_refused(service, codes):
    upload(service, "C1", "tm", "A1")
    got = service.reserve(ME, "C1", "tm", 1).codes
    before = snapshot(service)
    for op in (service.assign, service.release):
        with pytest.raises(InvalidInput) as info:
            op(ME, "C1", codes)
        assert info.value.code == "invalid_codes"
    assert snapshot(service) == before
    assert got == ["A1"]


# -- count / campaigns --------------------------------------------------------------------


def test_count_by_status_and_all(service, clock):
    upload(service, "C1", "tm", *[f"A{i}" for i in range(6)])
    got = service.reserve(ME, "C1", "tm", 3).codes
    service.assign(ME, "C1", got[:1])
    assert service.count(ME, "C1", "tm") == {"available": 3, "reserved": 2, "assigned": 1}
    assert service.count(ME, "C1", "tm", "available") == {"available": 3}
    assert service.count(ME, "C1", "tm", "reserved") == {"reserved": 2}
    assert service.count(ME, "C1", "tm", "assigned") == {"assigned": 1}
    assert service.count(ME, "C1", "external") == {"available": 0, "reserved": 0, "assigned": 0}


def test_campaign_counts_gives_every_type(service):
    upload(service, "C1", "tm", "A1", "A2", "A3")
    service.reserve(ME, "C1", "tm", 1).codes
    assert service.campaign_counts(ME, "C1") == {
        CodeType.TM: StatusCounts(available=2, reserved=1, assigned=0),
        CodeType.EXTERNAL: StatusCounts(),
    }


@pytest.mark.parametrize("code_type, status", [(None, None), ("", None), ("gold", None), ("tm", "lost")])
def test_count_needs_a_valid_type_and_status(service, code_type, status):
    with pytest.raises(InvalidInput):
        service.count(ME, "C1", code_type, status)


def test_campaigns_lists_per_type_counts(service):
    upload(service, "C2", "external", "X1", "X2")
    upload(service, "C1", "tm", "A1", "A2", "A3")
    service.reserve(ME, "C1", "tm", 1).codes
    summaries = service.campaigns(ME)
    assert [s.campaign_id for s in summaries] == ["C1", "C2"]
    assert summaries[0].for_type(CodeType.TM) == StatusCounts(available=2, reserved=1, assigned=0)
    assert summaries[0].for_type(CodeType.EXTERNAL) == StatusCounts()
    assert summaries[1].for_type(CodeType.EXTERNAL) == StatusCounts(available=2)


# -- authorization ------------------------------------------------------------------------


def test_non_supreme_principal_is_forbidden_and_nothing_changes(service):
    upload(service, "C1", "tm", "A1", "A2")
    before = snapshot(service)
    calls = [
        lambda: service.upload_from_file(NOBODY, "C1", "tm", csv("A3")),
        lambda: service.upload_from_key(NOBODY, "C1", "codes/C1/tm/a.csv"),
        lambda: service.reserve(NOBODY, "C1", "tm", 1).codes,
        lambda: service.assign(NOBODY, "C1", ["A1"]),
        lambda: service.release(NOBODY, "C1", ["A1"]),
        lambda: service.release_reservation(NOBODY, "C1", "r1"),
        lambda: service.count(NOBODY, "C1", "tm"),
        lambda: service.campaigns(NOBODY),
        lambda: service.lookup(NOBODY, "A1"),
    ]
    for call in calls:
        with pytest.raises(Forbidden):
            call()
    assert snapshot(service) == before
