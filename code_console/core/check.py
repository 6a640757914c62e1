"""Documents that do not fit the original's schema, and the report `code-console check` prints.

An existing collection may hold what other tools left: a date stored as an ISO string (an
export round trip), no `date` at all, a type the product does not know, a code that is a number
(a CSV imported with mongoimport), a code with spaces at its ends (an older version stored it
so). The product never crashes on them and never hands out what it cannot act on (see
status.py); this says what there is, so an operator can decide.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from code_console.core.code_rule import normalize_code
from code_console.core.contract import StoredCode
from code_console.core.errors import InvalidCode
from code_console.core.models import CodeType

# kind -> what an operator reads
KINDS = {
    "code_not_string": "the code is not a string: it is never reserved or counted",
    "code_not_normalized": "the code is not in the form the code rule gives (spaces or invisible characters at its ends, "
    "say; an older version stored it so): it is found only when given exactly as stored, and a file with its normal "
    "form adds a second document",
    "unknown_type": "the type is neither tm nor external: it belongs to no pool",
    "reserved_not_date": "date.reserved is not a date: the code is neither available nor reserved (releasing it returns it to the pool)",
    "assigned_not_date": "date.assigned is not a date: the code counts as assigned",
    "saved_not_date": "date.saved is not a date",
    "no_date": "the document has no date.saved",
    "date_not_object": "date is not an object (null or text): the code is in no status, never handed out or assigned",
    "reserve_id_not_string": "reserveId is not a string: the code is never handed out (it cannot be compared and set)",
    "id_not_original": "_id is not {campaign_id, code} in that order (another tool wrote it): the product finds and "
    "updates it by its fields, but the original service, which looks codes up by the whole _id, does not see it",
}


def _describe(value: Any) -> str:
    return f"{type(value).__name__} {value!r}"[:80]


def _normal(code: str) -> bool:
    """Whether a stored code is what the code rule makes of it (its length is not this check's business)."""
    try:
        return normalize_code(code, max_length=max(len(code), 1)) == code
    except InvalidCode:
        return False


def misfits(s: StoredCode) -> list[str]:
    """What about one stored code does not fit the schema: a list of KINDS keys, each with its value."""
    out: list[str] = []
    if not isinstance(s.code, str):
        out.append(f"code_not_string: {_describe(s.code)}")
    elif not _normal(s.code):
        out.append(f"code_not_normalized: {_describe(s.code)}")
    if CodeType.stored(s.code_type) is None:
        out.append(f"unknown_type: {_describe(s.code_type)}")
    if not s.dates_fit:
        out.append("date_not_object")
    elif s.saved is None:
        out.append("no_date")
    elif not isinstance(s.saved, datetime):
        out.append(f"saved_not_date: {_describe(s.saved)}")
    if s.reserved is not None and not isinstance(s.reserved, datetime):
        out.append(f"reserved_not_date: {_describe(s.reserved)}")
    if s.assigned is not None and not isinstance(s.assigned, datetime):
        out.append(f"assigned_not_date: {_describe(s.assigned)}")
    if not s.id_fits:
        out.append("id_not_original")
    if s.reserve_id is not None and not isinstance(s.reserve_id, str):
        out.append(f"reserve_id_not_string: {_describe(s.reserve_id)}")
    return out


@dataclass
class CheckReport:
    """Per kind: how many documents, and up to a few examples (code and what was found)."""

    campaign_id: str
    documents: int = 0
    counts: dict[str, int] = field(default_factory=dict)
    examples: dict[str, list[dict]] = field(default_factory=dict)

    def add(self, problem: str, code: Any, limit: int) -> None:
        kind, _, found = problem.partition(": ")
        self.counts[kind] = self.counts.get(kind, 0) + 1
        shown = self.examples.setdefault(kind, [])
        if len(shown) < limit:
            shown.append({"code": code if isinstance(code, (str, int, float)) else repr(code), "found": found or None})

    @property
    def ok(self) -> bool:
        return not self.counts

    def to_dict(self) -> dict:
        return {
            "campaignId": self.campaign_id,
            "documents": self.documents,
            "misfits": {
                kind: {"count": n, "meaning": KINDS[kind], "examples": self.examples.get(kind, [])} for kind, n in sorted(self.counts.items())
            },
        }
