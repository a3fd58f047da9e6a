"""Equations in, Derivation out: local partials edge by edge, then δ backwards from the loss.

This module sees equations only, never layers.  It differentiates one edge at a time (∂dst/∂src
of a single equation), so the work grows with the number of edges, not with the number of
paths, and it never differentiates the whole loss (the tests do that, as an independent check).
"""

from __future__ import annotations

from .derivation import Delta, Derivation, Edge
from .graph import equations
from .spec import MAX_NEURONS, MAX_WEIGHTS, NetSpec, Problem, SpecError

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
    weights = sum(len(n.inputs) for n in spec.neurons)
    if weights > MAX_WEIGHTS or len(spec.neurons) > MAX_NEURONS:  # a [dense] spec past the per-weight limits
        raise SpecError(spec.source, [Problem("dense.sizes", (
            f"{weights:,} weights, {len(spec.neurons):,} neurons: the per-weight derivation takes at most "
            f"{MAX_WEIGHTS:,} weights and {MAX_NEURONS:,} neurons; the layer form takes the network as it is "
            "(derive codegen --form layers)"))])
    eqs = equations(spec)
    params = spec.parameters
    params_set, outputs = set(params), dict(spec.loss.outputs)
    # one Edge per argument of each equation: the local partial ∂eq/∂arg, from the equation's op
    edges = tuple(Edge(arg, eq.name, kind, partial, shown) for eq in eqs
                  for arg, kind, partial, shown in eq.op.partials(eq, params_set, outputs))
    consumers: dict[str, list[Edge]] = {}
    for e in edges:
        consumers.setdefault(e.src, []).append(e)
    deltas = tuple(Delta(eq.name, tuple(consumers.get(eq.name, ())), eq is eqs[-1]) for eq in reversed(eqs))
    gradient_terms = tuple((p, tuple(consumers[p])) for p in params)
    d = Derivation(spec, eqs, params, edges, deltas, gradient_terms)
    d.validate()
    return d
