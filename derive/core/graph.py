"""The one place where network meaning becomes math: a NetSpec becomes a list of equations.

Grammar (one equation per named quantity, topological order, each name assigned once)::

    program  := equation*  loss
    equation := net  | act
    net      := NAME = Σ weight·source [+ bias]      (op WEIGHTED_SUM)
    act      := NAME = f(NET)                         (op an entry of ACTIVATIONS)
              | NAME = softmax_k(NET, NET, ...)       (op SOFTMAX: every net of its group, after them)
    loss     := NAME = per-sample loss(outputs, targets)   (op an entry of LOSSES, last)

Every NAME becomes a SymPy `Symbol` of exactly that name (no parsing of user text, ever); an
equation's `expr` refers only to the symbols of its `args`.  An identity neuron that has no
net name of its own is a single weighted-sum equation named after the neuron.
"""

from __future__ import annotations

from dataclasses import dataclass

import sympy as sp

from .naming import symbol
from .ops import ACTIVATIONS, GROUPS, LOSSES, WEIGHTED_SUM, Op
from .spec import NetSpec

__all__ = ["Equation", "equations", "symbol"]


@dataclass(frozen=True)
class Equation:
    name: str
    op: Op  # the registry entry: what the equation computes and how it differentiates
    expr: sp.Expr  # in terms of the symbols of `args`
    args: tuple[str, ...]  # the names the right side uses, in the order they are written
    neuron: str = ""  # the neuron this equation belongs to ("" for the loss)
    terms: tuple[tuple[str, str], ...] = ()  # for a weighted sum: (weight, source) in spec order
    bias: str = ""  # for a weighted sum: the bias parameter, if any
    group: tuple[str, ...] = ()  # for a softmax output: the group's outputs, aligned with `args`

    @property
    def kind(self) -> str:
        """The equation's role: "net", "act" or "loss"."""
        return self.op.kind

    @property
    def symbol(self) -> sp.Symbol:
        return symbol(self.name)


def equations(spec: NetSpec) -> tuple[Equation, ...]:
    """The network as equations, neurons in the spec's topological order, the loss last."""
    eqs = []
    groups: dict[str, list] = {}  # a softmax's neurons: their outputs follow the last of their nets
    for n in spec.neurons:
        terms = [symbol(w) * symbol(src) for src, w in n.inputs]
        args = [a for src, w in n.inputs for a in (w, src)]
        if n.bias:
            terms.append(symbol(n.bias))
            args.append(n.bias)
        eqs.append(Equation(n.net, WEIGHTED_SUM, sp.Add(*terms), tuple(dict.fromkeys(args)), n.name,
                            terms=tuple((w, src) for src, w in n.inputs), bias=n.bias or ""))
        if n.activation in GROUPS:
            groups.setdefault(n.activation, []).append(n)
        elif n.net != n.name:
            act = ACTIVATIONS[n.activation]
            eqs.append(Equation(n.name, act, act.function(symbol(n.net)), (n.net,), n.name))
    for key, members in groups.items():
        nets, outs = tuple(n.net for n in members), tuple(n.name for n in members)
        eqs += [Equation(n.name, GROUPS[key], GROUPS[key].expr(k, nets), nets, n.name, group=outs)
                for k, n in enumerate(members)]
    loss = LOSSES[spec.loss.kind]
    pairs = [(symbol(o), symbol(t)) for o, t in spec.loss.outputs]
    args = tuple(dict.fromkeys(a for o, t in spec.loss.outputs for a in (o, t)))
    eqs.append(Equation(spec.loss.name, loss, loss.per_sample(pairs), args))
    return tuple(eqs)
