"""Who may assign and release a reserved code, run against every store (SQLite, mongomock, SecantusDB).

With a reserveId named, assign and release change only codes that reservation still holds:
codes carrying its reserveId, expired or not, as long as nobody else has taken them since.
A late caller (its reservation expired, the code reserved again by someone else) changes
nothing and is told why (spec, use cases 3 and 4).
"""

import io

from code_console.core.models import Unchanged, UpdateResult

from tests.conftest import ME

TTL_HOURS = 24


def stock(service, *codes, campaign="C1"):
    service.upload_from_file(ME, campaign, "tm", io.BytesIO(("\n".join(codes) + "\n").encode()))


def taken_over(service, clock):
    """A first reservation of one code, expired, and the same code reserved again by a second."""
    stock(service, "A1")
    first = service.reserve(ME, "C1", "tm", 1)
    clock.advance(hours=TTL_HOURS)
    second = service.reserve(ME, "C1", "tm", 1)
    assert first.codes == second.codes == ["A1"] and first.reserve_id != second.reserve_id
    return first, second


def test_assign_with_the_holding_reservation_changes_its_codes_only(service):
    stock(service, "A1", "A2", "A3", "A4")
    mine = service.reserve(ME, "C1", "tm", 2)
    theirs = service.reserve(ME, "C1", "tm", 1)
    free = sorted({"A1", "A2", "A3", "A4"} - set(mine.codes) - set(theirs.codes))
    result = service.assign(ME, "C1", [*mine.codes, *theirs.codes, *free, "NOPE"], reserve_id=mine.reserve_id)
    assert result == UpdateResult(
        in_=5,
        updated=2,
        unchanged={
            Unchanged.NOT_FOUND: ("NOPE",),
            Unchanged.OTHER_RESERVATION: tuple(theirs.codes),
            Unchanged.NOT_RESERVED: tuple(free),
        },
    )
    assert service.count(ME, "C1", "tm") == {"available": 1, "reserved": 1, "assigned": 2}


def test_a_late_assign_succeeds_while_nobody_else_took_the_code(service, clock):
    stock(service, "A1")
    first = service.reserve(ME, "C1", "tm", 1)
    clock.advance(hours=TTL_HOURS + 1)  # expired, and still carrying its reserveId
    assert service.assign(ME, "C1", first.codes, reserve_id=first.reserve_id) == UpdateResult(in_=1, updated=1)
    assert service.count(ME, "C1", "tm") == {"available": 0, "reserved": 0, "assigned": 1}


def test_a_stale_assign_cannot_take_a_code_another_reservation_holds_now(service, clock):
    first, second = taken_over(service, clock)
    result = service.assign(ME, "C1", first.codes, reserve_id=first.reserve_id)
    assert result == UpdateResult(in_=1, updated=0, unchanged={Unchanged.OTHER_RESERVATION: ("A1",)})
    [record] = service.lookup(ME, "A1", "C1")
    assert (record.reserve_id, record.assigned) == (second.reserve_id, None)
    # The holder can.
    assert service.assign(ME, "C1", second.codes, reserve_id=second.reserve_id) == UpdateResult(in_=1, updated=1)


def test_a_stale_release_cannot_free_a_code_another_reservation_holds_now(service, clock):
    first, second = taken_over(service, clock)
    result = service.release(ME, "C1", first.codes, reserve_id=first.reserve_id)
    assert result == UpdateResult(in_=1, updated=0, unchanged={Unchanged.OTHER_RESERVATION: ("A1",)})
    assert service.release_reservation(ME, "C1", first.reserve_id) == UpdateResult(in_=0, updated=0)
    assert service.lookup(ME, "A1", "C1")[0].reserve_id == second.reserve_id
    assert service.count(ME, "C1", "tm") == {"available": 0, "reserved": 1, "assigned": 0}
    # The holder can, and a release is idempotent.
    assert service.release(ME, "C1", second.codes, reserve_id=second.reserve_id) == UpdateResult(in_=1, updated=1)
    assert service.release(ME, "C1", second.codes, reserve_id=second.reserve_id) == UpdateResult(
        in_=1, updated=0, unchanged={Unchanged.NOT_RESERVED: ("A1",)}
    )


def test_release_with_a_reservation_leaves_assigned_and_unreserved_codes(service):
    stock(service, "A1", "A2", "A3")
    mine = service.reserve(ME, "C1", "tm", 2)
    [free] = sorted({"A1", "A2", "A3"} - set(mine.codes))
    service.assign(ME, "C1", mine.codes[:1], reserve_id=mine.reserve_id)
    result = service.release(ME, "C1", [*mine.codes, free], reserve_id=mine.reserve_id)
    assert result == UpdateResult(
        in_=3,
        updated=1,
        unchanged={Unchanged.ALREADY_ASSIGNED: (mine.codes[0],), Unchanged.NOT_RESERVED: (free,)},
    )
    assert service.count(ME, "C1", "tm") == {"available": 2, "reserved": 0, "assigned": 1}


def test_an_expired_reservation_is_released_by_its_holder_as_an_update(service, clock):
    stock(service, "A1", "A2")
    mine = service.reserve(ME, "C1", "tm", 2)
    clock.advance(hours=TTL_HOURS + 1)
    assert service.release_reservation(ME, "C1", mine.reserve_id) == UpdateResult(in_=2, updated=2)
    assert [r.reserve_id for r in service.lookup(ME, "A1", "C1")] == [None]


def test_a_reserve_id_is_bound_to_its_campaign(service):
    stock(service, "A1", campaign="C1")
    stock(service, "A1", campaign="C2")
    mine = service.reserve(ME, "C1", "tm", 1)
    assert service.release(ME, "C2", ["A1"], reserve_id=mine.reserve_id) == UpdateResult(
        in_=1, updated=0, unchanged={Unchanged.NOT_RESERVED: ("A1",)}
    )
    assert service.assign(ME, "C2", ["A1"], reserve_id=mine.reserve_id) == UpdateResult(
        in_=1, updated=0, unchanged={Unchanged.NOT_RESERVED: ("A1",)}
    )
    assert service.release_reservation(ME, "C2", mine.reserve_id) == UpdateResult(in_=0, updated=0)
    assert service.count(ME, "C1", "tm") == {"available": 0, "reserved": 1, "assigned": 0}


def test_a_code_given_more_than_once_is_acted_on_once_and_the_repeat_is_named(service):
    stock(service, "N1", "N2")
    service.reserve(ME, "C1", "tm", 2)
    result = service.assign(ME, "C1", ["N1", "N1", "N1", "N2", "N9", "N9"])
    assert result == UpdateResult(
        in_=6, updated=2, unchanged={Unchanged.NOT_FOUND: ("N9",), Unchanged.REPEATED: ("N1", "N9")}
    )
    assert result.to_dict() == {"in": 6, "updated": 2}
    assert result.unchanged_dict() == {"not_found": ["N9"], "repeated": ["N1", "N9"]}
