"""LaTeX pieces for documents: numbers, printers that put numbers in place of names, line breaking.

Every formula still comes from a SymPy printer (`derive.printing.LatexPrinter`); this module only
decides *where lines break*.  A chain "lhs = A = B = C" that would run past the right margin is
laid out as rows of an `align*` (or `aligned`), and a sum that is too long on its own is broken
between its terms, each term printed by the printer.

>>> import sympy as sp
>>> number(0.000438567734), number(-0.7), number(1e-12)
('0.000438567734', '-0.7', '1 \\\\times 10^{-12}')
>>> w, x = sp.Symbol("w1"), sp.Symbol("x")
>>> numeric_printer({"w1": -0.7, "x": 0.5}).doprint(sp.Mul(w, x, evaluate=False))
'(-0.7) \\\\times 0.5'
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import sympy as sp

from ..printing.printers import LatexPrinter

__all__ = ["BUDGET", "Row", "chain_rows", "number", "numeric_printer", "pack", "symbolic_printer", "terms",
           "tex_text", "width"]

BUDGET = 68  # characters of visible math that fit on one line of the document (11pt, 2.2cm margins)
DIGITS = 9  # significant digits of every number shown: the published worked examples use 9


ROUNDING = 1e-13  # a smaller magnitude is rounding error of a value that is exactly 0 (a softmax
# group's shared bias: its δ terms cancel, and float sums leave −1.1 × 10⁻¹⁶)


def number(x: float) -> str:
    """A float to DIGITS significant digits, as LaTeX (1e-9 as 1 \\times 10^{-9}, 1e-16 as 0)."""
    if abs(x) < ROUNDING:
        return "0"
    s = f"{x:.{DIGITS}g}"
    if "e" in s:
        mantissa, exp = s.split("e")
        return rf"{mantissa} \times 10^{{{int(exp)}}}"
    return "0" if s == "-0" else s


THIN = r" \, "  # between the factors of a product: names such as `input` do not run into the next


def symbolic_printer(names=None, order: str = "none") -> LatexPrinter:
    """The user's names, terms in the order they were built (spec order), factors a thin space apart."""
    return LatexPrinter(names, {"order": order, "mul_symbol": THIN})


def numeric_printer(values: dict, names=None) -> LatexPrinter:
    """A printer that writes each name's value in its place: w1·x at w1 = −0.7 gives (−0.7) × 0.5
    (negative values parenthesised, so that products and powers read correctly)."""
    shown = dict(names or {})
    for k, v in values.items():
        s = number(v)
        shown[k] = f"({s})" if s.startswith("-") or r"\times" in s else s
    return LatexPrinter(shown, {"order": "none", "mul_symbol": "times"})


_COMMAND = re.compile(r"\\(left|right|mathit|mathrm|operatorname|textcolor\{[^}]*\}|color\{[^}]*\}|,|;|quad)")
_FRAC = re.compile(r"\\frac\{([^{}]*(?:\{[^{}]*\}[^{}]*)*)\}\{([^{}]*(?:\{[^{}]*\}[^{}]*)*)\}")
_SCRIPT = re.compile(r"[_^]\{([^{}]*)\}")


def width(latex: str) -> float:
    """Roughly how many characters wide `latex` is when typeset (fractions count their wider part)."""
    s = _COMMAND.sub("", latex)
    while (t := _FRAC.sub(lambda m: "x" * round(max(width(m.group(1)), width(m.group(2)))), s)) != s:
        s = t
    s = _SCRIPT.sub(lambda m: "x" * round(0.7 * width(m.group(1))), s)
    s = re.sub(r"\\[A-Za-z]+", "x", s)  # any other command is about one symbol wide
    s = re.sub(r"[{}_^\s]", "", s)
    return (float(len(s)) + 1.5 * latex.count(r"\times") + latex.count("=") + latex.count("+")
            + 3 * latex.count(r"\qquad") + latex.count(r"\quad"))


def terms(expr, printer: LatexPrinter) -> list[str]:
    """The top-level terms of a sum, each printed, signs attached: ['a', '+ b', '- c'] (a product
    or a single term gives one piece: only sums are broken)."""
    if not isinstance(expr, sp.Add):
        return [printer.doprint(expr)]
    out = []
    for i, t in enumerate(printer._as_ordered_terms(expr, order=printer._settings["order"])):
        if t.could_extract_minus_sign() and not isinstance(t, sp.Add):
            s = printer._print(-t)
            if isinstance(-t, sp.Add):
                s = rf"\left({s}\right)"
            out.append(f"- {s}")
        else:
            out.append(printer._print(t) if i == 0 else f"+ {printer._print(t)}")
    return out


SEPARATOR = r", \qquad "  # between equations set side by side


def pack(items, budget: float = BUDGET) -> tuple[str, ...]:
    """Equations side by side, as many to a line as fit (widths add up: each is measured once)."""
    lines: list[list[str]] = []
    used = 0.0
    gap = width(SEPARATOR)
    for item in items:
        w = width(item)
        if lines and used + gap + w <= budget:
            lines[-1].append(item)
            used += gap + w
        else:
            lines.append([item])
            used = w
    return tuple(SEPARATOR.join(line) for line in lines)


@dataclass(frozen=True)
class Row:
    """One line of an aligned display: `lhs & rhs`, rhs beginning with its relation ("= ...")."""

    lhs: str
    rhs: str


def chain_rows(lhs: str, pieces, budget: float = BUDGET) -> tuple[Row, ...]:
    r"""lhs = p1 = p2 = ... as aligned rows, breaking before "=" and inside long sums.

    Each piece is a LaTeX string, or a list of term strings (from `terms`) that may be broken
    between terms.

    >>> [r.rhs for r in chain_rows("y", ["a", "b"])]
    ['= a = b']
    >>> [r.rhs for r in chain_rows("y", ["a", ["x" * 40, "+ " + "z" * 40]])]
    ['= a', '= xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx', '\\quad + zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz']
    """
    room = budget - width(lhs)
    lines: list[str] = []
    current = None
    for piece in pieces:
        parts = [piece] if isinstance(piece, str) else list(piece)
        if current is not None and width(current) + width(" ".join(parts)) + 2 <= room:
            current += " = " + " ".join(parts)
            continue
        if current is not None:
            lines.append(current)
        current = "= " + parts[0]
        for part in parts[1:]:
            if width(current) + width(part) > room:
                lines.append(current)
                current = r"\quad " + part
            else:
                current += " " + part
    if current is not None:
        lines.append(current)
    return tuple(Row(lhs if i == 0 else "", line) for i, line in enumerate(lines))


_TEX_SPECIAL = {"&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#", "_": r"\_", "{": r"\{", "}": r"\}",
                "~": r"\textasciitilde{}", "^": r"\textasciicircum{}", "\\": r"\textbackslash{}"}
_POWER = re.compile(r"\^(\w+)")


def tex_text(s: str) -> str:
    r"""A user's or registry's plain text, safe in LaTeX text mode (unicode math is declared in the preamble).

    >>> tex_text("e^z/(1 + e^z) for x_1 at 100%")
    'e\\textsuperscript{z}/(1 + e\\textsuperscript{z}) for x\\_1 at 100\\%'
    """
    parts = _POWER.split(s)  # text, exponent, text, ...: e^z is written as a superscript
    return "".join(rf"\textsuperscript{{{tex_text(p)}}}" if i % 2 else "".join(_TEX_SPECIAL.get(c, c) for c in p)
                   for i, p in enumerate(parts))


_TOKEN = re.compile(r"∂([A-Za-z_][\w']*)/∂([A-Za-z_][\w']*)|([A-Za-z_][\w']*)|([→·=−+/()²½Σ0-9.,]| )|(.)", re.S)
_OPS = {"→": r"\to ", "·": r"\cdot ", "−": "-", "²": "^{2}", "½": r"\tfrac{1}{2}", "Σ": r"\Sigma "}
# words of derive check's messages: a node or parameter named like one stays a word there
# ("a path can start at a parameter", whatever the network calls its nodes)
_ENGLISH = frozenset("""a an and are as at be but by can change changes chain connection does each factor
    for from goes has in independent input is it its link links loss missing never no node nodes not of on one
    only or output parameter parameters passes path paths product products scales so start starts takes than that
    the this through to term terms variable vanishes weight when with""".split())


def math_prose(message: str, names: dict[str, str]) -> str:
    """A plain-text message of derive (derive check's words) as text with $…$ math: each run of the
    network's names, factors ∂a/∂b and the operators between them typeset with `names` (plain
    name or spelling -> LaTeX).  The words stay text.

    >>> math_prose("add ∂h1/∂w1 · ∂L/∂h1, the path w1 → h1", {"h1": "h_{1}", "w1": "w_{1}", "L": "L"})
    'add $\\\\partial h_{1}/\\\\partial w_{1} \\\\cdot \\\\partial L/\\\\partial h_{1}$, the path $w_{1} \\\\to h_{1}$'
    """
    tokens = []  # (kind, text, latex): kind "math", "neutral" (may join math) or "text"
    for m in _TOKEN.finditer(message):
        num, den, word, op, other = m.groups()
        if num and num in names and den in names:
            tokens.append(("math", m.group(0), rf"\partial {names[num]}/\partial {names[den]}"))
        elif word and word in names and word not in _ENGLISH:
            tokens.append(("math", word, names[word]))
        elif op:
            tokens.append(("neutral", op, _OPS.get(op, op)))
        else:
            tokens.append(("text", m.group(0), ""))
    out, k = [], 0
    while k < len(tokens):
        run = _run(tokens, k)  # the tokens up to the next word
        if not any(t[0] == "math" for t in run):  # operators and digits without a name: text
            out.append("".join(t[1] for t in run) or tokens[k][1])
            k += len(run) or 1
            continue
        lead = []  # a space, or a bracket closing or opening outside the math, stays text
        while run and run[0][0] == "neutral" and (run[0][1] in " ),:" or _unmatched_open(run)):
            lead.append(run.pop(0)[1])
        while run and (run[-1][0] == "neutral" and run[-1][1] in " ,.(" or _unmatched_close(run)):
            run.pop()  # a trailing space, comma or full stop, or a closing bracket opened outside
        out.append("".join(lead) + "$" + re.sub(" {2,}", " ", "".join(t[2] for t in run)).strip() + "$")
        k += len(lead) + len(run)
    return "".join(out)


def _run(tokens, k):
    run = []
    while k < len(tokens) and tokens[k][0] != "text":
        run.append(tokens[k])
        k += 1
    return run


def _unmatched_close(run) -> bool:
    text = "".join(t[1] for t in run)
    return text.endswith(")") and text.count(")") > text.count("(")


def _unmatched_open(run) -> bool:
    text = "".join(t[1] for t in run)
    return text.startswith("(") and text.count("(") > text.count(")")
