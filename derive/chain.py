"""Equations in, Derivation out: local partials edge by edge, then δ backwards from the loss.

This module sees equations only, never layers.  It differentiates one edge at a time (∂dst/∂src
of a single equation), so the work grows with the number of edges, not with the number of
paths, and it never differentiates the whole loss (the tests do that, as an independent check).
"""

from __future__ import annotations

import sympy as sp

from .activations import ACTIVATIONS, LOSSES
from .derivation import Delta, Derivation, Edge
from .graph import Equation, equations, symbol
from .spec import NetSpec

__all__ = ["derive"]


def derive(spec: NetSpec) -> Derivation:
    """Derive every ∂L/∂θ of a network.

    >>> import derive
    >>> d = derive.derive(derive.load("examples/mazur.toml"))
    >>> d.paths("w1")
    (('w1', 'net_h1', 'h1', 'net_o1', 'o1', 'E_total'), ('w1', 'net_h1', 'h1', 'net_o2', 'o2', 'E_total'))
    >>> print(d.gradient_rule("w5"))
    h1*δ_net_o1
    """
    eqs = equations(spec)
    params = spec.parameters
    edges = tuple(e for eq in eqs for e in _local_edges(eq, spec))
    consumers: dict[str, list[Edge]] = {}
    for e in edges:
        consumers.setdefault(e.src, []).append(e)
    deltas = tuple(Delta(eq.name, tuple(consumers.get(eq.name, ())), eq.kind == "loss") for eq in reversed(eqs))
    gradient_terms = tuple((p, tuple(consumers[p])) for p in params)
    d = Derivation(spec, eqs, params, edges, deltas, gradient_terms)
    d.validate()
    return d


def _local_edges(eq: Equation, spec: NetSpec):
    """One Edge per argument of `eq`: the local partial ∂eq/∂arg."""
    if eq.kind == "act":
        (net,) = eq.args
        value = ACTIVATIONS[eq.activation].derivative(symbol(net), eq.symbol)
        yield Edge(net, eq.name, "activation", value, value)
        return
    params = set(spec.parameters)
    loss = LOSSES[spec.loss.kind]
    outputs = dict(spec.loss.outputs)
    for arg in eq.args:
        partial = sp.diff(_terms_with(eq, arg), symbol(arg))
        if eq.kind == "net":
            kind = "parameter" if arg in params else "source"
            yield Edge(arg, eq.name, kind, partial, partial)
        elif arg in outputs:
            shown = loss.derivative(symbol(arg), symbol(outputs[arg]), len(outputs))
            yield Edge(arg, eq.name, "loss", partial, shown)
        else:
            yield Edge(arg, eq.name, "target", partial, partial)


def _terms_with(eq: Equation, arg: str) -> sp.Expr:
    """The part of a net sum that mentions `arg` (the rest differentiates to 0): keeps each
    local derivative as small as the edge, however wide the layer."""
    if eq.kind != "net":
        return eq.expr
    terms = [symbol(w) * symbol(s) for w, s in eq.terms if arg in (w, s)]
    return sp.Add(*terms, *([symbol(eq.bias)] if eq.bias == arg else []))
