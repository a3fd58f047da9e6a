"""Judge a learner's chain-rule equation ∂L/∂θ = Σ Π ∂a/∂b against a network, and say why.

An equation is **correct** when every product is a chain of factors that links θ to the loss
(each denominator the next numerator), every path from θ to the loss is covered exactly once,
and nothing else appears.  A factor ∂a/∂b may skip nodes.  A partial derivative holds the other
arguments fixed, so when b is an argument of a's own equation, or of the weighted sum a's
activation reads, ∂a/∂b is that one route (∂h1/∂w1 = ∂h1/∂net_h1 · ∂net_h1/∂w1); with a bias
b shared by both neurons of x → h → y', ∂y'/∂b holds h fixed, and the path through h needs a
product of its own.  Any other factor is the derivative along every route from b to a: ∂L/∂h1
in a 2-2-2 network covers both of h1's paths, so ∂h1/∂w1 · ∂L/∂h1 (the error-signal form)
covers both paths of w1.  A factor may also be written evaluated (w5 for ∂net_o1/∂h1,
h1(1 − h1) for ∂h1/∂net_h1, −(t1 − o1) for ∂E/∂o1): evaluated factors fill the gaps between
the derivatives and are compared with the local partials they stand for at fixed random points
of the network (every node computed forward from random inputs, targets and parameters), so any
correct way of writing them is accepted.

Names are matched the way people write them: w_{1}, w_1 and w1 are all w1; net_{h1} is net_h1;
out_h1 is h1 (the classic example's name for a neuron's output) and net_h1 is h1's weighted sum
when the spec names them otherwise; L and E are the loss when no node has that name.

>>> import derive
>>> d = derive.derive(derive.load("examples/mazur.toml"))
>>> v = check(d, r"\\frac{\\partial L}{\\partial w_1} = \\frac{\\partial h_1}{\\partial w_1}"
...              r"\\frac{\\partial w_7}{\\partial h_1}\\frac{\\partial o_2}{\\partial w_7}\\frac{\\partial L}{\\partial o_2}")
>>> v.correct, [(p.kind, p.factor) for p in v.problems]
(False, [('independent', '∂w7/∂h1'), ('off-path', '∂o2/∂w7'), ('missing-path', '')])
"""

from __future__ import annotations

import cmath
import itertools
import math
import random
import weakref
from collections import Counter
from dataclasses import dataclass
from fractions import Fraction
from functools import cached_property

import sympy as sp

from .activations import LOSSES
from .derivation import Derivation
from .graph import symbol
from .latexparse import (
    Derivative,
    EquationError,
    Group,
    Name,
    Number,
    parse,
    parse_name,
    product_terms,
    span,
    to_sympy,
)
from .printing import LatexPrinter
from .verdict import KINDS, Mistake, Problem, Term, Verdict, report

__all__ = ["KINDS", "EquationError", "Mistake", "Problem", "Term", "Verdict", "check", "common_mistakes",
           "report"]

POINTS = 3  # random points at which evaluated factors are compared
TOLERANCE = 1e-9
MAX_COMBINATIONS = 256  # single-route readings tried for a term's gaps
MAX_PATHS = 4096  # a left side with more paths than this is not judged


# -- names -------------------------------------------------------------------------------------

class _Names:
    """Resolves names as written to the network's names: exact first, then ignoring '_'."""

    def __init__(self, d: Derivation):
        spec = d.spec
        self.kind: dict[str, str] = {}
        for x in spec.inputs:
            self.kind[x] = "input"
        for t in spec.targets:
            self.kind[t] = "target"
        for p in d.parameters:
            self.kind[p] = "parameter"
        for eq in d.equations:
            self.kind[eq.name] = "node"
        entries: list[tuple[int, str, str]] = [(0, n, n) for n in self.kind]
        printer = LatexPrinter(dict(spec.latex))
        for n in self.kind:
            shown = parse_name(printer.name(n))
            if shown is not None:
                entries.append((1, shown.exact, n))
        aliases = {"L": d.loss, "E": d.loss}
        for neuron in spec.neurons:
            aliases[f"out_{neuron.name}"] = neuron.name
            aliases[f"net_{neuron.name}"] = neuron.net
        entries += [(2, a, n) for a, n in aliases.items() if a not in self.kind]
        self.exact: dict[tuple[int, str], set[str]] = {}
        self.loose: dict[tuple[int, str], set[str]] = {}
        for prio, key, n in entries:
            self.exact.setdefault((prio, key), set()).add(n)
            self.loose.setdefault((prio, key.replace("_", "")), set()).add(n)
            self.loose.setdefault((3, key.replace("_", "").lower()), set()).add(n)  # Observed for observed

    def resolve(self, name: Name) -> tuple[str | None, str, bool]:
        """(network name or None, why not, whether it was read through an alias)."""
        lookups = ((self.exact, name.exact, (0, 1, 2)), (self.loose, name.loose, (0, 1, 2)),
                   (self.loose, name.loose.lower(), (3,)))
        for table, key, prios in lookups:
            for prio in prios:
                found = table.get((prio, key))
                if found and len(found) == 1:
                    return next(iter(found)), "", prio >= 2
                if found:
                    return None, f"{name.exact!r} could be any of {', '.join(sorted(found))}: write it exactly", False
        return None, f"{name.exact!r} is not a name in this network", False


# -- the network as a graph, and numbers at random points --------------------------------------

class _Graph:
    def __init__(self, d: Derivation):
        self.d = d
        self.order = {eq.name: i for i, eq in enumerate(d.equations)}

    @cached_property
    def descendants(self) -> dict[str, frozenset[str]]:
        out: dict[str, frozenset[str]] = {}
        names = [e.src for e in self.d.edges] + [eq.name for eq in self.d.equations]
        for eq in reversed(self.d.equations):
            out[eq.name] = frozenset().union(*[{e.dst} | out[e.dst] for e in self.d.consumers(eq.name)])
        for n in names:
            if n not in out:
                out[n] = frozenset().union(*[{e.dst} | out[e.dst] for e in self.d.consumers(n)])
        return out

    def depends(self, a: str, b: str) -> bool:
        """Does a depend on b (is a downstream of b)?"""
        return a in self.descendants.get(b, ())

    def routes(self, src: str, dst: str) -> list[tuple[str, ...]]:
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


class _Numbers:
    """Every leaf and node at a few random points, and expressions evaluated there."""

    def __init__(self, d: Derivation, seed: int = 20240):
        rng = random.Random(seed)  # fixed: the same equation always gets the same verdict
        spec = d.spec
        leaves = list(spec.inputs) + list(spec.targets) + list(d.parameters)
        self.points = []
        for _ in range(POINTS):
            vals = {symbol(n): complex(rng.choice((-1, 1)) * rng.uniform(0.2, 1.3)) for n in leaves}
            for eq in d.equations:
                vals[eq.symbol] = _number(eq.expr, vals)
            self.points.append(vals)
        self.d = d
        self._edge: dict[tuple[str, str], tuple[complex, ...]] = {}

    def value(self, expr: sp.Expr) -> tuple[complex, ...]:
        return tuple(_number(expr, vals) for vals in self.points)

    def edge(self, dst: str, src: str) -> tuple[complex, ...]:
        if (dst, src) not in self._edge:
            self._edge[(dst, src)] = self.value(self.d.edge(dst, src).partial)
        return self._edge[(dst, src)]

    def route(self, route) -> tuple[complex, ...]:
        return _mul([self.edge(b, a) for a, b in itertools.pairwise(route)])

    def routes(self, routes) -> tuple[complex, ...]:
        vals = [self.route(r) for r in routes]
        return tuple(sum(v[k] for v in vals) for k in range(POINTS))


# How each SymPy node evaluates on complex numbers; anything else falls back to SymPy itself.
_NUMERIC = {
    sp.Add: lambda *a: sum(a),
    sp.Mul: lambda *a: math.prod(a),
    sp.Pow: lambda a, b: a ** b,
    sp.exp: cmath.exp,
    sp.tanh: cmath.tanh,
    sp.log: cmath.log,
}


def _number(expr, vals: dict) -> complex:
    """`expr` at a point (Symbol -> complex), without SymPy arithmetic where it can be avoided."""
    try:
        return _walk(expr, vals)
    except (ZeroDivisionError, OverflowError, ValueError, TypeError):
        return complex("nan")


def _walk(expr, vals) -> complex:
    if expr.is_Symbol:
        return vals[expr]
    if expr.is_Number:
        return complex(expr)
    op = _NUMERIC.get(expr.func)
    if op is not None:
        return op(*[_walk(a, vals) for a in expr.args])
    point = {s: sp.Float(vals[s].real) for s in expr.free_symbols}  # Piecewise, Max, Heaviside, ...
    return complex(expr.xreplace(point).evalf())


def _mul(values) -> tuple[complex, ...]:
    out = [complex(1)] * POINTS
    for v in values:
        out = [a * b for a, b in zip(out, v)]
    return tuple(out)


def _close(a, b) -> bool:
    # relative: a long chain of small local partials is small, and a wrong one must still differ
    return all(abs(x - y) <= TOLERANCE * max(abs(x), abs(y)) + 1e-300 for x, y in zip(a, b))


def _constant_ratio(got, expected) -> Fraction | None:
    """got = c · expected at every point, c a simple fraction (2, 1/2, −1, 2/3): c, else None."""
    ratios = [g / e for g, e in zip(got, expected) if abs(e) > 1e-12]
    if len(ratios) < len(got) or not all(abs(r - ratios[0]) <= 1e-7 * max(1, abs(ratios[0])) for r in ratios):
        return None
    r = ratios[0]
    if abs(r.imag) > 1e-9:
        return None
    c = Fraction(r.real).limit_denominator(12)
    return c if abs(float(c) - r.real) <= 1e-7 * max(1, abs(r.real)) else None


# -- the checker -------------------------------------------------------------------------------

@dataclass
class _Factor:
    node: object  # Derivative or an evaluated node
    text: str
    num: str | None = None
    den: str | None = None
    expr: sp.Expr | None = None
    ok: bool = True


class _Network:
    """What the checker knows about one derivation, built once and shared by every check of it."""

    def __init__(self, d: Derivation):
        self.names = _Names(d)
        self.graph = _Graph(d)
        self.d = d

    @cached_property
    def numbers(self) -> _Numbers:
        return _Numbers(self.d)


_NETWORKS: dict[int, tuple[weakref.ref, _Network]] = {}


def _network(d: Derivation) -> _Network:
    ref, net = _NETWORKS.get(id(d), (None, None))
    if ref is None or ref() is not d:
        key = id(d)
        net = _Network(d)
        _NETWORKS[key] = (weakref.ref(d), net)
        weakref.finalize(d, _NETWORKS.pop, key, None).atexit = False  # forget it with the derivation
    return net


class _Checker:
    def __init__(self, d: Derivation):
        self.d = d
        self.net = _network(d)
        self.names = self.net.names
        self.graph = self.net.graph
        self.shown = {}  # network name -> how the learner wrote it, when that differs (L for E_total)
        self.notes: list[str] = []
        self.held: list[tuple[int, _Factor]] = []  # skipping factors that hold other routes fixed
        self.noted: set[str] = set()  # weights whose place in the network has been explained

    @property
    def numbers(self) -> _Numbers:
        return self.net.numbers

    # naming
    def show(self, name: str) -> str:
        return self.shown.get(name, name)

    def ftext(self, num: str, den: str) -> str:
        return f"∂{self.show(num)}/∂{self.show(den)}"

    def path_text(self, path) -> str:
        return " → ".join(path)

    def product_text(self, path) -> str:
        return " · ".join(self.ftext(b, a) for a, b in itertools.pairwise(path))

    def product_latex(self, path, printer) -> str:
        def nm(n):
            return self.shown.get(n) or printer.name(n)
        return r" \, ".join(rf"\frac{{\partial {nm(b)}}}{{\partial {nm(a)}}}" for a, b in itertools.pairwise(path))

    def resolve(self, name: Name, problems: list, term: int, factor: str = "") -> str | None:
        found, why, alias = self.names.resolve(name)
        if found is None:
            problems.append(Problem("unknown-name", term, why + self.hint(), factor))
            return None
        if alias:
            if found == self.d.loss:  # the learner's L or E stands for the loss everywhere in the verdict
                self.shown.setdefault(found, name.exact)
                self.notes.append(f"{name.exact} is read as the loss {found}")
            else:
                self.notes.append(f"{name.exact} is read as {found}")
        return found

    def hint(self) -> str:
        return f" (parameters: {', '.join(self.d.parameters)}; loss: {self.d.loss})"

    # the whole equation
    def run(self, text: str) -> Verdict:
        try:
            return self._run(text)
        except RecursionError:
            raise EquationError("the equation is nested too deeply to read", 0, text) from None

    def _run(self, text: str) -> Verdict:
        eq = parse(text)
        if not isinstance(eq.lhs, Derivative):
            a, _ = span(eq.lhs)
            raise EquationError("the left side should be one derivative, ∂L/∂θ", a, eq.text)
        terms_ast = product_terms(eq.rhs, eq.text)
        problems: list[Problem] = []
        T = self.resolve(eq.lhs.num, problems, 0, "left side")
        S = self.resolve(eq.lhs.den, problems, 0, "left side")
        if T is None or S is None:
            return self.verdict(False, eq, T or eq.lhs.num.exact, S or eq.lhs.den.exact, (), problems, ())
        left = self.left_side(T, S)
        if left:
            problems.append(Problem("left-side", 0, left))
            return self.verdict(False, eq, T, S, (), problems, ())
        self.T, self.S = T, S
        count = _path_count(self.d, S, T)
        if count > MAX_PATHS:
            raise EquationError(f"∂{T}/∂{S} has {count} paths; derive check judges equations of at most "
                                f"{MAX_PATHS}", 0, eq.text)
        self.paths = tuple(self.graph.routes(S, T))
        self.on_path = {n for p in self.paths for n in p}
        terms = [self.term(i + 1, factors, eq.text, problems) for i, factors in enumerate(terms_ast)]
        self.coverage(terms, problems)
        ok = not problems
        return self.verdict(ok, eq, T, S, tuple(terms), problems, self.paths)

    def left_side(self, T: str, S: str) -> str:
        kind = self.names.kind
        if T == S:
            return f"∂{self.show(T)}/∂{self.show(S)} is 1: the left side should be ∂{self.d.loss}/∂θ"
        if kind[T] != "node":
            return (f"{T} is {_article(kind[T])}, an independent variable: ∂{self.show(T)}/∂{S} is 0. "
                    f"The left side should be ∂{self.d.loss}/∂θ with θ one of {', '.join(self.d.parameters)}")
        if not self.graph.depends(T, S):
            return f"{T} does not depend on {S}, so ∂{self.show(T)}/∂{S} = 0: no path leads from {S} to {T}"
        return ""

    def verdict(self, ok, eq, T, S, terms, problems, paths) -> Verdict:
        printer = LatexPrinter(dict(self.d.spec.latex))
        correct = ["", "", "", ""]
        if paths:
            lhs_l = rf"\frac{{\partial {self.shown.get(T) or printer.name(T)}}}{{\partial {printer.name(S)}}}"
            lhs_t = f"∂{self.show(T)}/∂{S} = "
            for i, form in enumerate((paths, [self.compact(p) for p in paths])):
                correct[2 * i] = lhs_l + " = " + " + ".join(self.product_latex(p, printer) for p in form)
                correct[2 * i + 1] = lhs_t + " + ".join(self.product_text(p) for p in form)
            if correct[2] == correct[0]:
                correct[2] = correct[3] = ""
        shown_eq = f"∂{self.show(T)}/∂{self.show(S)} = " + " + ".join(t.text for t in terms) if terms else ""
        return Verdict(ok, shown_eq, T, S, tuple(terms), tuple(problems), correct[0], correct[1], correct[2],
                       correct[3], tuple(dict.fromkeys(self.notes)))

    def compact(self, path) -> tuple[str, ...]:
        """The path without the weighted sums into activations: the seed answer's ∂h1/∂w1 · ∂o1/∂h1 · ∂L/∂o1."""
        out = [path[0]]
        for i in range(1, len(path) - 1):
            eq = self.d.equation(path[i])
            # skip a weighted sum into its own activation: ∂h1/∂w1 = ∂h1/∂net_h1 · ∂net_h1/∂w1
            if not (eq.kind == "net" and self.d.equation(path[i + 1]).kind == "act"):
                out.append(path[i])
        return tuple(out + [path[-1]])

    # one product
    def term(self, k: int, nodes, text: str, problems: list) -> Term:
        found: list[Problem] = []
        factors = [self.factor(n, text, k, found) for n in nodes]
        term_text = _term_text(factors)
        derivs = [f for f in factors if f.num is not None]
        evals = [f for f in factors if f.expr is not None]
        broken = any(not f.ok for f in factors)
        covered: tuple = ()
        if not broken:
            covered = self.chain(k, derivs, evals, found)
        problems += found
        meant = ()
        if found:
            meant = covered or self.guess(factors)
            covered = ()
        return Term(term_text, tuple(covered), not found, meant)

    def factor(self, node, text: str, k: int, problems: list) -> _Factor:
        if isinstance(node, Derivative):
            written = f"∂{node.num.exact}/∂{node.den.exact}"
            num = self.resolve(node.num, problems, k, written)
            den = self.resolve(node.den, problems, k, written)
            if num is None or den is None:
                return _Factor(node, written, ok=False)
            f = _Factor(node, self.ftext(num, den), num, den)
            why = self.factor_problem(num, den)
            if why:
                problems.append(Problem(why[0], k, f"{f.text}: {why[1]}", f.text))
                f.ok = False
            return f
        if isinstance(node, Number) and node.pos == node.end:
            return _Factor(node, "(−1)", expr=node.value)
        bad = []

        def resolve(name: Name):
            n = self.resolve(name, problems, k, name.exact)
            if n is None:
                bad.append(name)
                return sp.Symbol("?" + name.exact)
            return symbol(n)

        expr = to_sympy(node, resolve)
        return _Factor(node, _plain(node, self.plain_name), expr=expr, ok=not bad)

    def plain_name(self, name: Name) -> str:
        found = self.names.resolve(name)[0]
        return self.show(found) if found else name.exact

    def factor_problem(self, a: str, b: str) -> tuple[str, str] | None:
        kind = self.names.kind
        if a == b:
            return "not-a-step", f"∂{a}/∂{a} is 1: it takes no step from one quantity to another"
        if kind[a] != "node":
            msg = (f"{a} is {_article(kind[a])}, an independent variable: it does not change when "
                   f"{b} does, so ∂{a}/∂{b} = 0 and this product vanishes")
            return "independent", msg + self.weight_note(a)
        if not self.graph.depends(a, b):
            if self.graph.depends(b, a):
                return "no-dependence", (f"upside down: {b} depends on {a}, not {a} on {b}; "
                                         f"the chain rule uses ∂{self.show(b)}/∂{a}")
            return "no-dependence", f"{a} does not depend on {b} (no path leads from {b} to {a}), so the factor is 0"
        off = [n for n in (b, a) if n not in self.on_path]
        if off:
            n = off[0]
            if kind.get(n) == "parameter":
                why = (f"{n} is a parameter: a path can start at a parameter but never passes through one, "
                       f"so no path from {self.S} to {self.show(self.T)} goes through {n}" + self.weight_note(n))
            else:
                why = f"{n} is on no path from {self.S} to {self.show(self.T)}: {self.S} does not reach it"
                if not self.graph.depends(self.T, n):
                    why = f"{n} is on no path from {self.S} to {self.show(self.T)}: it does not lead there"
            return "off-path", why
        return None

    def weight_note(self, w: str) -> str:
        uses = [f"{src} → {eq.neuron or eq.name}" for eq in self.d.equations for ww, src in eq.terms if ww == w]
        if not uses or w in self.noted:
            return ""
        self.noted.add(w)  # said once per verdict
        return (f" ({w} is the weight on the connection {', '.join(uses)}: it scales that connection, "
                f"it is not a node on it)")

    def chain(self, k: int, derivs: list[_Factor], evals: list[_Factor], found: list) -> tuple:
        """The paths a well-formed product covers; problems appended to `found` otherwise."""
        g, S, T = self.graph, self.S, self.T
        rank = {n: i for i, n in enumerate(_topological(self.d, S))}
        derivs = sorted(derivs, key=lambda f: rank.get(f.den, -1))
        segments: list[list[tuple[str, ...]]] = []  # each a set of routes; joined in order
        gaps: list[tuple[str, str, int]] = []  # (from, to, index into segments)
        cur = S
        for f in derivs:
            if f.den != cur:
                if not g.depends(f.den, cur):
                    prev = next((p for p in derivs if p.den == f.den and p is not f), None)
                    if prev is not None:
                        why = (f"{prev.text} and {f.text} both start at {f.den}: a product follows one path, "
                               "and each other path is a term of its own (+)")
                    elif g.depends(cur, f.den):
                        why = (f"{f.text} overlaps the factors before it: they already went past {f.den} "
                               f"to {self.show(cur)}")
                    else:
                        why = (f"{f.text} does not link up: the chain had reached {self.show(cur)}, and "
                               f"{f.den} does not depend on {self.show(cur)} (it is on another path)")
                    found.append(Problem("does-not-link", k, why, f.text))
                    return ()
                gaps.append((cur, f.den, len(segments)))
                segments.append(g.routes(cur, f.den))
            segments.append(self.factor_routes(f.den, f.num))
            if len(segments[-1][0]) > 2 and len(g.routes(f.den, f.num)) > 1:
                self.held.append((k, f))  # read as a partial: the other routes into it are held fixed
            cur = f.num
        if cur != T:
            gaps.append((cur, T, len(segments)))
            segments.append(g.routes(cur, T))
        value = _mul([self.numbers.value(f.expr) for f in evals]) if evals else None
        if not gaps:
            if value is not None and not _close(value, (1,) * POINTS):
                self.extra(k, evals, value, found)
            return _join(segments)
        if value is None:
            for a, b, _ in gaps:
                found.append(self.gap_problem(k, a, b))
            return _join(segments)
        # the evaluated factors fill the gaps: all routes of each gap, or one route of each
        readings = [[(i, segments[i]) for _, _, i in gaps]]
        singles = itertools.islice(itertools.product(*[segments[i] for _, _, i in gaps]), MAX_COMBINATIONS)
        readings += [[(gaps[j][2], [r]) for j, r in enumerate(combo)] for combo in singles]
        for reading in readings:
            filled = _fill(segments, reading)
            if _close(value, _mul([self.numbers.routes(routes) for _, routes in reading])):
                return _join(filled)
        return self.diagnose(k, gaps, segments, readings[1:], evals, value, found)

    def factor_routes(self, b: str, a: str) -> list[tuple[str, ...]]:
        """The routes a factor ∂a/∂b stands for.

        A partial derivative holds a's other arguments fixed: when b is an argument of a's own
        equation, or of the weighted sum a's activation reads (h1 = σ(w1·i1 + w2·i2 + b1)), ∂a/∂b is
        that one route.  Otherwise (∂L/∂h1: h1 is no argument of L) it is the derivative along
        every route from b to a, the error-signal form.
        """
        if b in self.d.equation(a).args:
            return [(b, a)]
        eq = self.d.equation(a)
        if eq.kind == "act" and b in self.d.equation(eq.args[0]).args:
            return [(b, eq.args[0], a)]
        return self.graph.routes(b, a)

    def gap_problem(self, k: int, a: str, b: str) -> Problem:
        missing = self.ftext(b, a)
        if a == self.S:
            return Problem("does-not-start-at-param", k,
                           f"the product does not start at {self.S}: nothing takes {self.S} to {self.show(b)} "
                           f"(missing {missing})", missing)
        if b == self.T:
            return Problem("does-not-reach-loss", k,
                           f"the product stops at {a} and does not reach {self.show(self.T)} (missing {missing})",
                           missing)
        return Problem("does-not-link", k, f"the chain breaks between {a} and {b}: nothing takes {a} to {b} "
                                           f"(missing {missing})", missing)

    def extra(self, k: int, evals, value, found) -> None:
        c = _constant_ratio(value, (1,) * POINTS)
        written = " · ".join(f.text for f in evals)
        if c is not None:
            found.append(Problem("constant-factor", k, f"{_constant_words(c)}: the derivatives already link "
                                                       f"{self.S} to {self.show(self.T)}, so {written} does not "
                                                       "belong", written))
        else:
            found.append(Problem("extra-factor", k, f"{written} is extra: the derivatives already link {self.S} "
                                                    f"to {self.show(self.T)} and account for every step", written))

    def diagnose(self, k, gaps, segments, singles, evals, value, found) -> tuple:
        """Evaluated factors that do not fill the gaps: find the one that is wrong, and how."""
        mentioned = {s.name for f in evals for s in f.expr.free_symbols}
        # the single-route reading the factors seem to follow: the one mentioning most of their nodes
        scored = sorted(((len(mentioned & {n for _, rs in r for n in rs[0]}), j) for j, r in enumerate(singles)),
                        reverse=True)
        reading = None
        if scored and (len(scored) == 1 or scored[0][0] > scored[1][0]):
            reading = singles[scored[0][1]]
        if reading is None:
            written = " · ".join(f.text for f in evals)
            found.append(Problem("wrong-value", k, f"{written} does not equal "
                                 + " · ".join(self.ftext(b, a) for a, b, _ in gaps) + ", which it stands for", written))
            return ()
        filled = _fill(segments, reading)
        edges = [(r[0][j], r[0][j + 1]) for _, r in reading for j in range(len(r[0]) - 1)]
        expected = _mul([self.numbers.routes(routes) for _, routes in reading])
        c = _constant_ratio(value, expected)
        if c is not None:
            culprit, run = self.culprit(evals, edges, c)
            where = culprit or " · ".join(f.text for f in evals)
            found.append(Problem("constant-factor", k, f"{where}: {_constant_words(c)}" +
                                 self.loss_note(run or edges, c), where))
            return _join(filled)
        unmatched, covered = [], set()
        i = 0
        while i < len(evals):  # the shortest run of written factors that equals a run of local partials
            for j in range(i + 1, len(evals) + 1):
                v = _mul([self.numbers.value(f.expr) for f in evals[i:j]])
                run = _matching_run(self.numbers, edges, v, covered)
                if run is not None:
                    covered |= set(run)
                    i = j
                    break
            else:
                unmatched.append(evals[i])
                i += 1
        missing = [e for e in edges if e not in covered]
        want = " · ".join(f"{self.ftext(b, a)} = {_short(self.d.edge(b, a).display)}" for a, b in missing)
        for f in unmatched:
            msg = f"{f.text} is not the local partial it stands for"
            found.append(Problem("wrong-value", k, msg + (f": in its place the chain needs {want}" if want else ""),
                                 f.text))
        if not unmatched and missing:
            found.append(Problem("does-not-link", k, f"nothing stands for {want}",
                                 self.ftext(missing[-1][1], missing[0][0])))
        return _join(filled)

    def culprit(self, evals, edges, c: Fraction):
        """The written factors (a run of them) that are c times the local partials they stand for."""
        runs = [edges[i:j] for i in range(len(edges)) for j in range(i + 1, len(edges) + 1)]
        for size in range(1, len(evals) + 1):
            for i in range(len(evals) - size + 1):
                group = evals[i:i + size]
                v = _mul([self.numbers.value(f.expr) for f in group])
                for run in [[], *runs]:
                    if _constant_ratio(v, _mul([self.numbers.edge(b, a) for a, b in run])) == c:
                        return _juxtapose([f.text for f in group]), run
        return "", []

    def loss_note(self, run, c: Fraction) -> str:
        """For a constant off in the loss's own derivative: what that derivative is for this loss, and why."""
        if not run or run[-1][1] != self.d.loss or (abs(c) not in (2, Fraction(1, 2))
                                                     and self.d.spec.loss.kind != "mse"):
            return ""
        spec_loss = LOSSES[self.d.spec.loss.kind]
        o = run[-1][0]
        right = _short(self.d.edge(self.d.loss, o).display)
        return (f". For this loss ({spec_loss.description}) ∂{self.show(self.d.loss)}/∂{o} = {right}: "
                f"{spec_loss.derivative_note}")

    def guess(self, factors) -> tuple[str, ...]:
        nodes = {n for f in factors for n in (f.num, f.den) if n in self.on_path}
        nodes |= {s.name for f in factors if f.expr is not None for s in f.expr.free_symbols
                  if s.name in self.on_path and self.names.kind.get(s.name) == "node"}
        fits = [p for p in self.paths if nodes <= set(p)]
        return tuple(fits) if len(fits) == 1 else ()

    def coverage(self, terms: list[Term], problems: list) -> None:
        count = Counter(p for t in terms for p in t.paths)
        by: dict[tuple, list[int]] = {}
        for i, t in enumerate(terms):
            for p in t.paths:
                by.setdefault(p, []).append(i + 1)
        meant = {p for t in terms for p in t.meant}
        for p in self.paths:
            if count[p] > 1:
                problems.append(Problem("duplicate-path", 0,
                                        f"the path {self.path_text(p)} is counted {_times(count[p])}, by terms "
                                        f"{', '.join(map(str, by[p]))}: each path appears exactly once"))
            elif count[p] == 0 and p not in meant:
                problems.append(Problem("missing-path", 0, f"the path {self.path_text(p)} is missing: add "
                                                           f"{self.product_text(p)}" + self.held_note(p)))

    def held_note(self, path) -> str:
        """Why a skipping factor that looks as if it covered `path` does not."""
        for k, f in self.held:
            if f.den in path and f.num in path:
                net = self.factor_routes(f.den, f.num)[0][1]
                i = path.index(net) if net in path else -1
                if i > 0 and path[i - 1] != f.den:
                    return (f" ({f.text} in term {k} is a partial derivative: it holds {path[i - 1]} fixed and "
                            f"counts only the route {f.den} → {net} → {f.num}; this path, through "
                            f"{path[i - 1]}, needs a product of its own)")
        return ""


def _path_count(d: Derivation, S: str, T: str) -> int:
    """How many paths lead from S to T, counted without listing them."""
    counts: dict[str, int] = {T: 1}
    for eq in reversed(d.equations):
        if eq.name != T:
            counts[eq.name] = sum(counts.get(e.dst, 0) for e in d.consumers(eq.name))
    return counts.get(S) or sum(counts.get(e.dst, 0) for e in d.consumers(S))


def _term_text(factors) -> str:
    """A product as the report writes it; a sign the reader turned into a factor −1 stays a sign."""
    texts, negative = [], False
    for f in factors:
        if isinstance(f.node, Number) and f.node.pos == f.node.end:  # the −1 of a leading minus
            negative = not negative
            continue
        texts.append(("−" if negative else "") + f.text)
        negative = False
    if negative:
        texts.append("(−1)")
    return " · ".join(texts)


def _juxtapose(texts) -> str:
    """Factors side by side as a person writes them: −2(t1 − o1), i1 · w5."""
    out = texts[0]
    for t in texts[1:]:
        out += t if t.startswith("(") else f" · {t}"
    return out


def _fill(segments, reading):
    filled = list(segments)
    for i, routes in reading:
        filled[i] = routes
    return filled


def _join(segments) -> tuple[tuple[str, ...], ...]:
    out = []
    for combo in itertools.product(*segments):
        path = list(combo[0])
        for r in combo[1:]:
            path += list(r[1:])
        out.append(tuple(path))
    return tuple(out)


def _matching_run(numbers: _Numbers, edges, value, covered):
    """The first run of consecutive uncovered edges whose product equals `value`."""
    for i in range(len(edges)):
        prod = (complex(1),) * POINTS
        for j in range(i, len(edges)):
            if edges[j] in covered or (j > i and edges[j][0] != edges[j - 1][1]):
                break
            prod = _mul([prod, numbers.edge(edges[j][1], edges[j][0])])
            if _close(prod, value):
                return edges[i:j + 1]
    return None


def _topological(d: Derivation, S: str) -> list[str]:
    leaves = list(d.spec.inputs) + list(d.spec.targets) + list(d.parameters)
    return [S] + [n for n in leaves if n != S] + [eq.name for eq in d.equations]


def _plain(node, name_of) -> str:
    """An evaluated factor in plain text with network names: σ(net_h1)(1 − σ(net_h1)), −(t1 − o1)."""
    if isinstance(node, Name):
        return name_of(node)
    if isinstance(node, Number):
        v = node.value
        return str(v) if v.q == 1 else f"{v.p}/{v.q}"
    text = _plain_group(node, name_of)
    return f"({text})" if node.paren and node.op in ("+", "neg", "*", "/") else text


def _plain_group(node, name_of) -> str:
    args = [_plain(a, name_of) for a in node.args]
    compound = [isinstance(a, Group) and not a.paren and a.op in ("+", "neg", "*", "/") for a in node.args]
    if node.op == "+":
        out = args[0]
        for a, t in zip(node.args[1:], args[1:]):
            out += f" − {t[1:]}" if isinstance(a, Group) and a.op == "neg" else f" + {t}"
        return out
    if node.op == "neg":
        return "−" + (f"({args[0]})" if compound[0] and node.args[0].op in ("+", "neg") else args[0])
    wrapped = [f"({t})" if c else t for t, c in zip(args, compound)]
    if node.op == "*":
        out = wrapped[0]
        for t in wrapped[1:]:
            out += t if t.startswith("(") else f" · {t}"
        return out
    if node.op == "/":
        return f"{wrapped[0]}/{wrapped[1]}"
    if node.op == "^":
        return f"{wrapped[0]}^{wrapped[1]}" if len(wrapped[1]) == 1 else f"{wrapped[0]}^({args[1]})"
    key = node.op.rstrip("'")
    fn = {"sigma": "σ"}.get(key, key) + "′" * (len(node.op) - len(key))
    return f"{fn}({args[0]})"


def _article(kind: str) -> str:
    return {"input": "an input", "target": "a target", "parameter": "a parameter"}.get(kind, kind)


def _times(n: int) -> str:
    return {2: "twice", 3: "three times"}.get(n, f"{n} times")


def _constant_words(c: Fraction) -> str:
    if c == 0:
        return "the product is 0: a factor makes it vanish"
    if c == -1:
        return "the sign is wrong: the product is off by a factor −1"
    if c == 2:
        return "a factor of 2 too many"
    if c == Fraction(1, 2):
        return "a factor of 2 missing"
    if c == -2 or c == Fraction(-1, 2):
        return f"off by a factor {c}: the sign is wrong and a factor of 2 is {'extra' if c == -2 else 'missing'}"
    return f"off by a constant factor {c}"


def _short(expr) -> str:
    """A local partial as the report writes it: h1(1 − h1), −(t1 − o1)."""
    from .printing import text

    s = text(expr).replace("*(", "(").replace("*", "·").replace(" - ", " − ")
    return "−" + s[1:] if s.startswith("-") else s


# -- the entry points --------------------------------------------------------------------------

def check(d: Derivation, equation: str) -> Verdict:
    """Judge `equation` (LaTeX, ∂L/∂θ = Σ Π ∂a/∂b) against the derivation `d`.

    Raises `EquationError` (one line, saying where reading stopped) if it cannot be read.
    """
    return _Checker(d).run(equation)


def common_mistakes(d: Derivation, param: str) -> tuple[Mistake, ...]:
    """Typical wrong forms of ∂L/∂param, each with the verdict saying why it is wrong.

    The seed question's weight-as-a-node form (∂w7/∂h1 · ∂o2/∂w7 for the connection h1 → o2),
    a path or a factor left out, and a wrong constant in the loss's derivative; a form that does
    not arise for this parameter (no hidden connection on its paths) is left out.

    >>> import derive
    >>> d = derive.derive(derive.load("examples/mazur.toml"))
    >>> [m.title for m in common_mistakes(d, "w1")]
    ['a weight as a node of the chain', 'a path left out', 'a factor of 2 in the loss derivative']
    >>> print(common_mistakes(d, "w1")[0].equation[:59])
    \\frac{\\partial E_{\\mathrm{total}}}{\\partial w_{1}} = \\frac{
    """
    d._check_param(param)
    checker = _Checker(d)
    printer = LatexPrinter(dict(d.spec.latex))
    paths = [checker.compact(p) for p in d.paths(param)]
    out: list[tuple[str, list[list[str]]]] = []

    def frac(num, den):
        return rf"\frac{{\partial {printer.name(num)}}}{{\partial {printer.name(den)}}}"

    def factors(path):
        return [frac(b, a) for a, b in itertools.pairwise(path)]

    # the seed's mistake: a connection's weight written as a node between its two ends
    weighted = []
    for path in paths:
        terms = factors(path)
        for j, (a, b) in enumerate(itertools.pairwise(path)):
            w = _weight_between(d, a, b)
            if w and a != param:
                terms[j:j + 1] = [frac(w, a), frac(b, w)]
                break
        weighted.append(terms)
    if weighted != [factors(p) for p in paths]:
        out.append(("a weight as a node of the chain", weighted))
    if len(paths) > 1:
        out.append(("a path left out", [factors(p) for p in paths[:-1]]))
    else:  # one path: leave out the activation's derivative, or else the loss's
        full = d.paths(param)[0]
        pairs = list(itertools.pairwise(full))
        act = next((j for j, (a, b) in enumerate(pairs) if d.equation(b).kind == "act"), len(pairs) - 1)
        del pairs[act]
        out.append(("a factor left out", [[frac(b, a) for a, b in pairs]]))
    spec_loss = d.spec.loss
    k = len(spec_loss.outputs)
    wrong = {"half_sse": ("a factor of 2 in the loss derivative", "-2"),
             "sse": ("the 2 from the square forgotten", "-"),
             "mse": ("the mean's 1/K forgotten" if k > 1 else "the 2 from the square forgotten",
                     "-2" if k > 1 else "-")}.get(spec_loss.kind)
    if wrong:
        targets = dict(spec_loss.outputs)
        terms = []
        for path in paths:
            o = path[-2]
            value = rf"{wrong[1]}\left({printer.name(targets[o])} - {printer.name(o)}\right)"
            terms.append(factors(path)[:-1] + [rf"\left({value}\right)"])
        out.append((wrong[0], terms))
    lhs = frac(d.loss, param)
    forms = [(title, lhs + " = " + " + ".join(r" \, ".join(t) for t in terms)) for title, terms in out]
    return tuple(Mistake(title, eq, check(d, eq)) for title, eq in forms)


def _weight_between(d: Derivation, a: str, b: str) -> str:
    """The weight on the connection a → b (b a neuron or its weighted sum), or ""."""
    for eq in d.equations:
        if eq.kind == "net" and (eq.name == b or eq.neuron == b):
            for w, src in eq.terms:
                if src == a:
                    return w
    return ""
