"""The lines of a generated function and how they wrap: text only, no math.

>>> join(["a", "-b", "c"], 8)
'a - b + c'
>>> term_text(sp.Symbol("w5"), "δ_net_o1"), unpack(["x"], 4), tuple_literal(["w1", "w2"])
('w5·δ_net_o1', '(x,)', '("w1", "w2")')
"""

from __future__ import annotations

from dataclasses import dataclass

import sympy as sp

from ..printing.printers import text

__all__ = ["LINE", "Line", "as_tuple", "doc_text", "join", "join_rows", "key", "short_sum", "term_text",
           "tuple_literal", "unpack"]

LINE = 100  # wrap long sums at about this many characters


@dataclass(frozen=True)
class Line:
    """One assignment in a generated function: `target = code` (or `target += code` with op
    "+="), with an optional comment above."""

    target: str
    code: str
    comment: str = ""
    op: str = "="


def join(terms: list[str], indent: int) -> str:
    """A sum of printed terms, wrapped inside parentheses when it grows past the line length."""
    pieces = [terms[0]] + [f"- {t[1:]}" if t.startswith("-") else f"+ {t}" for t in terms[1:]]
    out = " ".join(pieces)
    return out if indent + len(out) <= LINE else _wrapped(pieces, indent)


def _wrapped(pieces: list[str], indent: int) -> str:
    """Pieces in parentheses, as many to a row as fit, the rows aligned inside the parenthesis."""
    rows = [pieces[0]]
    for piece in pieces[1:]:
        if len(rows[-1]) + 1 + len(piece) > LINE - indent:
            rows.append(piece)
        else:
            rows[-1] += " " + piece
    return "(" + ("\n" + " " * (indent + 1)).join(rows) + ")"


def term_text(factor: sp.Expr | None, delta: str) -> str:
    """One term of a chain-rule sum for a comment: `w5·δ_net_o1`, `(o1 - t1)`, `δ_net_h1`."""
    if not delta:
        return text(factor)
    if factor is None or factor == 1:
        return delta
    shown = text(factor)
    return f"({shown})·{delta}" if isinstance(factor, sp.Add) else f"{shown}·{delta}"


def short_sum(terms: list[str]) -> str:
    """A comment's sum, the middle elided past six terms."""
    if len(terms) == 1:
        return terms[0]
    if len(terms) > 6:
        terms = terms[:2] + ["…"] + terms[-1:]
    return "(" + " + ".join(terms) + ")"


def key(name: str) -> str:
    """A name as a Python string literal (names are identifiers, so plain double quotes suffice)."""
    return f'"{name}"' if name.isidentifier() else repr(name)


def as_tuple(items) -> str:
    """Printed items as a Python tuple: `(a,)`, `(a, b)`."""
    items = list(items)
    return f"({items[0]},)" if len(items) == 1 else "(" + ", ".join(items) + ")"


def tuple_literal(names) -> str:
    return as_tuple(key(n) for n in names)


def unpack(names: list[str], indent: int) -> str:
    """Assignment targets for unpacking: `(x,)`, `x1, x2`, or a wrapped parenthesized tuple."""
    if len(names) == 1:
        return f"({names[0]},)"
    flat = ", ".join(names)
    if indent + len(flat) <= LINE - 40:
        return flat
    return _wrapped([name + "," for name in names], indent)


def join_rows(rows: list[str], indent: int) -> str:
    """Rows of a matrix literal, one per line when they do not fit on one."""
    if sum(len(r) + 2 for r in rows) + indent <= LINE:
        return ", ".join(rows)
    return (",\n" + " " * indent).join(rows)


def doc_text(s: str) -> str:
    """Text safe inside a triple-quoted docstring: backslashes and quotes escaped, one line, printable."""
    s = "".join(c if c.isprintable() else " " for c in s)
    return " ".join(s.replace("\\", "\\\\").replace('"', '\\"').split())
