"""The one interpreter of a Derivation: forward values, local partials, δ and gradients, in a number domain.

`run(d, leaves, domain)` walks the derivation once: every equation forward from the leaves,
every edge's local partial at those values, each error signal from the loss backwards
(δ_v = Σ ∂c/∂v · δ_c over v's consumers c) and each gradient (Σ ∂c/∂θ · δ_c over θ's uses).
The recurrence is written here and nowhere else; what changes is the domain the numbers live in:

- `EXACT`: 30-digit SymPy floats forward, floats after (`evaluate`, the worked examples);
- `COMPLEX`: complex floats, so a log or root of a negative stays a number (`Derivation.validate`,
  the checker's probes at random points);
- `SYMBOLIC`: the δ recurrence itself as SymPy expressions in the node symbols (`Derivation.delta`).

`evaluate(d)` is the public face: every number of a worked example, per sample and over the data set.

>>> import derive
>>> n = evaluate(derive.derive(derive.load("examples/mazur.toml")))
>>> round(n.loss, 9), round(n.gradients["w5"], 9)
(0.298371109, 0.082167041)
"""

from __future__ import annotations

import cmath
import math
from collections.abc import Callable
from dataclasses import dataclass

import sympy as sp

from .graph import symbol

__all__ = ["COMPLEX", "EXACT", "SYMBOLIC", "Domain", "Numbers", "Sample", "Trace", "evaluate", "forward", "run"]


@dataclass(frozen=True)
class Domain:
    """Where the interpreter's numbers live."""

    forward: Callable[[sp.Expr, dict], object]  # an equation's value, from its arguments' (by Symbol)
    partial: Callable[[sp.Expr, dict], object]  # a local partial's value at the forward values
    one: object = 1  # δ of the loss: ∂L/∂L
    total: Callable[[list], object] = sum


@dataclass(frozen=True)
class Trace:
    env: dict  # Symbol -> value: the leaves and every equation (empty when not run forward)
    partials: dict  # (dst, src) -> value of ∂dst/∂src
    deltas: dict  # node -> δ
    gradients: dict  # parameter -> ∂L/∂θ (of one sample's loss)


def forward(d, leaves: dict, domain: Domain) -> dict:
    """Every leaf and equation of `d` by Symbol, computed forward from `leaves` (name -> value)."""
    env = {symbol(k): v for k, v in leaves.items()}
    for eq in d.equations:
        env[eq.symbol] = domain.forward(eq.expr, env)
    return env


def run(d, leaves: dict | None, domain: Domain, forward_pass: bool = True) -> Trace:
    """Interpret `d` at `leaves` (name -> value of every input, target and parameter) in `domain`.

    Without `forward_pass`, `leaves` gives every node a value (a point, not a forward pass), or none:
    then the partials are the domain's values of the symbolic partials themselves
    (the SYMBOLIC domain: δ in node symbols).
    """
    env = forward(d, leaves, domain) if forward_pass else {symbol(k): v for k, v in (leaves or {}).items()}
    partials = {(e.dst, e.src): domain.partial(e.partial, env) for e in d.edges}
    deltas: dict = {}
    for dl in d.deltas:  # loss first: every consumer's δ is known before it is used
        deltas[dl.node] = domain.one if dl.is_loss else domain.total(
            [partials[(e.dst, e.src)] * deltas[e.dst] for e in dl.terms])
    grads = {p: domain.total([partials[(e.dst, e.src)] * deltas[e.dst] for e in uses])
             for p, uses in d.gradient_terms}
    return Trace(env, partials, deltas, grads)


# -- the domains -------------------------------------------------------------------------------

def _exact_forward(expr, env):
    v = expr.xreplace(env)
    return sp.Float(v, 30) if v.is_Number else sp.Float(float(v), 30)


EXACT = Domain(_exact_forward, lambda expr, env: float(expr.xreplace(env)), 1.0)

SYMBOLIC = Domain(lambda expr, env: expr, lambda expr, env: expr, sp.Integer(1), lambda xs: sp.Add(*xs))

# How each SymPy node evaluates on complex numbers; anything else falls back to SymPy itself.
_NUMERIC = {
    sp.Add: lambda *a: sum(a),
    sp.Mul: lambda *a: math.prod(a),
    sp.Pow: lambda a, b: a ** b,
    sp.exp: cmath.exp,
    sp.tanh: cmath.tanh,
    sp.log: cmath.log,
}


def complex_value(expr, env: dict) -> complex:
    """`expr` at a point (Symbol -> complex), without SymPy arithmetic where it can be avoided;
    NaN where it is undefined there."""
    try:
        return _walk(expr, env)
    except (ZeroDivisionError, OverflowError, ValueError, TypeError):
        return complex("nan")


def _walk(expr, env) -> complex:
    if expr.is_Symbol:
        return env[expr]
    if expr.is_Number:
        return complex(expr)
    op = _NUMERIC.get(expr.func)
    if op is not None:
        return op(*[_walk(a, env) for a in expr.args])
    point = {s: sp.Float(env[s].real) for s in expr.free_symbols}  # Piecewise, Max, Heaviside, ...
    return complex(expr.xreplace(point).evalf())


COMPLEX = Domain(complex_value, complex_value, complex(1))


# -- evaluate: the numbers of a worked example -------------------------------------------------

@dataclass(frozen=True)
class Sample:
    values: dict  # node or leaf name -> float (inputs, targets, parameters, nets, activations, loss)
    partials: dict  # (dst, src) -> float, every edge's local partial
    deltas: dict  # node -> float, ∂(this sample's loss)/∂node
    gradients: dict  # parameter -> float, ∂(this sample's loss)/∂parameter


@dataclass(frozen=True)
class Numbers:
    samples: tuple[Sample, ...]
    loss: float  # over the data set: summed, or averaged for a mean loss
    gradients: dict  # parameter -> float, of the data-set loss
    scale: float  # 1 for a summed loss, 1/N for a mean: data-set = scale × Σ per-sample
    updated: dict  # parameter -> value after one gradient-descent step
    learning_rate: float


def evaluate(d, params: dict | None = None, data: dict | None = None,
             learning_rate: float | None = None) -> Numbers:
    """Evaluate at `params` (default: the spec's [values]) over `data` (default: its [data])."""
    spec = d.spec
    params = dict(spec.values) if params is None else dict(params)
    data = {k: list(v) for k, v in spec.data} if data is None else {
        k: (list(v) if isinstance(v, (list, tuple)) else [v]) for k, v in data.items()}
    missing = [p for p in d.parameters if p not in params] + [
        n for n in (*spec.inputs, *spec.targets) if n not in data]
    if missing:
        raise ValueError("no value for " + ", ".join(missing))
    n = len(next(iter(data.values())))
    samples = tuple(_sample(d, params, {k: v[i] for k, v in data.items()}) for i in range(n))
    scale = d.equations[-1].op.scale(n)
    lam = spec.loss.l2  # the penalty (λ/2)·Σ w², once per data set: λ·w in each weight's gradient
    loss = scale * sum(s.values[d.loss] for s in samples) + lam / 2 * sum(params[w] ** 2 for w in spec.penalized)
    grads = {p: scale * sum(s.gradients[p] for s in samples) for p in d.parameters}
    for w in spec.penalized:
        grads[w] += lam * params[w]
    lr = spec.train.learning_rate if learning_rate is None else learning_rate
    updated = {p: params[p] - lr * grads[p] for p in d.parameters}
    return Numbers(samples, loss, grads, scale, updated, lr)


def _sample(d, params: dict, leaves: dict) -> Sample:
    given = {**{k: float(v) for k, v in params.items()}, **{k: float(v) for k, v in leaves.items()}}
    trace = run(d, {k: sp.Float(v, 30) for k, v in given.items()}, EXACT)
    values = given | {eq.name: float(trace.env[eq.symbol]) for eq in d.equations}
    return Sample(values, trace.partials, trace.deltas, trace.gradients)
