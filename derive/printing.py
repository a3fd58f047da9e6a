"""SymPy printers for derive's targets: names follow the user's spec, sums read t − y.

`LatexPrinter` typesets w1 as w_{1}, net_h1 as \\mathit{net}_{h1}, beta as \\beta, δ_h1 as
\\delta_{h_{1}}, and honours the spec's [latex] table.  `TextPrinter` prints the user's names
unchanged for the terminal.  Both print a sum with its positive terms first (t1 − o1, not
−o1 + t1), so a loss derivative reads −(t1 − o1) as in the classic derivations.

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

__all__ = ["LatexPrinter", "TextPrinter", "latex", "latex_factor", "latex_name", "more_leaves_than", "text", "text_factor"]

_GREEK = {
    "alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta", "iota", "kappa", "lambda",
    "mu", "nu", "xi", "pi", "rho", "sigma", "tau", "upsilon", "phi", "chi", "psi", "omega",
    "Gamma", "Delta", "Theta", "Lambda", "Xi", "Pi", "Sigma", "Upsilon", "Phi", "Psi", "Omega",
}
_WORD_DIGITS = re.compile(r"([A-Za-z]+)(\d+)\Z")


def _word(word: str, subscript: bool = False) -> str:
    if word in _GREEK:
        return "\\" + word
    if len(word) > 1 and word.isalpha():
        return rf"\mathrm{{{word}}}" if subscript else rf"\mathit{{{word}}}"
    return word


def _base(name: str) -> str:
    """A name without underscores: w1 -> w_{1}, beta2 -> \\beta_{2}, x -> x."""
    m = _WORD_DIGITS.match(name)
    if m:
        return f"{_word(m.group(1))}_{{{m.group(2)}}}"
    return _word(name)


def default_latex_name(name: str) -> str:
    """How a user's name is typeset when the spec does not say: first underscore starts the subscript."""
    if name.startswith("δ_"):
        return rf"\delta_{{{default_latex_name(name[2:])}}}"
    head, _, rest = name.partition("_")
    if not rest:
        return _base(name)
    parts = [p for p in rest.split("_") if p]
    sub = ",".join(_word(p, subscript=True) for p in parts)
    return f"{_word(head)}_{{{sub}}}" if head else sub


class LatexPrinter(_SympyLatex):
    """A SymPy LaTeX printer that knows derive's names and writes sums positive-first."""

    def __init__(self, names=None, settings=None):
        super().__init__(settings or {})
        self.names = dict(names or {})

    def name(self, name: str) -> str:
        if name in self.names:
            return self.names[name]
        if name.startswith("δ_") and name[2:] in self.names:
            return rf"\delta_{{{self.names[name[2:]]}}}"
        return default_latex_name(name)

    def _print_Symbol(self, expr, style="plain"):
        return self.name(expr.name)

    def _as_ordered_terms(self, expr, order=None):
        return _positive_first(super()._as_ordered_terms(expr, order=order))

    def _print_Heaviside(self, expr, exp=None):
        # ReLU's derivative, 1 for z > 0 and 0 otherwise: an indicator, not SymPy's θ(z, 0)
        tex = rf"\mathbf{{1}}\left[{self._print(expr.args[0])} > 0\right]"
        return f"{tex}^{{{exp}}}" if exp else tex


class TextPrinter(_SympyStr):
    """Plain text for the terminal: the user's names, sums positive-first."""

    def _as_ordered_terms(self, expr, order=None):
        return _positive_first(super()._as_ordered_terms(expr, order=order))

    def _print_Heaviside(self, expr):
        return f"[{self._print(expr.args[0])} > 0]"


def _positive_first(terms):
    return sorted(terms, key=lambda t: t.could_extract_minus_sign())


def more_leaves_than(expr, limit: int) -> bool:
    """Whether `expr` has more than `limit` symbols and numbers: each prints as at least one
    character, so a longer expression need not be printed to know it is too long to show."""
    leaves = (node for node in sp.preorder_traversal(expr) if not node.args)
    return next(itertools.islice(leaves, limit, None), None) is not None


def latex(expr, names=None) -> str:
    return LatexPrinter(names).doprint(expr)


def text(expr) -> str:
    return TextPrinter().doprint(expr)


def latex_name(name: str, printer: LatexPrinter | None = None) -> str:
    return (printer or LatexPrinter()).name(name)


def latex_factor(f, printer: LatexPrinter | None = None) -> str:
    """∂num/∂den as a LaTeX fraction."""
    return rf"\frac{{\partial {latex_name(f.num, printer)}}}{{\partial {latex_name(f.den, printer)}}}"


def text_factor(f) -> str:
    return f"∂{f.num}/∂{f.den}"
