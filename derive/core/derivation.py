"""The Derivation: a small immutable record of everything derive knows about a network's gradients.

It is built by `chain.derive` and read by every renderer.  Tuples in spec order, never sets:

- `equations`: the forward pass and the loss (graph.py), topological order, loss last;
- `parameters`: weights in order of first use, then biases;
- `edges`: one per (source, destination) pair of an equation, with the local partial
  ∂dst/∂src as a SymPy expression in the node symbols (`partial`) and as a person writes it
  (`display`);
- `deltas`: the error signals δ_v = ∂L/∂v = Σ_edges(v→c) ∂c/∂v · δ_c, from the loss backwards;
- `gradient_terms`: ∂L/∂θ = Σ_edges(θ→c) ∂c/∂θ · δ_c, one entry per parameter.

Paths and chain sums are not stored: they are enumerated on demand, for explanation only.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from functools import cached_property

import sympy as sp

from .graph import Equation, symbol
from .interpret import COMPLEX, SYMBOLIC, run
from .naming import delta_name, factor_text, latex_name, leibniz
from .spec import NetSpec

__all__ = ["Chain", "Delta", "Derivation", "DerivationError", "Edge", "Factor", "delta_symbol"]


class DerivationError(Exception):
    """A Derivation that breaks its own invariants: a bug in derive, never a user's mistake."""


def _require(condition, message: str) -> None:
    if not condition:
        raise DerivationError(message)


def _rebuild(expr: sp.Expr, mapping: dict, memo: dict) -> sp.Expr:
    """`expr` with the symbols of `mapping` replaced, each distinct subexpression rebuilt once
    (memo: id -> (it, result)) and left unevaluated."""

    def walk(e):
        hit = memo.get(id(e))
        if hit is not None and hit[0] is e:
            return hit[1]
        if e in mapping:
            out = mapping[e]
        elif not e.args:
            out = e
        else:
            args = tuple(walk(a) for a in e.args)
            if all(a is b for a, b in zip(args, e.args)):
                out = e
            else:
                try:
                    out = e.func(*args, evaluate=False)
                except TypeError:  # a class without the option (Piecewise's condition pairs)
                    out = e.func(*args)
        memo[id(e)] = (e, out)
        return out

    return walk(expr)


def delta_symbol(node: str) -> sp.Symbol:
    """δ for a node; "δ_" cannot begin a user's name, so it never collides with one."""
    return sp.Symbol(delta_name(node), real=True)


@dataclass(frozen=True)
class Edge:
    src: str
    dst: str
    kind: str  # "parameter" (∂net/∂w, ∂net/∂b), "source" (∂net/∂h), "activation", "loss", "target"
    partial: sp.Expr  # ∂dst/∂src in the node symbols
    display: sp.Expr  # the same value, written as a person writes it

    @property
    def factor(self) -> Factor:
        return Factor(self.dst, self.src)


@dataclass(frozen=True)
class Delta:
    node: str
    terms: tuple[Edge, ...]  # δ_node = Σ edge.partial · δ_{edge.dst}
    is_loss: bool = False  # the loss itself: δ_L = ∂L/∂L = 1

    def rule(self) -> sp.Expr:
        if self.is_loss:
            return sp.Integer(1)
        return sp.Add(*[e.partial * delta_symbol(e.dst) for e in self.terms])


@dataclass(frozen=True)
class Factor:
    """One local partial derivative ∂num/∂den, unevaluated."""

    num: str
    den: str

    def __str__(self) -> str:
        return factor_text(self.num, self.den)


@dataclass(frozen=True)
class Chain:
    """∂loss/∂param as a sum over paths of products of local partials, unevaluated.

    `str()` gives the terminal form; `latex()` the LaTeX; `value()` evaluates each factor to its
    local partial and returns the SymPy sum (in node symbols).
    """

    loss: str
    param: str
    paths: tuple[tuple[str, ...], ...]
    derivation: Derivation = field(repr=False, compare=False)

    @property
    def products(self) -> tuple[tuple[Factor, ...], ...]:
        return tuple(tuple(Factor(p[i + 1], p[i]) for i in range(len(p) - 1)) for p in self.paths)

    def __str__(self) -> str:
        rhs = " + ".join(" · ".join(str(f) for f in prod) for prod in self.products)
        return f"∂{self.loss}/∂{self.param} = {rhs}"

    def latex(self, printer=None) -> str:
        """The chain sum in LaTeX, names typeset by `printer` (anything with a `name` method,
        such as `derive.printing.LatexPrinter`) or else as the spec's [latex] table says."""
        names = dict(self.derivation.spec.latex)
        name = printer.name if printer is not None else (lambda n: latex_name(n, names))
        rhs = " + ".join(r" \, ".join(leibniz(name(f.num), name(f.den)) for f in prod) for prod in self.products)
        return f"{leibniz(name(self.loss), name(self.param))} = {rhs}"

    def _repr_latex_(self) -> str:
        return f"$\\displaystyle {self.latex()}$"

    def value(self) -> sp.Expr:
        edge = self.derivation.edge
        return sp.Add(*[sp.Mul(*[edge(f.num, f.den).partial for f in prod]) for prod in self.products])


# How a notebook shows a Derivation inline: set by derive.explain.web (the web page's view), which
# the core may not import; None until then, and IPython falls back to the repr.
HTML_VIEW: list = [None]


@dataclass(frozen=True)
class Derivation:
    spec: NetSpec
    equations: tuple[Equation, ...]
    parameters: tuple[str, ...]
    edges: tuple[Edge, ...]
    deltas: tuple[Delta, ...]  # loss first, then backwards through the equations
    gradient_terms: tuple[tuple[str, tuple[Edge, ...]], ...]  # (parameter, its uses)

    def _repr_html_(self) -> str | None:
        """The interactive view in Jupyter: the web page's diagram, sections and stepper, inline."""
        view = HTML_VIEW[0]
        return view(self) if view is not None else None

    # -- lookups -------------------------------------------------------------------------------

    @property
    def loss(self) -> str:
        return self.equations[-1].name

    @property
    def loss_op(self):
        """The loss's registry entry (`derive.core.ops.LossKind`)."""
        return self.equations[-1].op

    @cached_property
    def _edges(self) -> dict[tuple[str, str], Edge]:
        return {(e.dst, e.src): e for e in self.edges}

    @cached_property
    def _out(self) -> dict[str, tuple[Edge, ...]]:
        out: dict[str, list[Edge]] = {}
        for e in self.edges:
            out.setdefault(e.src, []).append(e)
        return {k: tuple(v) for k, v in out.items()}

    @cached_property
    def _equation(self) -> dict[str, Equation]:
        return {e.name: e for e in self.equations}

    def equation(self, name: str) -> Equation:
        return self._equation[name]

    def edge(self, dst: str, src: str) -> Edge:
        """The local partial ∂dst/∂src; KeyError when dst does not directly use src."""
        return self._edges[(dst, src)]

    def consumers(self, node: str) -> tuple[Edge, ...]:
        return self._out.get(node, ())

    @cached_property
    def _uses(self) -> dict[str, tuple[Edge, ...]]:
        return dict(self.gradient_terms)

    def uses(self, param: str) -> tuple[Edge, ...]:
        """The edges out of a parameter: one per equation it enters (a shared one enters several)."""
        self._check_param(param)
        return self._uses[param]

    def _check_param(self, name: str) -> None:
        if name not in self._uses:
            raise KeyError(f"{name!r} is not a parameter; parameters are {', '.join(self.parameters)}")

    # -- the chain rule, for explanation -------------------------------------------------------

    def paths(self, param: str) -> tuple[tuple[str, ...], ...]:
        """Every path from `param` to the loss: node names, parameter first, loss last.

        Ordered by the parameter's uses in equation order, then depth first along each
        node's consumers in equation order.  Their number can grow exponentially with depth:
        derive never needs them to compute a gradient (see `delta`); `iter_paths` yields
        them one at a time and `path_count` counts them without listing.  Listed once per
        parameter, then kept.
        """
        if param not in self._listed:
            self._listed[param] = tuple(self.iter_paths(param))
        return self._listed[param]

    @cached_property
    def _listed(self) -> dict[str, tuple[tuple[str, ...], ...]]:
        return {}

    def iter_paths(self, param: str):
        """The paths of `paths(param)`, one at a time, in the same order (an explicit stack: no
        recursion limit however deep the network)."""
        self._check_param(param)

        def walk():
            stack = [(param,)]
            while stack:
                trail = stack.pop()
                if trail[-1] == self.loss:
                    yield trail
                else:
                    stack += [trail + (e.dst,) for e in reversed(self.consumers(trail[-1]))]

        return walk()

    def downstream(self, node: str) -> tuple[str, ...]:
        """The quantities `node` reaches (its descendants), in equation order."""
        reached = {node}
        for eq in self.equations:
            if any(a in reached for a in eq.args):
                reached.add(eq.name)
        return tuple(eq.name for eq in self.equations if eq.name in reached and eq.name != node)

    def chain(self, param: str) -> Chain:
        """∂L/∂param as the sum over paths of products of local partials, unevaluated."""
        return Chain(self.loss, param, self.paths(param), self)

    # -- error signals and gradients -----------------------------------------------------------

    @cached_property
    def _delta(self) -> dict[str, Delta]:
        return {d.node: d for d in self.deltas}

    def delta_rule(self, node: str) -> sp.Expr:
        """δ_node as the backward recurrence: Σ ∂c/∂node · δ_c over node's consumers c."""
        return self._delta[node].rule()

    @cached_property
    def _delta_values(self) -> dict[str, sp.Expr]:
        return run(self, None, SYMBOLIC, forward_pass=False).deltas

    def delta(self, node: str) -> sp.Expr:
        """The error signal ∂L/∂node in forward-pass quantities (node values, targets, weights)."""
        if node not in self._delta:
            raise KeyError(f"{node!r} has no error signal; nodes are {', '.join(d.node for d in self.deltas)}")
        return self._delta_values[node]

    def times_delta(self, edges) -> tuple[tuple[sp.Expr | None, str | None], ...]:
        """Σ ∂c/∂v · δ_c over `edges` as a person writes it: (local partial, c) per term, with the
        loss's δ (= 1) left out (c None) and a partial of 1 left out (None).  Every renderer
        (terminal, documents, code comments) prints its terms from this."""
        return tuple((e.display, None) if e.dst == self.loss else (None, e.dst) if e.display == 1
                     else (e.display, e.dst) for e in edges)

    def gradient_rule(self, param: str) -> sp.Expr:
        """∂L/∂param as local partials times error signals: Σ ∂c/∂param · δ_c."""
        return sp.Add(*[e.partial * delta_symbol(e.dst) for e in self.uses(param)])

    @cached_property
    def _forward(self) -> dict[sp.Symbol, sp.Expr]:
        """Each node symbol as an expression in inputs, targets and parameters only."""
        sub: dict[sp.Symbol, sp.Expr] = {}
        for eq in self.equations:
            sub[eq.symbol] = _rebuild(eq.expr, sub, {})
        return sub

    @cached_property
    def _substituted(self) -> dict[int, tuple[sp.Expr, sp.Expr]]:
        return {}  # id(subexpression) -> (it, it substituted): shared by every call

    def substitute(self, expr: sp.Expr) -> sp.Expr:
        """Replace every node symbol in `expr` by its forward-pass expression.

        The result is left unevaluated (a deep network's written-out gradient is far too large
        for SymPy to simplify as it builds), and substitution is memoized per subexpression:
        δ expressions share their consumers' δ, so a deep network's gradients are a DAG, which
        xreplace would walk as a tree, once per path.
        """
        return _rebuild(expr, self._forward, self._substituted)

    def gradient(self, param: str) -> sp.Expr:
        """∂(per-sample loss)/∂param in terms of inputs, targets and parameters only."""
        return self.substitute(sp.Add(*[e.partial * self.delta(e.dst) for e in self.uses(param)]))

    def loss_expr(self) -> sp.Expr:
        """The per-sample loss in inputs, targets and parameters."""
        return self._forward[self.equations[-1].symbol]

    # -- validation -----------------------------------------------------------

    def validate(self) -> None:
        """Validate the record (autodidax's typecheck_jaxpr); raise DerivationError if broken.

        Checks that equations are defined before use and assigned once, that every edge is a
        real argument of its destination with a partial in known symbols, that δ terms point
        downstream, that every parameter has a use, and that for every parameter with few
        enough paths the sum over paths equals the δ form at a random point.
        """
        spec = self.spec
        known = set(spec.inputs) | set(spec.targets) | set(self.parameters)
        order = {}
        for i, eq in enumerate(self.equations):
            _require(eq.name not in known, f"{eq.name} assigned twice or shadows a leaf")
            missing = set(eq.args) - known
            _require(not missing, f"{eq.name} uses {missing} before they are defined")
            _require({s.name for s in eq.expr.free_symbols} <= set(eq.args), f"{eq.name}: stray symbol")
            known.add(eq.name)
            order[eq.name] = i
        node_symbols = {symbol(n) for n in known}
        for e in self.edges:
            _require(e.src in self.equation(e.dst).args, f"edge {e.src}->{e.dst} is not an argument")
            _require(e.partial.free_symbols <= node_symbols, f"edge {e.src}->{e.dst}: stray symbol")
        for d in self.deltas:
            for e in d.terms:
                _require(e.src == d.node, f"δ_{d.node} uses an edge from {e.src}")
                if d.node in order:
                    _require(order[e.dst] > order[d.node], f"δ_{d.node} looks upstream")
        _require(tuple(p for p, _ in self.gradient_terms) == self.parameters,
                 "parameters and gradient terms differ")
        for p, uses in self.gradient_terms:
            _require(uses and all(e.src == p for e in uses), f"{p} has no use")
        # The path sum and the δ form must agree: numbers at a random point, edge by edge.
        rng = random.Random(0)
        point = {n: complex(rng.uniform(-1, 1)) for n in sorted(known)}  # every node too: no forward pass
        trace = run(self, point, COMPLEX, forward_pass=False)
        local = trace.partials
        for p, _ in self.gradient_terms:
            if self.path_count(p) > 64:
                continue
            factored = trace.gradients[p]
            chained = sum(math.prod(local[(f.num, f.den)] for f in prod) for prod in self.chain(p).products)
            _require(abs(chained - factored) <= 1e-9 * max(1.0, abs(factored)),
                     f"{p}: path sum and δ form disagree")

    @cached_property
    def _path_counts(self) -> dict[str, int]:
        counts: dict[str, int] = {self.loss: 1}
        for eq in reversed(self.equations[:-1]):
            counts[eq.name] = sum(counts[e.dst] for e in self.consumers(eq.name))
        return counts

    def path_count(self, param: str) -> int:
        """How many paths lead from `param` to the loss, counted without listing them."""
        self._check_param(param)
        return sum(self._path_counts[e.dst] for e in self.consumers(param))
