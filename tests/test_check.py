"""derive/check.py and `derive check`: a learner's chain-rule equation judged against the network.

The seed Q&A's two equations, evaluated factors, and property tests over the examples and
random networks (tests/netgen.py): every correct equation written from a derivation, in several
notations and factor orders, is accepted; every mutation is caught with the right kind named.
"""

from __future__ import annotations

import itertools
import random
import subprocess
import sys
from functools import cache
from pathlib import Path

import pytest
import sympy as sp

import derive
from derive.check import KINDS, Verdict, check, common_mistakes
from derive.check.parse import EquationError
from derive.cli import main
from derive.core.graph import symbol
from derive.printing import LatexPrinter, latex
from tests.netgen import random_spec

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ("mazur", "qa_chain", "softplus", "skip")

# The seed Q&A: the learner's proposed equation, and the answer's.
PROPOSED = (r"\frac{\partial L}{\partial w_{1}}=\frac{\partial h_{1}}{\partial w_{1}} \frac{\partial w_{7}}{\partial h_{1}} "
            r"\frac{\partial o_{2}}{\partial w_{7}} \frac{\partial L}{\partial o_{2}}+\frac{\partial h_{1}}{\partial w_{1}} "
            r"\frac{\partial w_{5}}{\partial h_{1}} \frac{\partial o_{1}}{\partial w_{5}} \frac{\partial L}{\partial o_{1}}")
ANSWER = (r"\frac{\partial L}{\partial w_{1}}=\frac{\partial h_{1}}{\partial w_{1}} \frac{\partial o_{2}}{\partial h_{1}} "
          r"\frac{\partial L}{\partial o_{2}}+\frac{\partial h_{1}}{\partial w_{1}} \frac{\partial o_{1}}{\partial h_{1}} "
          r"\frac{\partial L}{\partial o_{1}}")


@cache
def example(name: str) -> derive.Derivation:
    return derive.derive(derive.load(ROOT / "examples" / f"{name}.toml"))


def kinds(v: Verdict) -> set[str]:
    return {p.kind for p in v.problems}


# -- the seed Q&A ------------------------------------------------------------------------------

def test_the_seed_questions_equation_is_incorrect_and_its_faults_are_named():
    v = check(example("mazur"), PROPOSED)
    assert not v.correct
    found = {(p.kind, p.factor, p.term) for p in v.problems}
    assert found == {("independent", "∂w7/∂h1", 1), ("off-path", "∂o2/∂w7", 1),
                     ("independent", "∂w5/∂h1", 2), ("off-path", "∂o1/∂w5", 2)}
    why = {p.factor: p.message for p in v.problems}
    assert "w7 is a parameter, an independent variable" in why["∂w7/∂h1"]
    assert "does not change when h1 does" in why["∂w7/∂h1"]
    assert "connection h1 → o2" in why["∂w7/∂h1"] and "never passes through one" in why["∂o2/∂w7"]
    # each wrong term is traced to the path it was meant for, so no path is reported missing besides
    assert [t.meant for t in v.terms] == [(("w1", "net_h1", "h1", "net_o2", "o2", "E_total"),),
                                          (("w1", "net_h1", "h1", "net_o1", "o1", "E_total"),)]
    # and the correct equation is printed, in the answer's own form too
    assert v.compact_text == "∂L/∂w1 = ∂h1/∂w1 · ∂o1/∂h1 · ∂L/∂o1 + ∂h1/∂w1 · ∂o2/∂h1 · ∂L/∂o2"
    assert check(example("mazur"), v.correct_equation).correct
    assert check(example("mazur"), v.compact_equation).correct


def test_the_answers_equation_is_correct():
    v = check(example("mazur"), ANSWER)
    assert v.correct and v.problems == ()
    assert sorted(p for t in v.terms for p in t.paths) == sorted(example("mazur").paths("w1"))
    assert "L is read as the loss E_total" in v.notes


def test_the_seed_articles_own_equations_are_correct():
    # the DEV article's chain for the softplus network, in its own inline d-notation and names
    d = example("softplus")
    v = check(d, "dSSR/dw1 = dSSR/d(predicted) * d(predicted)/dy1 * dy1/dx1 * dx1/dw1")
    assert v.correct, str(v)
    v = check(d, "dSSR/dw1 = -2 * (Observed - Predicted) * w3 * (e^x1 / (1 + e^x1)) * input")
    assert v.correct and "Observed is read as observed" in v.notes
    v = check(d, "dSSR/db1 = -2 * (Observed - Predicted) * w3 * (e^x1 / (1 + e^x1)) * 1")
    assert v.correct
    v = check(d, "dSSR/db1 = -(Observed - Predicted) * w3 * (e^x1 / (1 + e^x1))")
    assert kinds(v) == {"constant-factor"} and "a factor of 2 missing" in v.problems[0].message


# -- evaluated factors -------------------------------------------------------------------------

PATH2 = r"+ \partial h_1/\partial w_1 \; \partial o_2/\partial h_1 \; \partial L/\partial o_2"


@pytest.mark.parametrize("first", [
    r"\partial h_1/\partial w_1 \cdot w_5 \cdot \partial o_1/\partial net_{o1} \cdot \partial L/\partial o_1",
    r"\partial net_{h1}/\partial w_1 \, \sigma(net_{h1})(1-\sigma(net_{h1})) \, \partial L/\partial h_1",
    r"i_1 \, out_{h1}(1-out_{h1}) \, \partial o_1/\partial h_1 \, \partial L/\partial o_1",
    r"\partial h_1/\partial w_1 \, \partial o_1/\partial h_1 \cdot -(t_1 - o_1)",
    r"\partial h_1/\partial w_1 \, \partial o_1/\partial h_1 \, (o_1 - t_1)",
    r"i_1 h_1 (1 - h_1) w_5 o_1 (1 - o_1) \left(-(t_1 - o_1)\right)",
])
def test_evaluated_factors_equal_to_the_local_partials_are_accepted(first):
    text = r"\partial L/\partial w_1 = " + first
    if "partial L/\\partial h_1" not in first:
        text += PATH2
    v = check(example("mazur"), text)
    assert v.correct, str(v)


def test_a_factor_of_2_in_the_loss_derivative_is_named_with_the_reason():
    v = check(example("mazur"), r"\partial E/\partial w_1 = \partial h_1/\partial w_1 \, \partial o_1/\partial h_1 "
                                r"\left(-2(t_1 - o_1)\right)" + PATH2)
    (p,) = v.problems
    assert (p.kind, p.term, p.factor) == ("constant-factor", 1, "(−2(t1 − o1))")
    assert "a factor of 2 too many" in p.message and "the ½ cancels the 2 from the square" in p.message
    v = check(example("softplus"), r"\frac{d SSR}{d b_3} = \frac{d\,predicted}{d b_3} \cdot -(observed - predicted)")
    (p,) = v.problems
    assert p.kind == "constant-factor" and "a factor of 2 missing" in p.message
    assert "the square brings down a 2" in p.message


def test_extra_and_wrong_evaluated_factors_are_named():
    d = example("mazur")
    v = check(d, r"\partial L/\partial w_1 = \partial h_1/\partial w_1 \, w_7 \, \partial o_1/\partial h_1 "
                 r"\partial L/\partial o_1" + PATH2)
    assert [(p.kind, p.factor, p.term) for p in v.problems] == [("extra-factor", "w7", 1)]
    v = check(d, r"\partial L/\partial w_1 = \partial h_1/\partial w_1 \, w_6 \, \partial o_1/\partial net_{o1} "
                 r"\partial L/\partial o_1" + PATH2)
    (p,) = v.problems
    assert (p.kind, p.factor) == ("wrong-value", "w6") and "∂net_o1/∂h1 = w5" in p.message
    v = check(d, r"\partial L/\partial w_1 = 2 \, \partial h_1/\partial w_1 \, \partial L/\partial h_1")
    assert [(p.kind, p.factor) for p in v.problems] == [("constant-factor", "2")]


def test_structural_faults_each_have_their_kind():
    d = example("mazur")
    cases = {
        r"\partial L/\partial w_1 = \partial h_1/\partial w_1 \partial o_1/\partial h_1 \partial o_2/\partial h_1 \partial L/\partial o_2": "does-not-link",
        r"\partial L/\partial w_1 = \partial h_1/\partial w_1 \partial o_1/\partial h_1" + PATH2: "does-not-reach-loss",
        r"\partial L/\partial w_1 = \partial o_1/\partial h_1 \partial L/\partial o_1" + PATH2: "does-not-start-at-param",
        r"\partial L/\partial w_1 = \partial h_1/\partial w_1 \partial L/\partial o_1" + PATH2: "does-not-link",
        r"\partial L/\partial w_1 = \partial h_1/\partial w_1 \partial h_1/\partial o_1 \partial L/\partial o_1" + PATH2: "no-dependence",
        r"\partial L/\partial w_1 = \partial h_2/\partial w_1 \partial L/\partial h_2": "no-dependence",
        r"\partial L/\partial w_1 = \partial h_1/\partial w_1 \partial h_1/\partial h_1 \partial L/\partial h_1": "not-a-step",
        r"\partial L/\partial w_1 = \partial h_1/\partial w_1 \partial L/\partial h_1 + \partial h_1/\partial w_1 \partial o_1/\partial h_1 \partial L/\partial o_1": "duplicate-path",
        r"\partial L/\partial w_1 = \partial h_1/\partial w_1 \partial o_1/\partial h_1 \partial L/\partial o_1": "missing-path",
        r"\partial L/\partial w_1 = \partial h_1/\partial w_1 \partial L/\partial h_9": "unknown-name",
        r"\partial L/\partial w_9 = \partial h_1/\partial w_1 \partial L/\partial h_1": "unknown-name",
        r"\partial w_1/\partial L = \partial h_1/\partial w_1 \partial L/\partial h_1": "left-side",
        r"\partial o_1/\partial w_7 = \partial o_2/\partial w_7": "left-side",
    }
    for text, kind in cases.items():
        v = check(d, text)
        assert not v.correct and kind in kinds(v), (text, str(v))
        assert kinds(v) <= set(KINDS)


def test_any_left_side_whose_numerator_depends_on_its_denominator_is_judged():
    d = example("mazur")
    assert check(d, r"\partial o_1/\partial w_1 = \partial h_1/\partial w_1 \, \partial o_1/\partial h_1").correct
    v = check(d, r"\partial L/\partial h_1 = \partial o_1/\partial h_1 \partial L/\partial o_1")
    assert [p.kind for p in v.problems] == ["missing-path"]
    assert v.correct_text == "∂L/∂h1 = ∂net_o1/∂h1 · ∂o1/∂net_o1 · ∂L/∂o1 + ∂net_o2/∂h1 · ∂o2/∂net_o2 · ∂L/∂o2"


def test_missing_paths_are_named_with_their_products():
    v = check(example("mazur"), r"\partial L/\partial w_1 = \partial h_1/\partial w_1 \partial o_1/\partial h_1 \partial L/\partial o_1")
    (p,) = v.problems
    assert p.kind == "missing-path" and p.term == 0
    assert "w1 → net_h1 → h1 → net_o2 → o2 → E_total" in p.message
    assert "∂net_h1/∂w1 · ∂h1/∂net_h1 · ∂net_o2/∂h1 · ∂o2/∂net_o2 · ∂L/∂o2" in p.message


def test_a_partial_derivative_holds_the_other_routes_fixed():
    # with a weight w1 shared by both neurons, ∂h2/∂w1 holds h1 fixed: one route, through z_h2
    spec = derive.loads('''
name = "shared"
inputs = ["x"]
[[neuron]]
name = "h1"
activation = "tanh"
inputs = { x = "w1" }
[[neuron]]
name = "h2"
activation = "tanh"
inputs = { h1 = "w2", x = "w1" }
[loss]
kind = "half_sse"
outputs = { h2 = "t" }
''')
    d = derive.derive(spec)
    direct = r"\partial L/\partial w_1 = \partial h_2/\partial w_1 \partial L/\partial h_2"
    through_h1 = r"+ \partial h_1/\partial w_1 \partial h_2/\partial h_1 \partial L/\partial h_2"
    assert check(d, direct + through_h1).correct
    v = check(d, direct)
    (p,) = v.problems
    assert p.kind == "missing-path" and "w1 → z_h1 → h1 → z_h2 → h2 → L" in p.message
    assert "∂h2/∂w1 in term 1 is a partial derivative: it holds h1 fixed" in p.message
    # the error-signal form: ∂L/∂z_h1 is no argument of L, so it is the derivative along every route
    assert check(d, r"\partial L/\partial w_1 = \partial z_{h1}/\partial w_1 \partial L/\partial z_{h1} "
                    r"+ \partial z_{h2}/\partial w_1 \partial L/\partial z_{h2}").correct


def test_the_shared_bias_needs_both_paths():
    d = example("qa_chain")
    v = check(d, r"\frac{\partial L}{\partial b} = \frac{\partial y'}{\partial b} \frac{\partial L}{\partial y'}")
    (p,) = v.problems
    assert p.kind == "missing-path" and "b → z_h → h → z_y → yp → L" in p.message and "holds h fixed" in p.message
    assert check(d, r"\frac{\partial L}{\partial b} = \frac{\partial y'}{\partial b} \frac{\partial L}{\partial y'}"
                    r" + \frac{\partial h}{\partial b}\frac{\partial y'}{\partial h}\frac{\partial L}{\partial y'}").correct


# -- property tests: equations written from derivations, and their mutations ------------------

FRACS = (r"\frac{{\partial {num}}}{{\partial {den}}}", r"\partial {num}/\partial {den}",
         r"\frac{{d{num}}}{{d{den}}}", r"\frac{{d {num}}}{{d {den}}}")
SEPS = (" ", r" \cdot ", r" \times ", r"\,", " * ")


def depends(d, a: str, b: str) -> bool:
    """Does a depend on b? (independently of derive.check: a walk over d.consumers)"""
    todo, seen = [b], set()
    while todo:
        n = todo.pop()
        for e in d.consumers(n):
            if e.dst == a:
                return True
            if e.dst not in seen:
                seen.add(e.dst)
                todo.append(e.dst)
    return False


class Writer:
    """Writes ∂L/∂θ = … the way a learner might: a notation, a separator, names as LaTeX or plain."""

    def __init__(self, d, rng: random.Random):
        self.d, self.rng = d, rng
        self.printer = LatexPrinter(dict(d.spec.latex))
        self.frac = rng.choice(FRACS)
        self.sep = rng.choice(SEPS)
        self.plain = rng.random() < 0.4 and not d.spec.latex
        names = {*d.spec.inputs, *d.spec.targets, *d.parameters, *(eq.name for eq in d.equations)}
        self.loss = rng.choice([a for a in ("L", "E") if a not in names] or [None])

    def name(self, n: str) -> str:
        if n == self.d.loss and self.loss:
            return self.loss
        return n if self.plain else self.printer.name(n)

    def item(self, it) -> str:
        if it[0] == "d":
            return self.frac.format(num=self.name(it[1]), den=self.name(it[2]))
        return it[1]

    def evaluated(self, a: str, b: str) -> tuple[str, str]:
        return ("v", r"\left(" + latex(self.d.edge(b, a).display, dict(self.d.spec.latex)) + r"\right)")

    def write(self, param: str, terms, shuffle_terms: bool = True) -> str:
        terms = [list(t) for t in terms]
        for t in terms:
            self.rng.shuffle(t)
        if shuffle_terms:
            self.rng.shuffle(terms)
        rhs = " + ".join(self.sep.join(self.item(it) for it in t) for t in terms)
        return self.frac.format(num=self.name(self.d.loss), den=self.name(param)) + " = " + rhs


def full_terms(d, param):
    return [[("d", b, a) for a, b in itertools.pairwise(p)] for p in d.paths(param)]


def correct_forms(d, param, w: Writer):
    """A few correct right sides: every local step, net sums skipped, some factors evaluated, δ form."""
    forms = [full_terms(d, param)]
    skipped = []
    for p in d.paths(param):
        kept = [p[0]]
        for i in range(1, len(p) - 1):
            eq = d.equation(p[i])
            if eq.kind == "net" and d.equation(p[i + 1]).kind == "act" and w.rng.random() < 0.7:
                continue
            kept.append(p[i])
        kept.append(p[-1])
        skipped.append([("d", b, a) for a, b in itertools.pairwise(kept)])
    forms.append(skipped)
    evaluated = [[w.evaluated(a, b) if w.rng.random() < 0.5 else ("d", b, a) for _, b, a in t]
                 for t in full_terms(d, param)]
    forms.append(evaluated)
    forms.append([[("d", e.dst, param), ("d", d.loss, e.dst)] if e.dst != d.loss else [("d", e.dst, param)]
                  for e in dict(d.gradient_terms)[param]])
    return forms


def mutants(d, param, w: Writer):
    """(what, right side, the kind that must be named, the term it must be named in or 0)."""
    rng = w.rng
    terms = full_terms(d, param)
    j = rng.randrange(len(terms))
    out = []
    if len(terms) > 1:
        out.append(("a path dropped", terms[:j] + terms[j + 1:], "missing-path", 0))
    out.append(("a path duplicated", terms + [terms[j]], "duplicate-path", 0))
    t = terms[j]
    i = rng.randrange(len(t))
    _, b, a = t[i]
    kind = "independent" if a in d.parameters else "no-dependence"
    out.append(("a factor upside down", _replace(terms, j, i, [("d", a, b)]), kind, j + 1))
    others = [eq.name for eq in d.equations if eq.name != b and not depends(d, b, eq.name)]
    if others:
        out.append(("a denominator swapped", _replace(terms, j, i, [("d", b, rng.choice(others))]),
                    "no-dependence", j + 1))
    for i, (_, b, a) in enumerate(t):
        if d.edge(b, a).kind == "source":  # the seed's mistake: the connection's weight as a node
            weight = next(wt for wt, src in d.equation(b).terms if src == a)
            out.append(("a parameter inserted", _replace(terms, j, i, [("d", weight, a), ("d", b, weight)]),
                        "independent", j + 1))
            break
    varied = [i for i, (_, b, a) in enumerate(t) if d.edge(b, a).display.free_symbols]
    if varied:
        i = rng.choice(varied)
        _, b, a = t[i]
        shown = latex(d.edge(b, a).display, dict(d.spec.latex))
        wrong = ("v", rf"\left(\left({shown}\right)\left({shown} + 3\right)\right)")
        out.append(("a wrong evaluated factor", _replace(terms, j, i, [wrong]), "wrong-value", j + 1))
    _, b, a = t[-1]
    c = rng.choice(("2", r"\frac{1}{2}"))
    shown = latex(d.edge(b, a).display, dict(d.spec.latex))
    out.append(("a wrong loss factor", _replace(terms, j, len(t) - 1, [("v", rf"\left({c} \left({shown}\right)\right)")]),
                "constant-factor", j + 1))
    return out


def _replace(terms, j, i, items):
    out = [list(t) for t in terms]
    out[j][i:i + 1] = items
    return out


def networks():
    for name in EXAMPLES:
        yield name, example(name)
    for seed in range(24):
        yield f"random_spec({seed})", derive.derive(derive.loads(random_spec(random.Random(seed), with_values=False)))


@pytest.mark.parametrize("label, d", list(networks()), ids=lambda x: x if isinstance(x, str) else "")
def test_correct_equations_are_accepted_and_every_mutation_is_caught(label, d):
    rng = random.Random(label)
    params = d.parameters if len(d.parameters) <= 4 else rng.sample(d.parameters, 4)
    for param in params:
        if len(d.paths(param)) > 16:
            continue
        for form in correct_forms(d, param, Writer(d, rng)):
            text = Writer(d, rng).write(param, form)
            v = check(d, text)
            assert v.correct, f"{label}: rejected a correct equation\n{text}\n{v}"
        for what, terms, kind, term in mutants(d, param, Writer(d, rng)):
            text = Writer(d, rng).write(param, terms, shuffle_terms=False)
            v = check(d, text)
            assert not v.correct, f"{label}: accepted {what}\n{text}"
            named = [p for p in v.problems if p.kind == kind]
            assert named, f"{label}: {what} not named as {kind}\n{text}\n{v}"
            assert any(p.term == term for p in named), f"{label}: {what} named in the wrong term\n{v}"
            if kind == "constant-factor":
                assert "factor of 2" in named[0].message


def test_an_accepted_evaluated_equation_is_the_true_gradient():
    # the evaluated form checked above, against an independent oracle: sympy.diff of the whole loss
    for name in EXAMPLES:
        d = example(name)
        values = {symbol(k): v for k, v in d.spec.values}
        values.update({symbol(k): v[0] for k, v in d.spec.data})
        for param in d.parameters[:3]:
            rng = random.Random(param)
            w = Writer(d, rng)
            terms = [[w.evaluated(a, b) for _, b, a in t] for t in full_terms(d, param)]
            assert check(d, w.write(param, terms)).correct
            rhs = sp.Add(*[sp.Mul(*[d.edge(b, a).display for a, b in itertools.pairwise(p)]) for p in d.paths(param)])
            truth = sp.diff(d.loss_expr(), symbol(param))
            assert abs(float(d.substitute(rhs).xreplace(values) - truth.xreplace(values))) < 1e-12


# -- common mistakes ---------------------------------------------------------------------------

@pytest.mark.parametrize("name", EXAMPLES)
def test_common_mistakes_are_each_wrong_and_say_why(name):
    d = example(name)
    for param in d.parameters:
        mistakes = common_mistakes(d, param)
        assert len(mistakes) >= 2
        for m in mistakes:
            assert not m.verdict.correct and m.why, (param, m.title)
            assert m.verdict == check(d, m.equation)
            assert "\n" not in m.equation
    titles = {m.title: m for m in common_mistakes(d, d.parameters[0])}
    if "a weight as a node of the chain" in titles:
        assert {"independent", "off-path"} <= kinds(titles["a weight as a node of the chain"].verdict)


def test_mazur_w1_mistakes_include_the_seed_questions_form():
    m = common_mistakes(example("mazur"), "w1")
    assert [x.title for x in m] == ["a weight as a node of the chain", "a path left out",
                                    "a factor of 2 in the loss derivative"]
    # written as the document writes the right equation (weighted sums included), so that the weight
    # inserted as a node is the only difference: ∂w5/∂h1 · ∂net_o1/∂w5 in place of ∂net_o1/∂h1
    assert {p.factor for p in m[0].verdict.problems} == {"∂w7/∂h1", "∂net_o2/∂w7", "∂w5/∂h1", "∂net_o1/∂w5"}
    assert kinds(m[1].verdict) == {"missing-path"}
    assert kinds(m[2].verdict) == {"constant-factor"} and "½ cancels" in m[2].why


# -- the command line --------------------------------------------------------------------------

def run_cli(*args, stdin: str | None = None):
    return subprocess.run([sys.executable, "-m", "derive.cli", "check", *args], cwd=ROOT, input=stdin,
                          capture_output=True, text=True, timeout=120, check=False)


def test_cli_exit_status_says_correct_or_not():
    ok = run_cli("examples/mazur.toml", ANSWER)
    assert ok.returncode == 0 and "\ncorrect: 2 terms" in ok.stdout and not ok.stderr
    bad = run_cli("examples/mazur.toml", PROPOSED)
    assert bad.returncode == 1 and "incorrect: 4 problems" in bad.stdout
    assert "∂w7/∂h1: w7 is a parameter" in bad.stdout
    assert "∂L/∂w1 = ∂h1/∂w1 · ∂o1/∂h1 · ∂L/∂o1 + ∂h1/∂w1 · ∂o2/∂h1 · ∂L/∂o2" in bad.stdout


def test_cli_reads_a_file_and_standard_input(tmp_path):
    f = tmp_path / "eq.tex"
    f.write_text("% the seed answer\n$$" + ANSWER + "$$\n", encoding="utf-8")
    assert run_cli("examples/mazur.toml", "--file", str(f)).returncode == 0
    assert run_cli("examples/mazur.toml", stdin=PROPOSED).returncode == 1


UNREADABLE = {
    r"\frac{\partial L}{\partial w_{1}}=\frac{\partial h_{1}}{\partial w_{1}": "unbalanced braces",
    r"\frac{\partial L}{\partial w_{1}} = ": "the right side is empty",
    "garbage ### !!": "unexpected character '#'",
    "": "the equation is empty",
    "h1 = w1": "the left side should be one derivative",
}


def test_cli_unreadable_equation_is_one_line_and_exit_2():
    r = run_cli("examples/mazur.toml", stdin=r"\frac{\partial L}{\partial w_{1}}=\frac{\partial h_{1}}{\partial w_{1}")
    assert r.returncode == 2 and r.stdout == ""
    assert len(r.stderr.strip().splitlines()) == 1 and "Traceback" not in r.stderr
    assert r.stderr.startswith("derive: <stdin>: cannot read the equation: unbalanced braces")


@pytest.mark.parametrize("text", UNREADABLE)
def test_main_unreadable_equation_is_one_line_and_exit_2(text, capsys):
    assert main(["check", "examples/mazur.toml", text]) == 2
    out, err = capsys.readouterr()
    assert out == "" and err.count("\n") == 1 and "Traceback" not in err
    assert err.startswith("derive: equation: cannot read the equation: " + UNREADABLE[text])


def test_main_reports_unreadable_input_on_stderr(capsys, tmp_path):
    assert main(["check", "examples/mazur.toml", r"\partial L/\partial w_1 = (\partial h_1/\partial w_1"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "unbalanced parentheses" in err and "reading stopped at character" in err
    assert main(["check", "examples/mazur.toml", "--file", str(tmp_path / "none.tex")]) == 2
    assert "none.tex: cannot read" in capsys.readouterr().err
    assert main(["check", str(tmp_path / "missing.toml"), ANSWER]) == 2
    assert "missing.toml" in capsys.readouterr().err
    assert main(["check", "examples/mazur.toml", ANSWER]) == 0
    assert capsys.readouterr().out.startswith("∂L/∂w1 = ∂h1/∂w1")


def test_check_raises_equation_error_for_python_callers():
    with pytest.raises(EquationError):
        check(example("mazur"), r"\partial L/\partial w_1 = \frac{")


FUZZ = (r"\frac", "{", "}", "(", ")", r"\partial", "d", "L", "E", "w_1", "w_{1}", "h_1", "h1", "o_1", "net_{h1}",
        "=", "+", "-", r"\cdot", r"\times", "/", "^", "_", "2", "0", "0.5", r"\sigma", r"\exp", "e", "'",
        r"\prime", r"\left(", r"\right)", " ", r"\mathit{net}", "x", "t_1", "out_{h1}", r"\,", "[", "]", r"\tanh",
        "σ", "∂", "·", "−", "$", "%", "\\\\", r"\{", "1/2", r"\sqrt{", r"\sum", "E_{total}", "w_7", "dL", "dw_1")


def test_anything_typed_gives_a_verdict_or_one_line_never_a_traceback():
    d = example("mazur")
    rng = random.Random(5)
    read = 0
    for _ in range(1500):
        text = "".join(rng.choice(FUZZ) for _ in range(rng.randint(0, 12)))
        if rng.random() < 0.6:
            text = r"\frac{\partial L}{\partial w_1} = " + text
        try:
            str(check(d, text))
            read += 1
        except EquationError as e:
            assert "\n" not in str(e) and "reading stopped at character" in str(e)
    assert read > 50  # the fuzz reaches the checker, not only the reader
    for text in (r"\partial L/\partial w_1 = " + "(" * 3000 + "x" + ")" * 3000,
                 r"\partial L/\partial w_1 = \sum_i \partial h_1/\partial w_1"):
        with pytest.raises(EquationError):
            check(d, text)
    v = check(d, r"\partial L/\partial w_1 = 9^{9^{9^{9}}} \partial h_1/\partial w_1 \partial L/\partial h_1")
    assert kinds(v) == {"extra-factor"}
