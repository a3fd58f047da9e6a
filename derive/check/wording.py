"""Plain words for derive check's report: factors, products and constants as a person writes them.

No judging here, only text: an evaluated factor with the network's names (σ(net_h1)(1 − σ(net_h1))),
a product with its signs kept as signs, a local partial in the report's notation (h1(1 − h1)),
a constant factor in words ("a factor of 2 missing").

>>> from fractions import Fraction
>>> import sympy as sp
>>> constant_words(Fraction(1, 2)), times(2), article("parameter")
('a factor of 2 missing', 'twice', 'a parameter')
>>> t1, o1 = sp.Symbol("t1"), sp.Symbol("o1")
>>> short(sp.Mul(-1, t1 - o1, evaluate=False)), short(o1 * (1 - o1))
('−(t1 − o1)', 'o1(1 − o1)')
>>> juxtapose(["−2", "(t1 − o1)"])
'−2(t1 − o1)'
"""

from __future__ import annotations

from fractions import Fraction

from ..core.ops import ACTIVATIONS
from ..printing.printers import text as text_of
from .parse import Group, Name, Number

__all__ = ["article", "constant_words", "juxtapose", "plain", "short", "term_text", "times"]

# a function as the learner spelled it (sigma) -> the symbol the report prints (σ)
_LABELS = {word: act.label for act in ACTIVATIONS.values() for word in act.spellings if act.label}


def term_text(factors) -> str:
    """A product as the report writes it; a sign the reader turned into a factor −1 stays a sign."""
    texts, negative = [], False
    for f in factors:
        if isinstance(f.node, Number) and f.node.pos == f.node.end:  # the −1 of a leading minus
            negative = not negative
            continue
        texts.append(("−" if negative else "") + f.text)
        negative = False
    if negative:
        texts.append("(−1)")
    return " · ".join(texts)


def juxtapose(texts) -> str:
    """Factors side by side as a person writes them: −2(t1 − o1), i1 · w5."""
    return texts[0] + "".join(t if t.startswith("(") else f" · {t}" for t in texts[1:])


def plain(node, name_of) -> str:
    """An evaluated factor in plain text with network names: σ(net_h1)(1 − σ(net_h1)), −(t1 − o1)."""
    if isinstance(node, Name):
        return name_of(node)
    if isinstance(node, Number):
        return str(node.value)  # a Rational: 2, 1/2
    text = _plain_group(node, name_of)
    return f"({text})" if node.paren and node.op in ("+", "neg", "*", "/") else text


def _plain_group(node, name_of) -> str:
    args = [plain(a, name_of) for a in node.args]
    compound = [isinstance(a, Group) and not a.paren and a.op in ("+", "neg", "*", "/") for a in node.args]
    if node.op == "+":  # a negated term is subtracted: t1 − o1
        return args[0] + "".join(f" − {t[1:]}" if isinstance(a, Group) and a.op == "neg" else f" + {t}"
                                 for a, t in zip(node.args[1:], args[1:]))
    if node.op == "neg":
        return "−" + (f"({args[0]})" if compound[0] and node.args[0].op in ("+", "neg") else args[0])
    wrapped = [f"({t})" if c else t for t, c in zip(args, compound)]
    if node.op == "*":
        return juxtapose(wrapped)
    if node.op == "/":
        return f"{wrapped[0]}/{wrapped[1]}"
    if node.op == "^":
        return f"{wrapped[0]}^{wrapped[1]}" if len(wrapped[1]) == 1 else f"{wrapped[0]}^({args[1]})"
    key = node.op.rstrip("'")
    fn = _LABELS.get(key, key) + "′" * (len(node.op) - len(key))
    return f"{fn}({args[0]})"


def article(kind: str) -> str:
    return {"input": "an input", "target": "a target", "parameter": "a parameter"}.get(kind, kind)


def times(n: int) -> str:
    return {2: "twice", 3: "three times"}.get(n, f"{n} times")


_CONSTANTS = {0: "the product is 0: a factor makes it vanish",
              -1: "the sign is wrong: the product is off by a factor −1",
              2: "a factor of 2 too many", Fraction(1, 2): "a factor of 2 missing",
              -2: "off by a factor -2: the sign is wrong and a factor of 2 is extra",
              Fraction(-1, 2): "off by a factor -1/2: the sign is wrong and a factor of 2 is missing"}


def constant_words(c: Fraction) -> str:
    return _CONSTANTS.get(c, f"off by a constant factor {c}")


def short(expr) -> str:
    """A local partial as the report writes it: h1(1 − h1), −(t1 − o1)."""
    s = text_of(expr).replace("·(", "(").replace(" - ", " − ")
    return "−" + s[1:] if s.startswith("-") else s
