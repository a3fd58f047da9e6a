"""Numbers at a few fixed random points of a network: how derive check compares evaluated factors.

A learner may write a factor evaluated (w5 for ∂net_o1/∂h1, h1(1 − h1) for ∂h1/∂net_h1).  To
accept every correct way of writing it, the checker evaluates the written factor and the local
partials it stands for at the same points (every leaf drawn at random, every node computed
forward) and compares the numbers.  Points are complex so a log or a root of a negative stays
a number; the seed is fixed, so the same equation always gets the same verdict.

>>> import derive
>>> from derive.core.graph import symbol
>>> d = derive.derive(derive.load("examples/mazur.toml"))
>>> n = Numbers(d)
>>> close(n.value(symbol("w5")), n.edge("net_o1", "h1"))
True
"""

from __future__ import annotations

import itertools
import random
from fractions import Fraction

import sympy as sp

from ..core.derivation import Derivation
from ..core.interpret import COMPLEX, complex_value, forward

__all__ = ["POINTS", "Numbers", "close", "constant_ratio", "matching_run", "mul"]

POINTS = 3  # random points at which evaluated factors are compared
TOLERANCE = 1e-9


class Numbers:
    """Every leaf and node at a few random points, and expressions evaluated there."""

    def __init__(self, d: Derivation, seed: int = 20240):
        rng = random.Random(seed)  # fixed: the same equation always gets the same verdict
        leaves = list(d.spec.inputs) + list(d.spec.targets) + list(d.parameters)
        drawn = [{n: complex(rng.choice((-1, 1)) * rng.uniform(0.2, 1.3)) for n in leaves}
                 for _ in range(POINTS)]
        self.points = [forward(d, vals, COMPLEX) for vals in drawn]
        self.d = d
        self._edge: dict[tuple[str, str], tuple[complex, ...]] = {}

    def value(self, expr: sp.Expr) -> tuple[complex, ...]:
        return tuple(complex_value(expr, vals) for vals in self.points)

    def edge(self, dst: str, src: str) -> tuple[complex, ...]:
        if (dst, src) not in self._edge:
            self._edge[(dst, src)] = self.value(self.d.edge(dst, src).partial)
        return self._edge[(dst, src)]

    def routes(self, routes) -> tuple[complex, ...]:
        """The sum over `routes` of the product of local partials along each."""
        vals = [mul([self.edge(b, a) for a, b in itertools.pairwise(r)]) for r in routes]
        return tuple(sum(v[k] for v in vals) for k in range(POINTS))


def mul(values) -> tuple[complex, ...]:
    """The pointwise product of values at the points (1 for none)."""
    out = [complex(1)] * POINTS
    for v in values:
        out = [a * b for a, b in zip(out, v)]
    return tuple(out)


def close(a, b) -> bool:
    """Equal at every point, up to rounding."""
    # relative: a long chain of small local partials is small, and a wrong one must still differ
    return all(abs(x - y) <= TOLERANCE * max(abs(x), abs(y)) + 1e-300 for x, y in zip(a, b))


def constant_ratio(got, expected) -> Fraction | None:
    """got = c · expected at every point, c a simple fraction (2, 1/2, −1, 2/3): c, else None."""
    ratios = [g / e for g, e in zip(got, expected) if abs(e) > 1e-12]
    if len(ratios) < len(got) or not all(abs(r - ratios[0]) <= 1e-7 * max(1, abs(ratios[0])) for r in ratios):
        return None
    r = ratios[0]
    if abs(r.imag) > 1e-9:
        return None
    c = Fraction(r.real).limit_denominator(12)
    return c if abs(float(c) - r.real) <= 1e-7 * max(1, abs(r.real)) else None


def matching_run(numbers: Numbers, edges, value, covered):
    """The first run of consecutive uncovered edges whose product equals `value`."""
    for i in range(len(edges)):
        prod = (complex(1),) * POINTS
        for j in range(i, len(edges)):
            if edges[j] in covered or (j > i and edges[j][0] != edges[j - 1][1]):
                break
            prod = mul([prod, numbers.edge(edges[j][1], edges[j][0])])
            if close(prod, value):
                return edges[i:j + 1]
    return None
