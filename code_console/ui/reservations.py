"""The one place the console assigns and releases codes, and names the reservation it acts for.

DESIGN: "A caller names its reservation": with a reserveId, assign and release change only the
codes still held by that reservation, so a support person acting on a lookup that has gone
stale cannot free a code another caller holds now. When the console knows the reservation
(a lookup of a reserveId), it passes it here.
"""

from __future__ import annotations

from code_console.core.models import Principal, UpdateResult
from code_console.core.service import CodeService


def update_codes(
    service: CodeService,
    principal: Principal,
    action: str,
    campaign: str,
    codes: list[str],
    *,
    reserve_id: str | None = None,
) -> UpdateResult:
    """Assign or release `codes`; with `reserve_id`, only those the reservation still holds."""
    call = service.assign if action == "assign" else service.release
    return call(principal, campaign, codes, reserve_id=reserve_id)
