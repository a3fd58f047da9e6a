"""Numbers from a Derivation: every forward value, local partial, δ and gradient, per sample.

This is the exact, slow evaluator behind worked examples and `derive show`: it evaluates the
derivation's own SymPy expressions at floats, one equation at a time, the way a person works
the example by hand.  Generated NumPy code is the fast path.
"""

from __future__ import annotations

from dataclasses import dataclass

import sympy as sp

from .derivation import Derivation
from .graph import symbol

__all__ = ["Numbers", "Sample", "evaluate"]


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


def evaluate(d: Derivation, params: dict | None = None, data: dict | None = None,
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
    scale = 1.0 / n if spec.loss.kind == "mse" else 1.0
    loss = scale * sum(s.values[d.loss] for s in samples)
    grads = {p: scale * sum(s.gradients[p] for s in samples) for p in d.parameters}
    lr = spec.train.learning_rate if learning_rate is None else learning_rate
    updated = {p: params[p] - lr * grads[p] for p in d.parameters}
    return Numbers(samples, loss, grads, scale, updated, lr)


def _sample(d: Derivation, params: dict, leaves: dict) -> Sample:
    values = {**{k: float(v) for k, v in params.items()}, **{k: float(v) for k, v in leaves.items()}}
    at = {symbol(k): sp.Float(v, 30) for k, v in values.items()}
    for eq in d.equations:
        v = eq.expr.xreplace(at)
        values[eq.name] = float(v)
        at[eq.symbol] = sp.Float(v, 30) if v.is_Number else sp.Float(float(v), 30)
    partials = {(e.dst, e.src): float(e.partial.xreplace(at)) for e in d.edges}
    deltas: dict[str, float] = {}
    for dl in d.deltas:
        deltas[dl.node] = 1.0 if dl.is_loss else sum(partials[(e.dst, e.src)] * deltas[e.dst] for e in dl.terms)
    grads = {p: sum(partials[(e.dst, e.src)] * deltas[e.dst] for e in uses) for p, uses in d.gradient_terms}
    return Sample(values, partials, deltas, grads)
