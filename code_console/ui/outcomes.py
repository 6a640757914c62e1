"""How the console words what assign and release did, per code (UpdateResult.unchanged)."""

from __future__ import annotations

import csv
import io

from code_console.core.models import Unchanged, UpdateResult
from code_console.ui.fit import plural

DONE = {"assign": "assigned", "release": "released"}

# Why a code was left as it was, per action: short enough for a result line.
REASONS: dict[Unchanged, dict[str, str]] = {
    Unchanged.NOT_FOUND: {"assign": "not in this campaign", "release": "not in this campaign"},
    Unchanged.ALREADY_ASSIGNED: {"assign": "already assigned (kept its first date)", "release": "assigned (never released)"},
    Unchanged.NOT_RESERVED: {"assign": "held by no reservation", "release": "not reserved (nothing to release)"},
    Unchanged.OTHER_RESERVATION: {"assign": "held by another reservation", "release": "held by another reservation"},
    Unchanged.REPEATED: {"assign": "given more than once (acted on once)", "release": "given more than once (acted on once)"},
}


def reason_text(reason: Unchanged, action: str) -> str:
    return REASONS[reason][action]


def summary(action: str, result: UpdateResult) -> str:
    """`released 705 of 1,005 codes · 300 assigned (never released)`."""
    text = f"{DONE[action]} {result.updated:,} of {plural(result.in_, 'code')}"
    groups = [(reason, codes) for reason, codes in result.unchanged.items() if codes]
    if groups:
        text += "".join(f" · {len(codes):,} {reason_text(reason, action)}" for reason, codes in groups)
    elif result.updated < result.in_:
        text += f" · {result.in_ - result.updated:,} left as they were"
    return text


def unchanged_listing(action: str, result: UpdateResult) -> str:
    """Every unchanged code, grouped under its reason: what the outcome dialog shows and saves."""
    lines: list[str] = []
    for reason, codes in result.unchanged.items():
        if codes:
            lines.append(f"# {len(codes):,} {reason_text(reason, action)}")
            lines.extend(codes)
    return "\n".join(lines)


def unchanged_count(result: UpdateResult) -> int:
    return sum(len(codes) for codes in result.unchanged.values())


def unchanged_rows(result: UpdateResult) -> list[str]:
    """`code,reason` lines (CSV), to save: read back as a code list, the first field is the code."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    for reason, codes in result.unchanged.items():
        for code in codes:
            writer.writerow([code, reason.value])
    return out.getvalue().splitlines()
