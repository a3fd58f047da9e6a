r"""How each piece of a derivation is written for a reader, as unevaluated SymPy expressions.

Shared by the document model and its worked example: each equation as its op reads it (a
weighted sum in spec order, w1·i1 + w2·i2 + b1; an activation by name, σ(net_h1)), and a δ
recurrence from `Derivation.times_delta`.  Nothing here evaluates or simplifies: the
expressions are only printed.

>>> import derive
>>> from derive.explain.texmath import symbolic_printer
>>> d = derive.derive(derive.load("examples/mazur.toml"))
>>> symbolic_printer().doprint(readable(d.equation("net_h1"))[0])
'w_{1} \\, i_{1} + w_{2} \\, i_{2} + b_{1}'
>>> symbolic_printer().doprint(readable(d.equation("h1"))[0])
'\\sigma\\left(\\mathit{net}_{h1}\\right)'
"""

from __future__ import annotations

import sympy as sp

from ..core.derivation import Derivation, delta_symbol
from ..printing.printers import LatexPrinter
from .texmath import terms

__all__ = ["forward_pieces", "readable", "times_delta"]


def readable(eq) -> list[sp.Expr]:
    """The equation's right side as read: [the sum], [f(net), its formula], [the loss]."""
    return eq.op.readable(eq)


def times_delta(d: Derivation, edges) -> sp.Expr:
    """Σ display · δ_consumer over `edges`, unevaluated; δ of the loss (= 1) and factors 1 left out."""
    parts = [delta_symbol(c) if f is None else f if c is None else _times(f, delta_symbol(c))
             for f, c in d.times_delta(edges)]
    return sp.Add(*parts, evaluate=False) if len(parts) > 1 else parts[0]


def _times(factor, delta):
    """factor · δ, its sign in front (−o1 o2 δ, not + −o1 o2 δ): the printers read a leading −1."""
    if factor.is_Mul and factor.args[0].is_Number and factor.args[0] < 0:  # −o1·o2, not 1 − h²
        return sp.Mul(sp.Integer(-1), -factor, delta, evaluate=False)
    return sp.Mul(factor, delta, evaluate=False)


def forward_pieces(d: Derivation, eq, printer) -> list:
    """How one equation of the forward pass reads, each form broken into terms; a form that is
    an evaluated SymPy expression (the loss) is printed in SymPy's own order."""
    shown = LatexPrinter(printer.names) if eq.op.evaluated_form else printer
    return [terms(e, shown) for e in readable(eq)]
