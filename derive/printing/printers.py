"""SymPy printers for derive's targets: names follow the user's spec, sums read t − y.

`LatexPrinter` typesets names as core/naming.py says (w1 as w_{1}), honouring the spec's [latex]
table; `TextPrinter` prints the user's names unchanged.  Both put a sum's positive terms first,
so a loss derivative reads −(t1 − o1) as in the classic derivations.

>>> import sympy as sp
>>> t1, o1 = sp.Symbol("t1"), sp.Symbol("o1")
>>> latex(sp.Mul(-1, t1 - o1, evaluate=False))
'- (t_{1} - o_{1})'
>>> text(t1 - o1)
't1 - o1'
"""

from __future__ import annotations

import itertools
import re

import sympy as sp
from sympy.printing.latex import LatexPrinter as _SympyLatex
from sympy.printing.str import StrPrinter as _SympyStr

from ..core.naming import default_latex_name, latex_name, leibniz

__all__ = ["LatexPrinter", "PositiveFirst", "TextPrinter", "default_latex_name", "latex", "latex_factor",
           "latex_name", "more_leaves_than", "text"]


class PositiveFirst:
    """Printer mixin: a sum's positive terms first, t1 - o1 as the derivation writes it, not -o1 + t1."""

    def _as_ordered_terms(self, expr, order=None):
        terms = super()._as_ordered_terms(expr, order=order)
        return sorted(terms, key=lambda t: t.could_extract_minus_sign())


class LatexPrinter(PositiveFirst, _SympyLatex):
    """A SymPy LaTeX printer that knows derive's names and writes sums positive-first."""

    def __init__(self, names=None, settings=None):
        super().__init__(settings or {})
        self.names = dict(names or {})

    def name(self, name: str) -> str:
        return latex_name(name, self.names)

    def _print_Symbol(self, expr, style="plain"):
        return self.name(expr.name)

    def _print_AppliedBase(self, expr, exp=None):
        # an activation applied by name, σ(net_h1), not its formula
        arg = self._print(expr.args[0])
        if expr.args[0].is_Atom and arg.startswith("(") and arg.endswith(")"):
            arg = arg[1:-1]  # a negative number in place of the name: tanh(-0.26), not tanh((-0.26))
        tex = rf"{expr.op.latex}\left({arg}\right)" if expr.op.latex else arg
        return f"{tex}^{{{exp}}}" if exp else tex

    def _print_Heaviside(self, expr, exp=None):
        # ReLU's derivative, 1 for z > 0 and 0 otherwise: an indicator, not SymPy's θ(z, 0)
        tex = rf"\mathbf{{1}}\left[{self._print(expr.args[0])} > 0\right]"
        return f"{tex}^{{{exp}}}" if exp else tex


class TextPrinter(PositiveFirst, _SympyStr):
    """Plain text for the terminal: the user's names, sums positive-first, products with · and
    squares as ² (not Python's * and **: the terminal shows formulas, not code).

    >>> x, y = sp.symbols("x y")
    >>> TextPrinter().doprint((y - x) ** 2 / 2 + x * y ** 3)
    'x·y³ + (y - x)²/2'
    """

    def doprint(self, expr) -> str:
        out = super().doprint(expr)
        for power, sup in (("**2", "²"), ("**3", "³")):
            out = re.sub(re.escape(power) + r"(?![\d.])", sup, out)
        return out.replace("**", "^").replace("*", "·")

    def _print_Heaviside(self, expr):
        return f"[{self._print(expr.args[0])} > 0]"

    def _print_AppliedBase(self, expr):
        arg = self._print(expr.args[0])
        return f"{expr.op.label}({arg})" if expr.op.label else arg


def more_leaves_than(expr, limit: int) -> bool:
    """Whether `expr` has more than `limit` symbols and numbers: each prints as at least one
    character, so a longer expression need not be printed to know it is too long to show."""
    leaves = (node for node in sp.preorder_traversal(expr) if not node.args)
    return next(itertools.islice(leaves, limit, None), None) is not None


def latex(expr, names=None) -> str:
    return LatexPrinter(names).doprint(expr)


def text(expr) -> str:
    return TextPrinter().doprint(expr)


def latex_factor(f, printer: LatexPrinter | None = None) -> str:
    """∂num/∂den as a LaTeX fraction."""
    name = (printer or LatexPrinter()).name
    return leibniz(name(f.num), name(f.den))
