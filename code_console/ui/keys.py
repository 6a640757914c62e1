"""The key list, built from the bindings themselves: the help screen shows it, the README's key
table is generated from it (`python -m code_console.ui.keys`) and a test checks that they agree.

A binding is listed when it has a tooltip: the tooltip is what the key does, in the help's words.
"""

from __future__ import annotations

from dataclasses import dataclass

from textual.binding import Binding

KEY_NAMES = {
    "question_mark": "?",
    "slash": "/",
    "plus": "+",
    "minus": "-",
    "equals_sign": "=",
    "escape": "esc",
}


@dataclass(frozen=True)
class KeyRow:
    where: str
    keys: str
    does: str


def key_label(keys: str) -> str:
    """`question_mark,f1` -> `? f1`."""
    return " ".join(KEY_NAMES.get(k.strip(), k.strip()) for k in keys.split(","))


def own_bindings(cls: type) -> list[Binding]:
    return [b for b in cls.__dict__.get("BINDINGS", []) if isinstance(b, Binding)]


def key_rows(sections: list[tuple[str, list[type]]]) -> list[KeyRow]:
    """One row per documented binding, under the section that owns it.

    Bindings of one Binding.Group make one row: their keys together, the first one's tooltip
    (which says what each does, in order). Groups are used for keys the footer does not show:
    Textual's compact footer runs a group into the next key.
    """
    rows: list[KeyRow] = []
    for where, classes in sections:
        first = True
        for cls in classes:
            bindings = own_bindings(cls)
            index = 0
            while index < len(bindings):
                binding = bindings[index]
                members = [binding]
                while binding.group is not None and index + len(members) < len(bindings) and bindings[index + len(members)].group is binding.group:
                    members.append(bindings[index + len(members)])
                index += len(members)
                if not binding.tooltip:
                    continue
                keys = " ".join(dict.fromkeys(key_label(m.key) for m in members))
                rows.append(KeyRow(where if first else "", keys, binding.tooltip))
                first = False
    return rows


def markdown_table(rows: list[KeyRow]) -> str:
    lines = ["| Where | Keys | Does |", "|---|---|---|"]
    for row in rows:
        keys = " ".join(f"`{k}`" for k in row.keys.split(" "))
        lines.append(f"| {row.where} | {keys} | {row.does} |")
    return "\n".join(lines)


if __name__ == "__main__":
    from code_console.ui.app import help_rows

    print(markdown_table(help_rows()))
