r"""How each piece of a derivation is written for a reader, as unevaluated SymPy expressions.

Shared by the document model and its worked example: a weighted sum in spec order
(w1·i1 + w2·i2 + b1), an activation applied by name (σ(net_h1)), and a δ recurrence with the
edges' readable `display` forms.  Nothing here evaluates or simplifies: the expressions are only
printed.

>>> import derive
>>> from derive.texmath import symbolic_printer
>>> d = derive.derive(derive.load("examples/mazur.toml"))
>>> symbolic_printer().doprint(net_display(d.equation("net_h1")))
'w_{1} \\, i_{1} + w_{2} \\, i_{2} + b_{1}'
>>> symbolic_printer().doprint(applied("sigmoid", derive.graph.symbol("net_h1")))
'\\sigma\\left(\\mathit{net}_{h1}\\right)'
"""

from __future__ import annotations

import sympy as sp

from .activations import ACTIVATIONS
from .derivation import Derivation, delta_symbol
from .graph import symbol
from .printing import LatexPrinter
from .texmath import terms

__all__ = ["applied", "forward_pieces", "net_display", "times_delta"]


class _Applied(sp.Function):
    """f(z) for an activation, printed with the registry's LaTeX name: σ(net), tanh(z)."""

    latex_name = ""

    def _latex(self, printer):
        arg = printer._print(self.args[0])
        if self.args[0].is_Atom and arg.startswith("(") and arg.endswith(")"):
            arg = arg[1:-1]  # a negative number in place of the name: tanh(-0.26), not tanh((-0.26))
        return rf"{self.latex_name}\left({arg}\right)" if self.latex_name else arg


_APPLIED = {k: type(f"applied_{k}", (_Applied,), {"latex_name": a.latex}) for k, a in ACTIVATIONS.items()}


def applied(activation: str, z: sp.Expr) -> sp.Expr:
    """f(z) unevaluated, for display."""
    return _APPLIED[activation](z)


def net_display(eq) -> sp.Expr:
    """A weighted sum as written in the spec: w·source terms in spec order, then the bias."""
    parts = [sp.Mul(symbol(w), symbol(src), evaluate=False) for w, src in eq.terms]
    if eq.bias:
        parts.append(symbol(eq.bias))
    return sp.Add(*parts, evaluate=False) if len(parts) > 1 else parts[0]


def times_delta(d: Derivation, edges) -> sp.Expr:
    """Σ display · δ_consumer over `edges`, unevaluated; δ of the loss (= 1) and factors 1 left out."""
    parts = []
    for e in edges:
        if e.dst == d.loss:
            parts.append(e.display)
        elif e.display == 1:
            parts.append(delta_symbol(e.dst))
        else:
            parts.append(sp.Mul(e.display, delta_symbol(e.dst), evaluate=False))
    return sp.Add(*parts, evaluate=False) if len(parts) > 1 else parts[0]


def act_forms(eq) -> list[sp.Expr]:
    """An activation's equation as read: [σ(net), 1/(1 + e^{−net})]; just [tanh(z)] when the
    formula is the function itself, and [net] for the identity."""
    z = symbol(eq.args[0])
    if eq.expr == z:
        return [z]
    shown = applied(eq.activation, z)
    if isinstance(eq.expr, sp.Function) and eq.expr.args == (z,):
        return [shown]
    return [shown, eq.expr]


def forward_pieces(d: Derivation, eq, printer) -> list:
    """How one equation of the forward pass reads: [the sum], [f(net), its formula] or [the loss]."""
    if eq.kind == "net":
        return [terms(net_display(eq), printer)]
    if eq.kind == "act":
        return [terms(e, printer) for e in act_forms(eq)]
    return [terms(eq.expr, LatexPrinter(printer.names))]
