"""Lines that fit the terminal: parts are dropped whole, lowest priority first, never cut mid-word.

The header, the status lines and the footer must read whole at 80 columns; a line that does
not fit loses its least important parts instead of ending in an ellipsis. Only a single part
longer than the whole line is cut, with an ellipsis, so that something is always said.
"""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text


@dataclass(frozen=True)
class Part:
    text: str | Text
    priority: int = 0  # higher stays longer
    short: str | None = None  # a shorter form tried before the part is dropped

    @property
    def plain(self) -> str:
        return self.text.plain if isinstance(self.text, Text) else self.text


def fit(parts: list[Part], width: int, separator: str = " · ") -> Text:
    """Join the parts that fit in `width` cells, in their order."""
    kept = [p for p in parts if p.plain]
    while kept:
        line = _join(kept, separator)
        if line.cell_len <= width:
            return line
        shortenable = [p for p in kept if p.short is not None and p.short != p.plain]
        if shortenable:
            lowest = min(shortenable, key=lambda p: p.priority)
            kept[kept.index(lowest)] = Part(lowest.short or "", lowest.priority)
            continue
        lowest = min(kept, key=lambda p: p.priority)
        if len(kept) == 1:
            # The one part left is longer than the line (a long campaign id, a message naming
            # a long value): show its start, marked as cut, rather than nothing at all.
            line.truncate(max(width, 1), overflow="ellipsis")
            return line
        kept.remove(lowest)
    return Text("")


def _join(parts: list[Part], separator: str) -> Text:
    out = Text()
    for index, part in enumerate(parts):
        if index:
            out.append(separator)
        out.append(part.text if isinstance(part.text, Text) else Text(part.text))
    return out


def plural(count: int, noun: str, plural_noun: str | None = None) -> str:
    """`1 code`, `2 codes`, `1,005 codes`."""
    return f"{count:,} {noun if count == 1 else (plural_noun or noun + 's')}"
