"""The console's error policy: what the user sees for each kind of domain error, in one table.

Like the command line's EXIT_STATUS and the API's status table, it maps every ErrorKind
(tests/test_error_policy.py checks that none is missing). The console never looks at an
error's class or matches its text; which backend failed is told by the error's stable code.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from code_console.core.errors import CodeConsoleError, ErrorKind, ObjectStoreUnavailable, StoreUnavailable


class Reaction(enum.Enum):
    FIX_INPUT = "fix_input"  # the user can fix it: said beside the form's fields, else in a dialog
    OUTAGE = "outage"  # MongoDB or S3 away or slow: a header mark and one toast; a user's action says so too
    OPERATOR = "operator"  # an operator must act (credentials, settings, rights): said with what to set
    QUIET = "quiet"  # the user asked for it (cancel): noted where the work was shown, no dialog


REACTIONS: dict[ErrorKind, tuple[Reaction, str]] = {
    ErrorKind.INVALID_INPUT: (Reaction.FIX_INPUT, "Cannot do that"),
    ErrorKind.CONFLICT: (Reaction.FIX_INPUT, "Conflicts with what is stored"),
    ErrorKind.NOT_FOUND: (Reaction.FIX_INPUT, "Not found"),
    ErrorKind.TOO_LARGE: (Reaction.FIX_INPUT, "Too large"),
    ErrorKind.UNAVAILABLE: (Reaction.OUTAGE, "Unreachable"),
    ErrorKind.UNAUTHENTICATED: (Reaction.OPERATOR, "Not signed in"),
    ErrorKind.FORBIDDEN: (Reaction.OPERATOR, "Not allowed"),
    ErrorKind.UPSTREAM_REFUSED: (Reaction.OPERATOR, "Credentials refused"),
    ErrorKind.NOT_CONFIGURED: (Reaction.OPERATOR, "Not configured"),
    ErrorKind.CANCELLED: (Reaction.QUIET, "Cancelled"),
}


class StoreState(enum.Enum):
    OK = "ok"
    SLOW = "slow"  # reached, but did not answer in time: busy, not an outage
    UNREACHABLE = "unreachable"


@dataclass(frozen=True)
class Verdict:
    """How the console reacts to one failure."""

    reaction: Reaction
    title: str
    message: str
    store: StoreState | None = None  # set when the failure says how MongoDB is doing


def judge(error: BaseException | None) -> Verdict:
    if isinstance(error, CodeConsoleError):
        reaction, title = REACTIONS[error.kind]
        store = None
        if error.code == StoreUnavailable.code:
            store = StoreState.SLOW if error.details.get("slow") else StoreState.UNREACHABLE
            title = "Store slow" if store is StoreState.SLOW else "Store unreachable"
        elif error.code == ObjectStoreUnavailable.code:
            title = "S3 unreachable"
        return Verdict(reaction, title, error.message, store)
    if isinstance(error, OSError):
        where = getattr(error, "filename", None)
        text = error.strerror or str(error)
        return Verdict(Reaction.FIX_INPUT, "File error", f"{text}: {where}" if where else text)
    return Verdict(Reaction.OPERATOR, "Unexpected error", f"{type(error).__name__}: {error}")
