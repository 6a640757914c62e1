"""The checker on hand-written histories: it passes a correct one and fails each kind of fault
(so that a passing Jepsen run means something)."""

from __future__ import annotations

from tests.jepsen.history import Op, check

TTL = 2.0
COUNTS = {"available": 0, "reserved": 1, "assigned": 0}


def reserve(process, at, rid, codes, took=0.05):
    return Op(process, at * 100, "reserve", {"count": len(codes), "key": None}, at, "ok", at + took, {"reserveId": rid, "codes": codes})


def change(f, process, at, codes, rid, holder, unchanged=None):
    answer = {"in": len(codes), "updated": len(codes) - len(unchanged or {}), "unchanged": unchanged or {}}
    return Op(process, at * 100 + 1, f, {"codes": codes, "reserveId": rid, "holder": holder}, at, "ok", at + 0.05, answer)


def test_a_hold_taken_after_expiry_is_valid():
    ops = [reserve(1, 0.0, "A", ["X"]), reserve(2, 2.1, "B", ["X"])]
    report = check(ops, {"X": {"reserveId": "B", "assigned": None}}, 1, COUNTS, TTL)
    assert report.valid and report.row()["duplicated"] == 0, report.problems


def test_a_code_handed_out_while_held_is_duplicated():
    ops = [reserve(1, 0.0, "A", ["X"]), reserve(2, 1.0, "B", ["X"])]
    report = check(ops, {"X": {"reserveId": "B", "assigned": None}}, 1, COUNTS, TTL)
    assert (report.valid, report.duplicated, report.lost) == (False, 1, 0)


def test_a_named_release_ends_the_hold_and_an_assign_by_its_holder_never_does():
    ops = [reserve(1, 0.0, "A", ["X"]), change("release", 1, 0.5, ["X"], "A", "A"), reserve(2, 1.0, "B", ["X"])]
    assert check(ops, {"X": {"reserveId": "B", "assigned": None}}, 1, COUNTS, TTL).valid
    ops = [reserve(1, 0.0, "A", ["X"]), change("assign", 1, 0.5, ["X"], "A", "A"), reserve(2, 5.0, "B", ["X"])]
    report = check(ops, {"X": {"reserveId": "B", "assigned": 1}}, 1, {"available": 0, "reserved": 0, "assigned": 1}, TTL)
    assert report.duplicated == 1 and not report.valid


def test_an_assign_naming_a_reservation_that_lost_the_code_is_misassigned():
    ops = [reserve(1, 0.0, "A", ["X"]), reserve(2, 3.0, "B", ["X"]), change("assign", 1, 4.0, ["X"], "A", "A")]
    report = check(ops, {"X": {"reserveId": "B", "assigned": 1}}, 1, {"available": 0, "reserved": 0, "assigned": 1}, TTL)
    # and, its holder having assigned it, the code went to two callers
    assert (report.valid, report.misassigned, report.duplicated) == (False, 1, 1)


def test_a_code_the_store_does_not_show_under_its_holder_is_lost_and_unexplained_holds_are_stranded():
    ops = [reserve(1, 0.0, "A", ["X"])]
    report = check(ops, {"X": {"reserveId": None, "assigned": None}, "Y": {"reserveId": "Z", "assigned": None}}, 2,
                   {"available": 1, "reserved": 1, "assigned": 0}, TTL)
    assert (report.valid, report.lost, report.stranded) == (False, 1, 1)


def test_counts_that_do_not_add_up_to_the_upload_are_unconserved():
    count = Op(1, 9, "count", {}, 1.0, "ok", 1.1, {"counts": {"available": 0, "reserved": 0, "assigned": 0}})
    report = check([reserve(1, 0.0, "A", ["X"]), count], {"X": {"reserveId": "A", "assigned": None}}, 1, COUNTS, TTL)
    assert (report.valid, report.unconserved) == (False, 1)


def test_a_release_by_another_process_compares_within_the_clocks_bound():
    # B's ok is recorded 30 ms before A's release on A's clock: within 2 x 20 ms, not a proof of overlap.
    ops = [reserve(1, 0.0, "A", ["X"]), change("release", 1, 0.53, ["X"], "A", "A"), reserve(2, 0.45, "B", ["X"])]
    final = {"X": {"reserveId": "B", "assigned": None}}
    assert check(ops, final, 1, COUNTS, TTL, uncertainty=0.02).valid
    assert check(ops, final, 1, COUNTS, TTL, uncertainty=0.01).duplicated == 1


def test_one_process_orders_its_operations_even_within_one_millisecond():
    grant = reserve(1, 0.0, "A", ["X"], took=0.0)
    whole = Op(1, grant.op + 1, "release", {"codes": None, "reserveId": "A", "holder": "A"}, 0.0, "ok", 0.0,
               {"in": 1, "updated": 1, "unchanged": {}})
    ops = [grant, whole, reserve(2, 0.001, "B", ["X"], took=0.0)]
    assert check(ops, {"X": {"reserveId": "B", "assigned": None}}, 1, COUNTS, TTL).valid


def test_two_grants_within_the_clocks_bound_may_have_run_in_either_order():
    # A's ok is recorded 12 ms before B's, on another clock; B released at once. With a 50 ms
    # bound B may have taken and released X before A took it: valid. Had B kept it, no order fits.
    a = reserve(1, 0.0, "A", ["X"], took=0.975)
    b = reserve(2, 0.9, "B", ["X"], took=0.087)
    released = change("release", 2, 0.987, ["X"], None, "B")
    released.op = b.op + 1
    final = {"X": {"reserveId": "A", "assigned": None}}
    assert check([a, b, released], final, 1, COUNTS, TTL, uncertainty=0.05).valid
    assert check([a, b], final, 1, COUNTS, TTL, uncertainty=0.05).duplicated == 1
