"""Judging one equation: line each product's factors up into a chain from θ to the loss, count paths.

`Judge(d).run(equation)` reads the learner's LaTeX (parse.py), resolves every name as it
is spelled (spelling.py), and for each product of the right side:

- sorts its derivatives along the network and walks them from θ: each denominator must be where
  the chain has got to, or downstream of it (a gap); each factor ∂a/∂b covers the routes it
  stands for (routes.py);
- fills the gaps with the evaluated factors, compared as numbers with the local partials they
  stand for (probe.py), and when they do not fit, finds the factor that is wrong and how
  (a constant 2, a sign, a wrong value);
- then checks that every path from θ to the loss is covered exactly once.

Every problem is a `Problem` in plain words (verdict.py, wording.py).

>>> import derive
>>> d = derive.derive(derive.load("examples/mazur.toml"))
>>> v = Judge(d).run(r"\\frac{\\partial E}{\\partial w_5} = \\frac{\\partial o_1}{\\partial w_5}")
>>> v.correct, [p.kind for p in v.problems]
(False, ['does-not-reach-loss'])
"""

from __future__ import annotations

import itertools
import weakref
from dataclasses import dataclass
from fractions import Fraction
from functools import cached_property

import sympy as sp

from ..core.derivation import Derivation, Factor
from ..core.graph import symbol
from ..printing.printers import LatexPrinter, latex_factor
from .parse import Derivative, EquationError, Name, Number, parse, product_terms, span, to_sympy
from .probe import POINTS, Numbers, close, constant_ratio, matching_run, mul
from .routes import Graph, compact, factor_routes, path_count, topological
from .spelling import Names
from .verdict import Problem, Term, Verdict
from .wording import article, constant_words, juxtapose, plain, short, term_text, times

__all__ = ["Judge"]

MAX_COMBINATIONS = 256  # single-route readings tried for a term's gaps
MAX_PATHS = 4096  # a left side with more paths than this is not judged


@dataclass
class _Factor:
    """One factor of a product as read: a derivative ∂num/∂den, or an evaluated expression."""

    node: object  # Derivative or an evaluated node
    text: str
    num: str | None = None
    den: str | None = None
    expr: sp.Expr | None = None
    ok: bool = True


class _Network:
    """What the checker knows about one derivation, built once and shared by every check of it."""

    def __init__(self, d: Derivation):
        self.d, self.names, self.graph = d, Names(d), Graph(d)

    @cached_property
    def numbers(self) -> Numbers:
        return Numbers(self.d)


_NETWORKS: dict[int, tuple[weakref.ref, _Network]] = {}


def _network(d: Derivation) -> _Network:
    ref, net = _NETWORKS.get(id(d), (None, None))
    if ref is None or ref() is not d:
        key = id(d)
        net = _Network(d)
        _NETWORKS[key] = (weakref.ref(d), net)
        weakref.finalize(d, _NETWORKS.pop, key, None).atexit = False  # forget it with the derivation
    return net


class Judge:
    """One verdict in the making: `run` reads an equation and judges it (one Judge per equation)."""

    def __init__(self, d: Derivation):
        self.d = d
        self.net = _network(d)
        self.names, self.graph = self.net.names, self.net.graph
        self.shown = {}  # network name -> how the learner wrote it, when that differs (L for E_total)
        self.notes: list[str] = []
        self.held: list[tuple[int, _Factor]] = []  # skipping factors that hold other routes fixed
        self.noted: set[str] = set()  # weights whose place in the network has been explained

    @property
    def numbers(self) -> Numbers:
        return self.net.numbers

    # naming
    def show(self, name: str) -> str:
        return self.shown.get(name, name)

    def ftext(self, num: str, den: str) -> str:
        return f"∂{self.show(num)}/∂{self.show(den)}"

    def product_text(self, path) -> str:
        return " · ".join(self.ftext(b, a) for a, b in itertools.pairwise(path))

    def product_latex(self, path, printer) -> str:
        return r" \, ".join(latex_factor(Factor(b, a), printer) for a, b in itertools.pairwise(path))

    def resolve(self, name: Name, problems: list, term: int, factor: str = "") -> str | None:
        found, why, how = self.names.resolve(name)
        if found is None:
            hint = (f" (parameters: {', '.join(self.d.parameters)}; targets: {', '.join(self.d.spec.targets)}; "
                    f"loss: {self.d.loss})")
            problems.append(Problem("unknown-name", term, why + hint, factor))
            return None
        if how == 1 and found in dict(self.d.spec.latex):  # y' for yp: the report echoes the learner's notation
            self.shown.setdefault(found, name.exact)
        if how >= 2:
            if found == self.d.loss:  # the learner's L or E stands for the loss everywhere in the verdict
                self.shown.setdefault(found, name.exact)
            self.notes.append(f"{name.exact} is read as {'the loss ' if found == self.d.loss else ''}{found}")
        return found

    # the whole equation
    def run(self, text: str) -> Verdict:
        try:
            return self._run(text)
        except RecursionError:
            raise EquationError("the equation is nested too deeply to read", 0, text) from None

    def _run(self, text: str) -> Verdict:
        eq = parse(text)
        if not isinstance(eq.lhs, Derivative):
            raise EquationError("the left side should be one derivative, ∂L/∂θ", span(eq.lhs)[0], eq.text)
        terms_ast = product_terms(eq.rhs, eq.text)
        problems: list[Problem] = []
        T = self.resolve(eq.lhs.num, problems, 0, "left side")
        S = self.resolve(eq.lhs.den, problems, 0, "left side")
        if T is None or S is None:
            return self.verdict(T or eq.lhs.num.exact, S or eq.lhs.den.exact, (), problems, ())
        left = self.left_side(T, S)
        if left:
            problems.append(Problem("left-side", 0, left))
            return self.verdict(T, S, (), problems, ())
        self.T, self.S = T, S
        count = path_count(self.d, S, T)
        if count > MAX_PATHS:
            raise EquationError(f"∂{T}/∂{S} has {count} paths; derive check judges equations of at most "
                                f"{MAX_PATHS}", 0, eq.text)
        self.paths = tuple(self.graph.routes(S, T))
        self.on_path = {n for p in self.paths for n in p}
        terms = [self.term(i, factors, problems) for i, factors in enumerate(terms_ast, 1)]
        self.coverage(terms, problems)
        return self.verdict(T, S, tuple(terms), problems, self.paths)

    def left_side(self, T: str, S: str) -> str:
        kind = self.names.kind
        if T == S:
            return f"∂{self.show(T)}/∂{self.show(S)} is 1: the left side should be ∂{self.d.loss}/∂θ"
        if kind[T] != "node":
            return (f"{T} is {article(kind[T])}, an independent variable: ∂{self.show(T)}/∂{S} is 0. "
                    f"The left side should be ∂{self.d.loss}/∂θ with θ one of {', '.join(self.d.parameters)}")
        if not self.graph.depends(T, S):
            return f"{T} does not depend on {S}, so ∂{self.show(T)}/∂{S} = 0: no path leads from {S} to {T}"
        return ""

    def verdict(self, T, S, terms, problems, paths) -> Verdict:
        printer = LatexPrinter({**dict(self.d.spec.latex), **self.shown})  # the learner's L stays L
        correct = ["", "", "", ""]
        if paths:
            lhs_l = latex_factor(Factor(T, S), printer)
            lhs_t = f"∂{self.show(T)}/∂{S} = "
            for i, form in enumerate((paths, [compact(self.d, p) for p in paths])):
                correct[2 * i] = lhs_l + " = " + " + ".join(self.product_latex(p, printer) for p in form)
                correct[2 * i + 1] = lhs_t + " + ".join(self.product_text(p) for p in form)
            if correct[2] == correct[0]:
                correct[2] = correct[3] = ""
        shown_eq = f"∂{self.show(T)}/∂{self.show(S)} = " + " + ".join(t.text for t in terms) if terms else ""
        return Verdict(not problems, shown_eq, T, S, tuple(terms), tuple(problems), *correct,
                       tuple(dict.fromkeys(self.notes)))

    # one product
    def term(self, k: int, nodes, problems: list) -> Term:
        found: list[Problem] = []
        factors = [self.factor(n, k, found) for n in nodes]
        written = term_text(factors)
        derivs = [f for f in factors if f.num is not None]
        evals = [f for f in factors if f.expr is not None]
        covered = () if any(not f.ok for f in factors) else self.chain(k, derivs, evals, found)
        problems += found
        if found:  # a wrong term covers nothing; say which path it seems meant for
            return Term(written, (), False, covered or self.guess(factors))
        return Term(written, covered, True)

    def factor(self, node, k: int, problems: list) -> _Factor:
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

        expr = to_sympy(node, resolve)  # first: it records how the learner wrote the loss, which plain shows
        return _Factor(node, plain(node, self.plain_name), expr=expr, ok=not bad)

    def plain_name(self, name: Name) -> str:
        found = self.names.resolve(name)[0]
        return self.show(found) if found else name.exact

    def factor_problem(self, a: str, b: str) -> tuple[str, str] | None:
        kind = self.names.kind
        if a == b:
            return "not-a-step", f"∂{a}/∂{a} is 1: it takes no step from one quantity to another"
        if kind[a] != "node":
            msg = (f"{a} is {article(kind[a])}, an independent variable: it does not change when "
                   f"{b} does, so ∂{a}/∂{b} = 0 and this product vanishes")
            return "independent", msg + self.weight_note(a)
        if not self.graph.depends(a, b):
            if self.graph.depends(b, a):
                return "no-dependence", (f"upside down: {b} depends on {a}, not {a} on {b}; "
                                         f"the chain rule uses ∂{self.show(b)}/∂{a}")
            return "no-dependence", f"{a} does not depend on {b} (no path leads from {b} to {a}), so the factor is 0"
        n = next((n for n in (b, a) if n not in self.on_path), None)
        if n is not None:
            if kind.get(n) == "parameter":
                why = (f"{n} is a parameter: a path can start at a parameter but never passes through one, "
                       f"so no path from {self.S} to {self.show(self.T)} goes through {n}" + self.weight_note(n))
            else:
                leads = self.graph.depends(self.T, n)
                why = (f"{n} is on no path from {self.S} to {self.show(self.T)}: "
                       + (f"{self.S} does not reach it" if leads else "it does not lead there"))
            return "off-path", why
        return None

    def weight_note(self, w: str) -> str:
        # the connection into the neuron, or into its weighted sum when that feeds several outputs (a softmax group)
        uses = [f"{src} → {eq.neuron if eq.neuron and len(self.d.consumers(eq.name)) == 1 else eq.name}"
                for eq in self.d.equations for ww, src in eq.terms if ww == w]
        if not uses or w in self.noted:
            return ""
        self.noted.add(w)  # said once per verdict
        return (f" ({w} is the weight on the connection {', '.join(uses)}: it scales that connection, "
                f"it is not a node on it)")

    def chain(self, k: int, derivs: list[_Factor], evals: list[_Factor], found: list) -> tuple:
        """The paths a well-formed product covers; problems appended to `found` otherwise."""
        g, S, T = self.graph, self.S, self.T
        rank = {n: i for i, n in enumerate(topological(self.d, S))}
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
            segments.append(factor_routes(self.d, self.graph, f.den, f.num))
            if len(segments[-1][0]) > 2 and len(g.routes(f.den, f.num)) > 1:
                self.held.append((k, f))  # read as a partial: the other routes into it are held fixed
            cur = f.num
        if cur != T:
            gaps.append((cur, T, len(segments)))
            segments.append(g.routes(cur, T))
        value = mul([self.numbers.value(f.expr) for f in evals]) if evals else None
        if not gaps:
            if value is not None and not close(value, (1,) * POINTS):
                self.extra(k, evals, value, found)
            return _join(segments)
        if value is None:
            found += [self.gap_problem(k, a, b) for a, b, _ in gaps]
            return _join(segments)
        # the evaluated factors fill the gaps: all routes of each gap, or one route of each
        readings = [[(i, segments[i]) for _, _, i in gaps]]
        singles = itertools.islice(itertools.product(*[segments[i] for _, _, i in gaps]), MAX_COMBINATIONS)
        readings += [[(gaps[j][2], [r]) for j, r in enumerate(combo)] for combo in singles]
        for reading in readings:
            if close(value, mul([self.numbers.routes(routes) for _, routes in reading])):
                return _join(_fill(segments, reading))
        return self.diagnose(k, gaps, segments, readings[1:], evals, value, found)

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
        c = constant_ratio(value, (1,) * POINTS)
        written = " · ".join(f.text for f in evals)
        linked = f"the derivatives already link {self.S} to {self.show(self.T)}"
        if c is None:
            why = f"{written} is extra: {linked} and account for every step"
        else:
            why = f"{constant_words(c)}: {linked}, so {written} does not belong"
        found.append(Problem("extra-factor" if c is None else "constant-factor", k, why, written))

    def diagnose(self, k, gaps, segments, singles, evals, value, found) -> tuple:
        """Evaluated factors that do not fill the gaps: find the one that is wrong, and how."""
        mentioned = {s.name for f in evals for s in f.expr.free_symbols}
        # the single-route reading the factors seem to follow: the one mentioning most of their nodes
        scored = sorted(((len(mentioned & {n for _, rs in r for n in rs[0]}), j) for j, r in enumerate(singles)),
                        reverse=True)
        if not scored or (len(scored) > 1 and scored[0][0] == scored[1][0]):  # none, or no clear favourite
            written = " · ".join(f.text for f in evals)
            found.append(Problem("wrong-value", k, f"{written} does not equal "
                                 + " · ".join(self.ftext(b, a) for a, b, _ in gaps) + ", which it stands for", written))
            return ()
        reading = singles[scored[0][1]]
        filled = _fill(segments, reading)
        edges = [(r[0][j], r[0][j + 1]) for _, r in reading for j in range(len(r[0]) - 1)]
        c = constant_ratio(value, mul([self.numbers.routes(routes) for _, routes in reading]))
        if c is not None:
            culprit, run = self.culprit(evals, edges, c)
            where = culprit or " · ".join(f.text for f in evals)
            found.append(Problem("constant-factor", k, f"{where}: {constant_words(c)}" +
                                 self.loss_note(run or edges, c), where))
            return _join(filled)
        unmatched, covered, i = [], set(), 0
        while i < len(evals):  # the shortest run of written factors that equals a run of local partials
            for j in range(i + 1, len(evals) + 1):
                v = mul([self.numbers.value(f.expr) for f in evals[i:j]])
                run = matching_run(self.numbers, edges, v, covered)
                if run is not None:
                    covered |= set(run)
                    i = j
                    break
            else:
                unmatched.append(evals[i])
                i += 1
        missing = [e for e in edges if e not in covered]
        want = " · ".join(f"{self.ftext(b, a)} = {short(self.d.edge(b, a).display)}" for a, b in missing)
        needs = f": in its place the chain needs {want}" if want else ""
        for f in unmatched:
            found.append(Problem("wrong-value", k, f"{f.text} is not the local partial it stands for{needs}",
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
                v = mul([self.numbers.value(f.expr) for f in group])
                for run in [[], *runs]:
                    if constant_ratio(v, mul([self.numbers.edge(b, a) for a, b in run])) == c:
                        return juxtapose([f.text for f in group]), run
        return "", []

    def loss_note(self, run, c: Fraction) -> str:
        """For a constant off in the loss's own derivative: what that derivative is for this loss, and why."""
        spec_loss = self.d.loss_op
        if not run or run[-1][1] != self.d.loss or not spec_loss.explains(c, len(self.d.spec.loss.outputs)):
            return ""
        o = run[-1][0]
        display = self.d.edge(self.d.loss, o).display
        with sp.evaluate(False):  # −(t − y) stays as written
            right = short(display.xreplace({s: sp.Symbol(self.show(s.name)) for s in display.free_symbols}))
        return (f". For this loss ({spec_loss.description}) ∂{self.show(self.d.loss)}/∂{self.show(o)} = {right}: "
                f"{spec_loss.derivative_note}")

    def guess(self, factors) -> tuple[str, ...]:
        nodes = {n for f in factors for n in (f.num, f.den) if n in self.on_path}
        nodes |= {s.name for f in factors if f.expr is not None for s in f.expr.free_symbols
                  if s.name in self.on_path and self.names.kind.get(s.name) == "node"}
        fits = [p for p in self.paths if nodes <= set(p)]
        return tuple(fits) if len(fits) == 1 else ()

    def coverage(self, terms: list[Term], problems: list) -> None:
        by: dict[tuple, list[int]] = {}  # path -> the terms covering it
        for i, t in enumerate(terms, 1):
            for p in t.paths:
                by.setdefault(p, []).append(i)
        meant = {p for t in terms for p in t.meant}
        for p in self.paths:
            if len(by.get(p, ())) > 1:
                problems.append(Problem("duplicate-path", 0,
                                        f"the path {' → '.join(p)} is counted {times(len(by[p]))}, by terms "
                                        f"{', '.join(map(str, by[p]))}: each path appears exactly once"))
            elif p not in by and p not in meant:
                problems.append(Problem("missing-path", 0, f"the path {' → '.join(p)} is missing: add "
                                                           f"{self.product_text(p)}" + self.held_note(p)))

    def held_note(self, path) -> str:
        """Why a skipping factor that looks as if it covered `path` does not."""
        for k, f in self.held:
            if f.den in path and f.num in path:
                net = factor_routes(self.d, self.graph, f.den, f.num)[0][1]
                i = path.index(net) if net in path else -1
                if i > 0 and path[i - 1] != f.den:
                    return (f" ({f.text} in term {k} is a partial derivative: it holds {path[i - 1]} fixed and "
                            f"counts only the route {f.den} → {net} → {f.num}; this path, through "
                            f"{path[i - 1]}, needs a product of its own)")
        return ""


def _fill(segments, reading):
    """The segments with each gap of `reading` (index, routes) read its way."""
    chosen = dict(reading)
    return [chosen.get(i, routes) for i, routes in enumerate(segments)]


def _join(segments) -> tuple[tuple[str, ...], ...]:
    """Every path made of one route from each segment, in order (each route starts where the last ended)."""
    return tuple(tuple(itertools.chain(combo[0], *(r[1:] for r in combo[1:])))
                 for combo in itertools.product(*segments))
