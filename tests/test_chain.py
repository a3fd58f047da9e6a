"""chain.py: every gradient against sympy.diff of the whole per-sample loss, built independently.

The reference loss is built here from the spec alone, with this file's own activation and loss
formulas, so neither graph.py nor the registry's derivative forms are trusted by the oracle.
"""

from __future__ import annotations

import random
from pathlib import Path

import pytest
import sympy as sp

import derive
from derive.core.graph import symbol
from tests.netgen import random_spec

EXAMPLES = sorted(Path(__file__).parent.parent.glob("examples/*.toml"))

# Written out independently of derive.core.ops.
REFERENCE_ACTIVATION = {
    "identity": lambda z: z,
    "sigmoid": lambda z: 1 / (1 + sp.exp(-z)),
    "tanh": sp.tanh,
    "softplus": lambda z: sp.log(1 + sp.exp(z)),
    "exp": sp.exp,
    "relu": lambda z: sp.Piecewise((z, z > 0), (0, True)),
    "leaky_relu": lambda z: sp.Piecewise((z, z > 0), (z / 100, True)),
}


def reference_loss(spec) -> sp.Expr:
    """The per-sample loss in inputs, targets and parameters, straight from the spec."""
    value = {x: symbol(x) for x in spec.inputs}
    for n in spec.neurons:
        net = sum(symbol(w) * value[s] for s, w in n.inputs) + (symbol(n.bias) if n.bias else 0)
        value[n.name] = REFERENCE_ACTIVATION[n.activation](net)
    sq = [(symbol(t) - value[o]) ** 2 for o, t in spec.loss.outputs]
    scale = {"half_sse": sp.Rational(1, 2), "sse": 1, "mse": sp.Rational(1, len(sq))}[spec.loss.kind]
    return scale * sp.Add(*sq)


def agree_at_random_points(a: sp.Expr, b: sp.Expr, names, seed=0, points=4, rel=1e-12) -> None:
    rng = random.Random(seed)
    for _ in range(points):
        at = {symbol(n): sp.Float(rng.uniform(-1.5, 1.5), 40) for n in names}
        x, y = complex(a.xreplace(at).evalf(30)), complex(b.xreplace(at).evalf(30))
        assert abs(x - y) <= rel * max(1.0, abs(x), abs(y)), (x, y)


def agree_with_central_differences(d, loss, seed=0, points=2, rel=1e-12, params=None) -> None:
    """∂loss/∂θ by central differences at 50 digits (step 1e-20: truncation error ~1e-40),
    against the derivation's own numbers (local partials times δ, evaluated edge by edge)."""
    rng = random.Random(seed)
    names = leaves(d.spec)
    h = sp.Float("1e-20", 50)
    for _ in range(points):
        at = {n: rng.uniform(-1.5, 1.5) for n in names}
        ours = derive.evaluate(d, {p: at[p] for p in d.parameters},
                               {n: at[n] for n in (*d.spec.inputs, *d.spec.targets)}).gradients
        at = {symbol(n): sp.Float(v, 50) for n, v in at.items()}
        for p in params or d.parameters:
            s = symbol(p)
            up, down = dict(at), dict(at)
            up[s], down[s] = at[s] + h, at[s] - h
            numeric = complex((loss.xreplace(up).evalf(50) - loss.xreplace(down).evalf(50)) / (2 * h))
            assert abs(ours[p] - numeric) <= rel * max(1.0, abs(numeric)), (p, ours[p], numeric)


def leaves(spec):
    return (*spec.inputs, *spec.targets, *spec.parameters)


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_every_gradient_equals_sympy_diff_of_the_whole_loss(path):
    spec = derive.load(path)
    d = derive.derive(spec)
    loss = reference_loss(spec)
    for p in d.parameters:
        agree_at_random_points(d.gradient(p), sp.diff(loss, symbol(p)), leaves(spec), seed=hash(p) % 1000)


@pytest.mark.parametrize("path", [p for p in EXAMPLES if p.stem in ("qa_chain", "softplus")], ids=lambda p: p.stem)
def test_small_examples_are_symbolically_exact(path):
    spec = derive.load(path)
    d = derive.derive(spec)
    loss = reference_loss(spec)
    for p in d.parameters:
        assert sp.simplify((d.gradient(p) - sp.diff(loss, symbol(p))).rewrite(sp.exp)) == 0, p


@pytest.mark.parametrize("seed", range(25))
def test_random_networks_agree_with_central_differences(seed):
    acts = ("identity", "sigmoid", "tanh", "softplus", "exp", "relu", "leaky_relu")
    spec = derive.loads(random_spec(random.Random(seed), activations=acts, with_values=False))
    d = derive.derive(spec)
    agree_with_central_differences(d, reference_loss(spec), seed=seed)


def test_article_dssr_dw1_is_the_articles_formula():
    # dSSR/dw1 = -2 (observed - predicted) · w3 · e^{x1}/(1 + e^{x1}) · input
    d = derive.derive(derive.load("examples/softplus.toml"))
    obs, pred, w3, x1, inp = (symbol(n) for n in ("observed", "predicted", "w3", "x1", "input"))
    article = -2 * (obs - pred) * w3 * sp.exp(x1) / (1 + sp.exp(x1)) * inp
    (product,) = d.chain("w1").products
    assert [str(f) for f in product] == ["∂x1/∂w1", "∂y1/∂x1", "∂predicted/∂y1", "∂SSR/∂predicted"]
    assert sp.simplify(d.chain("w1").value() - article) == 0
    # the same, for b1: the last factor becomes 1
    assert sp.simplify(d.chain("b1").value() - article / inp) == 0


def test_qa_two_path_gradient_of_w1():
    d = derive.derive(derive.load("examples/mazur.toml"))
    assert d.paths("w1") == (
        ("w1", "net_h1", "h1", "net_o1", "o1", "E_total"),
        ("w1", "net_h1", "h1", "net_o2", "o2", "E_total"),
    )
    # The Q&A's answer: ∂L/∂w1 = ∂h1/∂w1 ∂o2/∂h1 ∂L/∂o2 + ∂h1/∂w1 ∂o1/∂h1 ∂L/∂o1, with each
    # ∂a/∂b that skips a net node written out by hand from the classic example's formulas.
    i1, h1, o1, o2, t1, t2, w5, w7 = (symbol(n) for n in ("i1", "h1", "o1", "o2", "t1", "t2", "w5", "w7"))
    dh1_dw1 = h1 * (1 - h1) * i1
    do1_dh1, do2_dh1 = o1 * (1 - o1) * w5, o2 * (1 - o2) * w7
    dL_do1, dL_do2 = -(t1 - o1), -(t2 - o2)
    answer = dh1_dw1 * do2_dh1 * dL_do2 + dh1_dw1 * do1_dh1 * dL_do1
    assert sp.expand(d.chain("w1").value() - answer) == 0
    assert str(d.chain("w1")) == (
        "∂E_total/∂w1 = ∂net_h1/∂w1 · ∂h1/∂net_h1 · ∂net_o1/∂h1 · ∂o1/∂net_o1 · ∂E_total/∂o1"
        " + ∂net_h1/∂w1 · ∂h1/∂net_h1 · ∂net_o2/∂h1 · ∂o2/∂net_o2 · ∂E_total/∂o2")


def test_shared_bias_sums_over_each_use():
    # The seed Q&A's h = σ(x·w1 + b), y' = σ(h·w2 + b) with ONE b: two paths, two δ terms.
    d = derive.derive(derive.load("examples/qa_chain.toml"))
    assert d.paths("b") == (("b", "z_h", "h", "z_y", "yp", "L"), ("b", "z_y", "yp", "L"))
    assert d.gradient_rule("b") == sp.Symbol("δ_z_h", real=True) + sp.Symbol("δ_z_y", real=True)
    # The mockup's numbers: ∂L/∂b = -0.140509 + 0.024044 = -0.116465
    n = derive.evaluate(d)
    assert n.samples[0].deltas["z_y"] == pytest.approx(-0.140509, abs=5e-7)
    assert n.samples[0].deltas["z_h"] == pytest.approx(0.024044, abs=5e-7)
    assert n.gradients["b"] == pytest.approx(-0.116465, abs=5e-7)


def test_delta_is_the_derivative_of_the_loss_with_respect_to_the_node():
    # δ_h1 = ∂L/∂h1: cut the graph at h1 (make it a free symbol) and differentiate.
    spec = derive.load("examples/mazur.toml")
    d = derive.derive(spec)
    h1 = symbol("h1")
    cut = {eq.symbol: eq.expr for eq in d.equations if eq.name not in ("h1",)}
    loss = d.equation("E_total").expr
    for _ in range(6):
        loss = loss.xreplace(cut)
    direct = sp.diff(loss, h1)
    agree_at_random_points(d.substitute(d.delta("h1")).xreplace({}), d.substitute(direct),
                           leaves(spec) + ("h1",))


def test_gradients_are_built_from_deltas_not_paths():
    # 4-8-8-8-4 tanh: 256 paths from each first-layer weight, yet each gradient is one δ term
    # and each δ has one term per consumer: the work grows with edges, not paths.
    d = derive.derive(derive.loads(
        'name = "deep"\n[dense]\nsizes = [4, 8, 8, 8, 4]\nactivation = "tanh"\n[loss]\nkind = "mse"\n'))
    assert d.path_count("w1") == 8 * 8 * 4 == len(d.paths("w1"))
    assert len(dict(d.gradient_terms)["w1"]) == 1
    from_leaves = sum(1 for e in d.edges if e.src in d.spec.inputs or e.src in d.spec.targets)
    terms = sum(len(dl.terms) for dl in d.deltas) + sum(len(uses) for _, uses in d.gradient_terms)
    assert terms == len(d.edges) - from_leaves  # each edge used once, whatever the path count
    # and the factored gradients still agree with the whole loss, by central differences
    agree_with_central_differences(d, reference_loss(d.spec), points=1, params=("w1", "w100", "b1", "b4"))


def test_names_sympy_treats_specially_are_plain_symbols():
    text = """
name = "odd"
inputs = ["E", "I"]
[[neuron]]
name = "S"
net = "N"
activation = "tanh"
inputs = { E = "beta", I = "lambda" }
bias = "gamma"
[[neuron]]
name = "O"
net = "Q"
activation = "sigmoid"
inputs = { S = "pi", E = "zeta" }
[loss]
kind = "sse"
outputs = { O = "oo" }
name = "Lambda"
"""
    spec = derive.loads(text)
    d = derive.derive(spec)
    assert d.parameters == ("beta", "lambda", "pi", "zeta", "gamma")
    loss = reference_loss(spec)
    for p in d.parameters:
        g = d.gradient(p)
        assert all(isinstance(s, sp.Symbol) for s in g.free_symbols)
        assert {s.name for s in g.free_symbols} <= set(leaves(spec))
        assert not g.has(sp.E, sp.I, sp.S.Pi, sp.oo)  # E is not e, I is not i, pi is not π
        agree_at_random_points(g, sp.diff(loss, symbol(p)), leaves(spec))


def test_unknown_parameter_is_a_clear_key_error():
    d = derive.derive(derive.load("examples/qa_chain.toml"))
    with pytest.raises(KeyError, match="not a parameter"):
        d.paths("h")
