"""The network as a graph between any two quantities: what derive check walks to line factors up.

The Derivation's own `paths(param)` and `path_count(param)` run from a parameter to the loss.
A learner's equation can name any two quantities (∂o1/∂w1 on its left side, ∂L/∂h1 as one
factor), so the checker needs the same walks between arbitrary nodes, and a few readings of
a factor: which routes ∂a/∂b stands for, and a path without its weighted sums.

>>> import derive
>>> d = derive.derive(derive.load("examples/mazur.toml"))
>>> g = Graph(d)
>>> g.routes("h1", "E_total")
[('h1', 'net_o1', 'o1', 'E_total'), ('h1', 'net_o2', 'o2', 'E_total')]
>>> path_count(d, "w1", "o1"), factor_routes(d, g, "w1", "h1")
(1, [('w1', 'net_h1', 'h1')])
>>> compact(d, d.paths("w1")[0])
('w1', 'h1', 'o1', 'E_total')
"""

from __future__ import annotations

import itertools
from functools import cached_property

from ..core.derivation import Derivation

__all__ = ["Graph", "compact", "factor_routes", "path_count", "topological"]


class Graph:
    """Which quantity depends on which, and every route between two of them."""

    def __init__(self, d: Derivation):
        self.d = d

    @cached_property
    def descendants(self) -> dict[str, frozenset[str]]:
        out: dict[str, frozenset[str]] = {}
        # each equation after those that consume it, then the leaves
        for n in [eq.name for eq in reversed(self.d.equations)] + [e.src for e in self.d.edges]:
            if n not in out:
                out[n] = frozenset().union(*[{e.dst} | out[e.dst] for e in self.d.consumers(n)])
        return out

    def depends(self, a: str, b: str) -> bool:
        """Does a depend on b (is a downstream of b)?"""
        return a in self.descendants.get(b, ())

    def routes(self, src: str, dst: str) -> list[tuple[str, ...]]:
        """Every route from src to dst, depth first along consumers in equation order."""
        out: list[tuple[str, ...]] = []

        def walk(node, trail):
            if node == dst:
                out.append(trail)
                return
            for e in self.d.consumers(node):
                if e.dst == dst or self.depends(dst, e.dst):
                    walk(e.dst, trail + (e.dst,))

        walk(src, (src,))
        return out


def path_count(d: Derivation, S: str, T: str) -> int:
    """How many paths lead from S to T, counted without listing them."""
    counts: dict[str, int] = {T: 1}
    for eq in reversed(d.equations):
        if eq.name != T:
            counts[eq.name] = sum(counts.get(e.dst, 0) for e in d.consumers(eq.name))
    return counts.get(S) or sum(counts.get(e.dst, 0) for e in d.consumers(S))


def topological(d: Derivation, S: str) -> list[str]:
    """S first, then the other leaves, then the equations: the order a product's factors are lined up in."""
    leaves = list(d.spec.inputs) + list(d.spec.targets) + list(d.parameters)
    return [S] + [n for n in leaves if n != S] + [eq.name for eq in d.equations]


def factor_routes(d: Derivation, graph: Graph, b: str, a: str) -> list[tuple[str, ...]]:
    """The routes a factor ∂a/∂b stands for.

    A partial derivative holds a's other arguments fixed: when b is an argument of a's own
    equation, or of the weighted sum a's activation reads (h1 = σ(w1·i1 + w2·i2 + b1)), ∂a/∂b is
    that one route.  Otherwise (∂L/∂h1: h1 is no argument of L) it is the derivative along
    every route from b to a, the error-signal form.
    """
    eq = d.equation(a)
    if b in eq.args:
        return [(b, a)]
    if eq.op.reads_one_net and b in d.equation(eq.args[0]).args:
        return [(b, eq.args[0], a)]
    return graph.routes(b, a)


def compact(d: Derivation, path) -> tuple[str, ...]:
    """The path without the weighted sums into activations: the seed answer's ∂h1/∂w1 · ∂o1/∂h1 · ∂L/∂o1."""
    # skip a weighted sum into its own activation: ∂h1/∂w1 = ∂h1/∂net_h1 · ∂net_h1/∂w1
    kept = [n for n, after in itertools.pairwise(path[1:]) if not d.equation(after).op.reads_one_net]
    return (path[0], *kept, path[-1])
