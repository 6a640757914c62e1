"""The one place the console assigns and releases codes, and names the reservation it acts for.

DESIGN: "A caller names its reservation": with a reserveId, assign and release change only the
codes still held by that reservation. When the console knows the reservation (a lookup of a
reserveId), it passes it here. The core's `assign`/`release` take `reserve_id=` once the
ownership change lands; until then the call goes without it (GUARDED_BY_RESERVATION is False)
and nothing else in the console needs to change.
"""

from __future__ import annotations

import inspect

from code_console.core.models import Principal, UpdateResult
from code_console.core.service import CodeService

GUARDED_BY_RESERVATION = all(
    "reserve_id" in inspect.signature(getattr(CodeService, name)).parameters for name in ("assign", "release")
)


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
    if reserve_id is not None and _takes_reserve_id(call):
        return call(principal, campaign, codes, reserve_id=reserve_id)
    return call(principal, campaign, codes)


def _takes_reserve_id(call) -> bool:
    try:
        return "reserve_id" in inspect.signature(call).parameters
    except (TypeError, ValueError):  # pragma: no cover - builtins without a signature
        return False
