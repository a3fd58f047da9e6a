"""Classifiers in the scalar form: softmax with cross-entropy, sigmoid with binary cross-entropy.

Every gradient against independent references: PyTorch autograd in float64 (log_softmax and
binary_cross_entropy_with_logits, its own stable forms), sympy.diff of the fully substituted
loss, and derive's exact evaluation; the scalar and the matrix code against each other; and
finite, warning-free numbers at logits of ±1000.
"""

from __future__ import annotations

import itertools
import random
import warnings

import numpy as np
import pytest
import sympy as sp

import derive
from derive.codegen import load_module, module_source
from derive.core.graph import symbol

torch = pytest.importorskip("torch")
torch.set_default_dtype(torch.float64)

HIDDEN = {"tanh": torch.tanh, "sigmoid": torch.sigmoid, "relu": torch.relu, "identity": lambda z: z,
          "softplus": torch.nn.functional.softplus, "leaky_relu": lambda z: torch.nn.functional.leaky_relu(z, 0.01),
          "exp": torch.exp}


def dense(sizes, hidden="tanh", bias="per_neuron", loss="cross_entropy") -> str:
    out = "softmax" if loss == "cross_entropy" else "sigmoid"
    acts = ", ".join([f'"{hidden}"'] * (len(sizes) - 2) + [f'"{out}"'])
    return (f'name = "cls"\n[dense]\nsizes = {list(sizes)}\nactivation = [{acts}]\n'
            f'bias = "{bias}"\n[loss]\nkind = "{loss}"\n')


def batch(d, rng, n, kind):
    k = len(d.spec.targets)
    targets = np.eye(k)[rng.integers(0, k, n)] if kind == "cross_entropy" else rng.integers(0, 2, (n, k)) * 1.0
    data = {x: rng.normal(size=n) for x in d.spec.inputs}
    data |= {t: targets[:, j] for j, t in enumerate(d.spec.targets)}
    return data


def torch_loss(d, params, data, kind):
    """The network written directly in PyTorch from the spec's neurons."""
    tp = {p: torch.tensor(v, requires_grad=True) for p, v in params.items()}
    vals = {x: torch.tensor(np.asarray(data[x], dtype=float)) for x in d.spec.inputs}
    nets = {}
    for n in d.spec.neurons:
        z = sum(tp[w] * vals[s] for s, w in n.inputs) + (tp[n.bias] if n.bias else 0)
        nets[n.name] = z
        if n.activation in HIDDEN:
            vals[n.name] = HIDDEN[n.activation](z)
    z = torch.stack([nets[o] for o, _ in d.spec.loss.outputs], dim=1)
    t = torch.stack([torch.tensor(np.asarray(data[t], dtype=float)) for _, t in d.spec.loss.outputs], dim=1)
    if kind == "cross_entropy":
        loss = -(t * torch.log_softmax(z, dim=1)).sum()
    else:
        loss = torch.nn.functional.binary_cross_entropy_with_logits(z, t, reduction="sum")
    loss.backward()
    return loss.item(), {p: v.grad.item() for p, v in tp.items()}


def close(a, b, rel=1e-9):
    return abs(a - b) <= rel * max(abs(a), abs(b)) + 1e-12


CASES = [((2, 3, 3), hidden, bias, loss) for hidden in HIDDEN for bias in ("per_neuron", "per_layer", "none")
         for loss in ("cross_entropy", "binary_cross_entropy")]


@pytest.mark.parametrize("sizes, hidden, bias, loss", CASES[::3] + [((3, 9, 4), "tanh", "per_layer", "cross_entropy"),
                                                                  ((3, 9, 4), "relu", "none", "binary_cross_entropy"),
                                                                  ((2, 8, 8, 10), "sigmoid", "per_neuron", "cross_entropy")])
def test_generated_module_equals_pytorch(sizes, hidden, bias, loss):
    d = derive.derive(derive.loads(dense(sizes, hidden, bias, loss)))
    m = load_module(d)
    rng = np.random.default_rng(sum(sizes) + len(hidden))
    params = {p: rng.uniform(-0.8, 0.8) for p in d.parameters}
    data = batch(d, rng, 11, loss)
    value, grads = torch_loss(d, params, data, loss)
    assert close(m.loss(params, data), value)
    ours = m.gradients(params, data)
    for p in d.parameters:
        assert close(ours[p], grads[p]), (p, ours[p], grads[p])


@pytest.mark.parametrize("loss", ["cross_entropy", "binary_cross_entropy"])
@pytest.mark.parametrize("sizes", [(2, 3, 3), (3, 9, 4)])  # scalar code, then matrix code
def test_logits_of_a_thousand_are_finite_and_right(sizes, loss):
    d = derive.derive(derive.loads(dense(sizes, "identity", "per_neuron", loss)))
    m = load_module(d)
    rng = np.random.default_rng(7)
    params = {p: rng.choice([-1.0, 1.0]) * 300.0 for p in d.parameters}  # nets of about ±1000
    data = batch(d, rng, 6, loss)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        value, ours = m.loss(params, data), m.gradients(params, data)
    assert np.isfinite(value) and all(np.isfinite(v) for v in ours.values())
    ref_value, ref = torch_loss(d, params, data, loss)
    assert close(value, ref_value, 1e-12)
    for p in d.parameters:
        assert close(ours[p], ref[p], 1e-9), p


@pytest.mark.parametrize("loss", ["cross_entropy", "binary_cross_entropy"])
def test_matrix_code_equals_scalar_code(loss, monkeypatch):
    from derive.codegen import matrix

    d = derive.derive(derive.loads(dense((3, 9, 4), "tanh", "per_neuron", loss)))
    assert "W_1 = np.array(" in module_source(d)
    wide = load_module(d)
    monkeypatch.setattr(matrix, "MIN_WIDTH", 10**9)
    assert "W_1" not in module_source(d)
    narrow = load_module(d)
    rng = np.random.default_rng(3)
    params = {p: rng.uniform(-1, 1) for p in d.parameters}
    data = batch(d, rng, 5, loss)
    a, b = wide.gradients(params, data), narrow.gradients(params, data)
    assert all(close(a[p], b[p], 1e-11) for p in d.parameters)


@pytest.mark.parametrize("loss", ["cross_entropy", "binary_cross_entropy"])
def test_every_gradient_equals_sympy_diff_of_the_whole_loss(loss):
    d = derive.derive(derive.loads(dense((2, 2, 3), "tanh", "per_layer", loss)))
    whole = d.loss_expr()
    rng = random.Random(1)
    for p in d.parameters:
        truth = sp.diff(whole, symbol(p))
        for _ in range(2):
            at = {symbol(n): sp.Float(rng.uniform(-1, 1)) for n in (*d.spec.inputs, *d.parameters)}
            at |= {symbol(t): sp.Float(rng.uniform(0.1, 0.9)) for t in d.spec.targets}
            assert abs(float(d.gradient(p).xreplace(at) - truth.xreplace(at))) < 1e-10, p


def test_exact_evaluation_equals_the_module():
    d = derive.derive(derive.loads(dense((2, 3, 3), "sigmoid", "per_neuron", "cross_entropy")))
    rng = np.random.default_rng(0)
    params = {p: rng.uniform(-1, 1) for p in d.parameters}
    data = batch(d, rng, 3, "cross_entropy")
    n = derive.evaluate(d, params, {k: list(v) for k, v in data.items()})
    ours = load_module(d).gradients(params, data)
    assert all(close(n.gradients[p], ours[p], 1e-12) for p in d.parameters)


def test_the_softmax_derivation_is_in_the_open():
    d = derive.derive(derive.loads(dense((2, 2, 3), "tanh", "per_layer", "cross_entropy")))
    o1, o2, t1 = symbol("o1"), symbol("o2"), symbol("t1")
    assert d.edge("o1", "z_o1").display == o1 * (1 - o1) and d.edge("o2", "z_o1").display == -o1 * o2
    assert d.edge("L", "o1").display == -t1 / o1
    # δ of a net sums over every output of the softmax, and comes to y − t for one-hot targets
    delta = d.delta("z_o1")
    one_hot = {symbol("t1"): 0, symbol("t2"): 1, symbol("t3"): 0}
    assert sp.simplify(delta.xreplace(one_hot) - o1) == 0
    shown = derive.pretty(d, ["w5"])
    assert "w5 → z_o1 → o2 → L" in shown and "3 paths from w5 to L" in shown


def test_a_group_of_neurons_is_one_softmax():
    spec = derive.loads('''name = "g"
inputs = ["x"]
[[neuron]]
name = "a"
activation = "softmax"
inputs = { x = "wa" }
[[neuron]]
name = "b"
activation = "softmax"
inputs = { x = "wb" }
[loss]
kind = "cross_entropy"
outputs = { a = "ta", b = "tb" }
''')
    d = derive.derive(spec)
    assert d.equation("a").args == ("z_a", "z_b") and d.path_count("wa") == 2
    m = load_module(d)
    g = m.gradients({"wa": 0.3, "wb": -0.2}, {"x": [1.0, 2.0], "ta": [1.0, 0.0], "tb": [0.0, 1.0]})
    x, za, zb = np.array([1.0, 2.0]), 0.3 * np.array([1.0, 2.0]), -0.2 * np.array([1.0, 2.0])
    pa = np.exp(za) / (np.exp(za) + np.exp(zb))
    assert close(g["wa"], float(x @ (pa - np.array([1.0, 0.0])))), g


@pytest.mark.parametrize("text, says", [
    (dense((2, 3, 3), loss="cross_entropy").replace('"softmax"', '"sigmoid"'), "cross_entropy needs softmax outputs"),
    (dense((2, 3, 3), loss="binary_cross_entropy").replace('"sigmoid"]', '"tanh"]'), "needs sigmoid outputs"),
    ('name = "c"\n[dense]\nsizes = [2, 3, 2]\nactivation = ["softmax", "softmax"]\n[loss]\nkind = "sse"\n',
     "softmax is for the last layer only"),
    ('name = "c"\ninputs = ["x"]\n' + "".join(f'[[neuron]]\nname = "h{k}"\nactivation = "softmax"\ninputs = {{ x = "w{k}" }}\n'
                                          for k in (1, 2))
     + '[[neuron]]\nname = "o"\nactivation = "sigmoid"\ninputs = { h1 = "w3", h2 = "w4" }\n'
       '[loss]\nkind = "sse"\noutputs = { o = "t" }\n', "'h1' is a softmax neuron that is not an output"),
    ('name = "c"\ninputs = ["x"]\n' + "".join(f'[[neuron]]\nname = "o{k}"\nactivation = "softmax"\ninputs = {{ x = "w{k}" }}\n'
                                          for k in (1, 2))
     + '[[neuron]]\nname = "o3"\nactivation = "identity"\ninputs = { o1 = "w3" }\n'
       '[loss]\nkind = "sse"\noutputs = { o1 = "t1", o2 = "t2", o3 = "t3" }\n',
     "neuron[2] (o3).inputs.o1: 'o1' is a softmax output: it feeds only the loss"),  # was a DerivationError
    ('name = "c"\n[dense]\nsizes = [2, 3, 1]\nactivation = ["tanh", "softmax"]\n[loss]\nkind = "cross_entropy"\n',
     "is the only softmax neuron"),
])
def test_a_loss_or_softmax_that_does_not_fit_is_one_line(text, says):
    with pytest.raises(derive.SpecError) as e:
        derive.loads(text)
    assert len(e.value.problems) == 1 and says in str(e.value)


def test_classifier_documents_render():
    from derive.explain.document import build
    from derive.explain.render import render
    for loss in ("cross_entropy", "binary_cross_entropy"):
        d = derive.derive(derive.loads(dense((2, 2, 2), "tanh", "per_layer", loss)))
        tex = render("tex", build(d))
        assert r"\log" in tex and "paths" in tex
        assert all(s in tex for s in itertools.islice(("o_{1}", "t_{1}"), 2))


# -- L2: (λ/2)·Σ w² over the weights, once per data set ------------------------------------------

@pytest.mark.parametrize("sizes, loss", [((2, 3, 3), "cross_entropy"), ((3, 9, 4), "binary_cross_entropy"),
                                         ((2, 9, 3), "cross_entropy")])
@pytest.mark.parametrize("bias", ["per_neuron", "none"])
def test_l2_equals_pytorch_and_leaves_the_biases_alone(sizes, loss, bias):
    lam = 0.05
    d = derive.derive(derive.loads(dense(sizes, "tanh", bias, loss).replace(f'kind = "{loss}"',
                                                                              f'kind = "{loss}"\nl2 = {lam}')))
    m = load_module(d)
    rng = np.random.default_rng(11)
    params = {p: rng.uniform(-1, 1) for p in d.parameters}
    data = batch(d, rng, 8, loss)
    value, grads = torch_loss(d, params, data, loss)
    weights = set(d.spec.penalized)
    assert weights and not weights & {n.bias for n in d.spec.neurons}
    value += lam / 2 * sum(params[w] ** 2 for w in weights)
    grads = {p: g + (lam * params[p] if p in weights else 0.0) for p, g in grads.items()}
    assert close(m.loss(params, data), value)
    ours = m.gradients(params, data)
    exact = derive.evaluate(d, params, {k: list(v) for k, v in data.items()})
    for p in d.parameters:
        assert close(ours[p], grads[p]) and close(exact.gradients[p], grads[p]), p
    assert close(exact.loss, value)


def test_l2_with_a_squared_error_and_the_mean_over_samples():
    text = 'name = "r"\n[dense]\nsizes = [2, 3, 1]\nactivation = "tanh"\n[loss]\nkind = "mse"\nl2 = 0.2\n'
    d = derive.derive(derive.loads(text))
    rng = np.random.default_rng(2)
    params = {p: rng.uniform(-1, 1) for p in d.parameters}
    data = {"i1": rng.normal(size=6), "i2": rng.normal(size=6), "t1": rng.normal(size=6)}
    tp = {p: torch.tensor(v, requires_grad=True) for p, v in params.items()}
    x = torch.stack([torch.tensor(data["i1"]), torch.tensor(data["i2"])], dim=1)
    hidden = [n for n in d.spec.neurons if n.name != "o1"]
    h = torch.stack([torch.tanh(sum(tp[w] * x[:, int(s[1]) - 1] for s, w in n.inputs) + tp[n.bias])
                     for n in hidden], dim=1)
    o = d.spec.neuron("o1")
    y = torch.tanh(sum(tp[w] * h[:, [n.name for n in hidden].index(s)] for s, w in o.inputs) + tp[o.bias])
    loss = ((torch.tensor(data["t1"]) - y) ** 2).mean() + 0.1 * sum(tp[w] ** 2 for w in d.spec.penalized)
    loss.backward()
    ours = load_module(d).gradients(params, data)
    assert all(close(ours[p], tp[p].grad.item()) for p in d.parameters)


def test_l2_must_not_be_negative():
    with pytest.raises(derive.SpecError, match="loss.l2: must be 0 or more"):
        derive.loads('name = "r"\n[dense]\nsizes = [2, 1]\n[loss]\nkind = "sse"\nl2 = -1\n')


def test_the_diagram_draws_each_softmax_net_joined_to_every_output():
    from derive.explain.diagram import highlight, layout
    d = derive.derive(derive.loads(dense((2, 2, 3), "tanh", "per_layer")))
    diagram = layout(d)
    keys = {e.key for e in diagram.edges}
    assert {(f"z_o{k}", f"o{j}") for k in (1, 2, 3) for j in (1, 2, 3)} <= keys
    assert ("h1", "z_o1") in keys and ("b2", "z_o1") in keys  # weights and biases reach the nets
    lit = highlight(diagram, d, "w5")  # w5 → z_o1 → o_j → L for j = 1, 2, 3: one colour each
    colours = {e.key: {s.color for s in e.strokes} for e in lit.edges if e.strokes}
    assert set(colours) == {("h1", "z_o1"), ("z_o1", "o1"), ("z_o1", "o2"), ("z_o1", "o3"),
                            ("o1", "L"), ("o2", "L"), ("o3", "L")}
    assert len(colours[("h1", "z_o1")]) == 3 and all(len(colours[(f"o{j}", "L")]) == 1 for j in (1, 2, 3))


@pytest.mark.parametrize("sizes, acts, says", [
    ([2, 3, 2], '["softmax", "softmax"]', "dense.activation: softmax is for the last layer only"),
    ([2, 3, 1], '["tanh", "softmax"]', "dense.sizes: 'o1' is the only softmax neuron"),
])
def test_a_dense_softmax_in_the_wrong_place_gets_dense_advice(sizes, acts, says):
    text = f'name = "h"\n[dense]\nsizes = {sizes}\nactivation = {acts}\n[loss]\nkind = "cross_entropy"\n'
    with pytest.raises(derive.SpecError) as e:
        derive.loads(text)
    assert says in str(e.value) and "loss.outputs" not in str(e.value)
