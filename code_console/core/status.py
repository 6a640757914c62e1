"""The one status rule, and what assign and release may change, written once as data.

A code's status is computed from its stored fields, never stored (spec, use case 5):

- assigned: `date.assigned` set;
- reserved: not assigned, `date.reserved` a date later than the cutoff (now minus the TTL);
- available: not assigned, and `date.reserved` unset or at or before the cutoff (the original
  service's boundary: a reservation exactly 24 h old is available again).

A document written by another tool may not fit: a code that is not a string, or a
`date.reserved` that is not a date (an ISO string left by an export round trip). Such a code
is in none of the three statuses: it is never handed out and never counted as available, so
`count` and `reserve` agree; `code-console check` reports it.

The rules below are expressions over a code's logical fields (CODE, RESERVED, ASSIGNED,
RESERVE_ID) and named parameters (CUTOFF, RESERVE_ID_PARAM). `holds()` evaluates them in
Python; each store translates the same expressions into its own query language (MongoDB
filters and aggregation expressions in `mongo.py`, SQL in `sqlite.py`), so the rule exists
once and every form of it is derived.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Mapping

from code_console.core.models import Status

# Logical fields of a stored code.
CODE = "code"
RESERVED = "reserved"
ASSIGNED = "assigned"
RESERVE_ID = "reserveId"
DATES = "date"  # the object that holds saved, reserved and assigned
FIELDS = (CODE, RESERVED, ASSIGNED, RESERVE_ID, DATES)

# Parameters bound when a rule is evaluated or translated.
CUTOFF = "cutoff"  # now minus the reservation TTL, by the database's clock
RESERVE_ID_PARAM = "reserve_id"  # the reservation a caller names


@dataclass(frozen=True)
class IsSet:
    """The field is present and not null (any type)."""

    field: str


@dataclass(frozen=True)
class IsUnset:
    """The field is missing or null."""

    field: str


@dataclass(frozen=True)
class IsString:
    field: str


@dataclass(frozen=True)
class IsStringOrUnset:
    """The field is missing, null or a string."""

    field: str


@dataclass(frozen=True)
class IsObjectOrMissing:
    """The field is a document (an object), or absent: a date holder a write can add to.
    Python values: True for an object or missing, False for anything else."""

    field: str


@dataclass(frozen=True)
class After:
    """The field is a date strictly later than the parameter (a date)."""

    field: str
    param: str


@dataclass(frozen=True)
class NotAfter:
    """The field is a date at or before the parameter (a date)."""

    field: str
    param: str


@dataclass(frozen=True)
class Equals:
    field: str
    param: str


@dataclass(frozen=True)
class All:
    parts: tuple[Rule, ...]


@dataclass(frozen=True)
class AnyOf:
    parts: tuple[Rule, ...]


Rule = IsSet | IsUnset | IsString | IsStringOrUnset | IsObjectOrMissing | After | NotAfter | Equals | All | AnyOf


def all_of(*parts: Rule) -> All:
    return All(tuple(parts))


def any_of(*parts: Rule) -> AnyOf:
    return AnyOf(tuple(parts))


UNASSIGNED = IsUnset(ASSIGNED)
# A `date` that is null or a string (an export round trip) cannot take a reserved date.
# A reserveId that is not a string (a list, a number) cannot be compared and set: never handed out.
FRESH = all_of(UNASSIGNED, IsString(CODE), IsObjectOrMissing(DATES), IsUnset(RESERVED), IsStringOrUnset(RESERVE_ID))  # never reserved (or released)
EXPIRED = all_of(UNASSIGNED, IsString(CODE), NotAfter(RESERVED, CUTOFF), IsStringOrUnset(RESERVE_ID))  # its reservation is over

STATUS_RULES: dict[Status, Rule] = {
    Status.ASSIGNED: IsSet(ASSIGNED),
    Status.RESERVED: all_of(UNASSIGNED, IsString(CODE), After(RESERVED, CUTOFF)),
    # Two branches, each an index range on MongoDB: the reserve looks at fresh codes first.
    Status.AVAILABLE: any_of(FRESH, EXPIRED),
}

# A caller's reservation holds a code while the code carries its reserveId and is unassigned,
# expired or not: nobody else has taken it since (taking it replaces the reserveId).
HELD_BY = all_of(UNASSIGNED, Equals(RESERVE_ID, RESERVE_ID_PARAM))

# Assign sets date.assigned once; with a reservation named, only on codes it holds
# (a late assign is allowed while nobody else has taken the code: spec, use case 3).
MAY_ASSIGN = all_of(UNASSIGNED, IsObjectOrMissing(DATES))
MAY_ASSIGN_HELD = all_of(HELD_BY, IsObjectOrMissing(DATES))

# Release unsets date.reserved and reserveId of an unassigned code that has a reserved date
# (spec, use case 4: expired or not); with a reservation named, only codes it holds.
MAY_RELEASE = all_of(UNASSIGNED, IsSet(RESERVED))
MAY_RELEASE_HELD = all_of(UNASSIGNED, IsSet(RESERVED), Equals(RESERVE_ID, RESERVE_ID_PARAM))


def holds(rule: Rule, values: Mapping[str, Any], params: Mapping[str, Any]) -> bool:
    """Evaluate a rule on one code's logical field values (a missing key is a missing field)."""
    if isinstance(rule, All):
        return all(holds(p, values, params) for p in rule.parts)
    if isinstance(rule, AnyOf):
        return any(holds(p, values, params) for p in rule.parts)
    value = values.get(rule.field)
    if isinstance(rule, IsSet):
        return value is not None
    if isinstance(rule, IsUnset):
        return value is None
    if isinstance(rule, IsString):
        return isinstance(value, str)
    if isinstance(rule, IsStringOrUnset):
        return value is None or isinstance(value, str)
    if isinstance(rule, IsObjectOrMissing):
        return values.get(rule.field, True) is True
    if isinstance(rule, After):
        return isinstance(value, datetime) and value > params[rule.param]
    if isinstance(rule, NotAfter):
        return isinstance(value, datetime) and value <= params[rule.param]
    if isinstance(rule, Equals):
        return value == params[rule.param]
    raise TypeError(f"not a rule: {rule!r}")


def status_of(values: Mapping[str, Any], cutoff: datetime) -> Status | None:
    """The status of one stored code, or None when the document does not fit the schema."""
    params = {CUTOFF: cutoff}
    for status, rule in STATUS_RULES.items():
        if holds(rule, values, params):
            return status
    return None
