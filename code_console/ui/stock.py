"""When a pool counts as low on stock: the browser and the campaign panels ask here, once.

(Issue 13 moves this rule into the core; until then the console decides it in this one place.)
"""

from __future__ import annotations

from code_console.core.models import StatusCounts


def low_stock(counts: StatusCounts, threshold: int) -> bool:
    """A pool that has codes and fewer than `threshold` of them available."""
    return counts.total > 0 and counts.available < threshold
