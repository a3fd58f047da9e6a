"""The layer IR (derive/core/layers.py, the kinds of derive/core/kinds.py): `[[layer]]` specs, the layer
form of any layered network (the seed's 2-2-2 included), its module and document, and the rule that
no module outside the registries tests an op's or a layer kind's name.

References: the per-weight derivation and module (themselves checked against sympy.diff, central
differences and PyTorch elsewhere), central finite differences, Mazur's published numbers, and
PyTorch autograd in float64 with torch.nn.Linear's own weight layout.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import derive
from derive.codegen import load_module, module_source
from derive.codegen.arrays import layers_source
from derive.core.kinds import LAYER_KINDS
from derive.core.layers import NotLayered, layering
from derive.core.ops import ACTIVATIONS, GROUPS, LOSSES, WEIGHTED_SUM
from derive.explain.document import build
from derive.explain.layers import build_layers
from derive.explain.render import render

ROOT = Path(__file__).resolve().parent.parent

LAYERED = '''name = "mlp"
input = [4]
[[layer]]
kind = "dense"
size = 8
activation = "relu"
bias = "per_neuron"
[[layer]]
kind = "dense"
size = 3
activation = "softmax"
[loss]
kind = "cross_entropy"
'''

DENSE = '''name = "mlp"
[dense]
sizes = [4, 8, 3]
activation = ["relu", "softmax"]
bias = "per_neuron"
[loss]
kind = "cross_entropy"
'''


def layers_module(spec):
    ns: dict = {}
    exec(compile(layers_source(spec), f"{spec.name}_gradients.py", "exec"), ns)
    return ns


# -- [[layer]] specs ---------------------------------------------------------------------------


def test_a_layer_spec_and_its_dense_shorthand_give_the_same_derivation_and_modules():
    a, b = derive.loads(LAYERED, "a.toml"), derive.loads(DENSE, "a.toml")
    da, db = derive.derive(a), derive.derive(b)
    assert da.parameters == db.parameters and da.equations == db.equations and da.deltas == db.deltas
    assert module_source(da) == module_source(db)
    assert layers_source(a) == layers_source(b)
    lf = layering(a)
    assert lf.parameters == ("W1", "b1", "W2", "b2")
    assert lf.shapes() == {"W1": (8, 4), "b1": (8,), "W2": (3, 8), "b2": (3,)}  # (n_out, n_in), as nn.Linear


def test_a_layer_spec_defaults_to_identity_and_a_bias_per_neuron():
    spec = derive.loads('name = "lin"\ninput = [2]\n[[layer]]\nkind = "dense"\nsize = 1\n[loss]\nkind = "mse"\n')
    (layer,) = layering(spec).layers
    assert layer.activation.name == "identity" and layer.biases == ("b1",) and layer.bias_shape == (1,)
    assert [n.name for n in spec.neurons] == ["o1"] and spec.neurons[0].net == "o1"  # its own sum, as in [dense]


def test_mixed_bias_modes_number_the_biases_in_order():
    text = LAYERED.replace('bias = "per_neuron"', 'bias = "per_layer"')
    lf = layering(derive.loads(text))
    assert lf.layers[0].biases == ("b1",) and lf.layers[1].biases == ("b2", "b3", "b4")
    assert lf.shapes()["b1"] == () and lf.shapes()["b2"] == (3,)


@pytest.mark.parametrize("change, message", [
    (('size = 3\n', 'size = 0\n'), "layer[2].size: expected a positive number of neurons, got 0"),
    (('kind = "dense"\nsize = 8', 'kind = "conv9"\nsize = 8'), "layer[1].kind: unknown layer kind 'conv9'; one of dense"),
    (('activation = "relu"', 'activation = "swish"'), "layer[1].activation: unknown activation 'swish'"),
    (('bias = "per_neuron"', 'bias = "shared"'), "layer[1].bias: expected per_neuron, per_layer, none; got 'shared'"),
    (('size = 8\n', 'size = 8\nsizes = [1]\n'), "layer[1].sizes: unknown key"),
    (('input = [4]\n', ''), "input: expected one sample's shape"),
    (('input = [4]\n', 'input = [2, 2]\n'), "layer[1].kind: a dense layer takes a vector"),
    (('activation = "relu"', 'activation = "softmax"'), "layer[1].activation: softmax is for the last layer only"),
    (('size = 3\n', 'size = 1\n'), "layer[2].size: 'o1' is the only softmax neuron"),
])
def test_layer_spec_mistakes_name_the_table(change, message):
    with pytest.raises(derive.SpecError) as e:
        derive.loads(LAYERED.replace(*change), "net.toml")
    assert any(line.startswith("net.toml: " + message) for line in e.value.lines()), e.value.lines()


def test_a_bad_layer_does_not_hide_a_bad_loss_kind():
    with pytest.raises(derive.SpecError) as e:
        derive.loads(LAYERED.replace("size = 3\n", "size = -1\n").replace("cross_entropy", "cross"), "net.toml")
    assert [line.split(":")[1].strip() for line in e.value.lines()] == ["layer[2].size", "loss.kind"]


def test_layer_tables_and_neuron_tables_do_not_mix():
    with pytest.raises(derive.SpecError, match="layer: use either input and"):
        derive.loads('inputs = ["x"]\n' + LAYERED)


def test_a_layer_spec_error_is_one_line_and_exit_2(tmp_path):
    path = tmp_path / "net.toml"
    path.write_text(LAYERED.replace("size = 3\n", "size = 2.5\n"))
    r = subprocess.run([sys.executable, "-m", "derive.cli", "show", str(path)], capture_output=True, text=True,
                       check=False)
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert r.stderr.strip().splitlines() == [f"derive: {path}: layer[2].size: expected a positive number of "
                                             "neurons, got 2.5"]


# -- the layer form of any layered network ------------------------------------------------------


def test_the_seeds_2_2_2_has_a_layer_form_in_its_own_names():
    spec = derive.load(ROOT / "examples" / "mazur.toml")
    lf = layering(spec)
    assert lf.names() == {"W1": [["w1", "w2"], ["w3", "w4"]], "b1": "b1", "W2": [["w5", "w6"], ["w7", "w8"]], "b2": "b2"}
    assert [x.bias for x in lf.layers] == ["per_layer", "per_layer"]
    lf.validate(derive.derive(spec))


def test_the_seeds_layer_module_gives_mazurs_numbers_and_the_per_weight_modules_gradients():
    spec = derive.load(ROOT / "examples" / "mazur.toml")
    m, scalar = layers_module(spec), load_module(derive.derive(spec))
    lf = layering(spec)
    g = m["gradients"](m["INITIAL"], m["DATA"])
    assert round(float(m["loss"](m["INITIAL"], m["DATA"])), 9) == 0.298371109
    assert round(float(g["W2"][0, 0]), 9) == 0.082167041 and round(float(g["W1"][0, 0]), 9) == 0.000438568
    want = scalar.gradients(scalar.INITIAL, scalar.DATA)
    got = lf.scalars({k: np.asarray(v).tolist() for k, v in g.items()})
    assert got.keys() == want.keys()
    assert all(abs(got[k] - want[k]) <= 1e-12 * max(1.0, abs(want[k])) for k in want)


def test_layer_module_of_a_neuron_spec_matches_central_differences():
    spec = derive.load(ROOT / "examples" / "softplus.toml")
    m = layers_module(spec)
    p = {k: np.array(v, dtype=float) for k, v in m["INITIAL"].items()}
    g = m["gradients"](p, m["DATA"])
    for k in p:
        flat = p[k].reshape(-1)
        for i in range(flat.size):
            up, down = {q: v.copy() for q, v in p.items()}, {q: v.copy() for q, v in p.items()}
            up[k].reshape(-1)[i] += 1e-6
            down[k].reshape(-1)[i] -= 1e-6
            fd = (float(m["loss"](up, m["DATA"])) - float(m["loss"](down, m["DATA"]))) / 2e-6
            assert abs(np.asarray(g[k]).reshape(-1)[i] - fd) <= 1e-5 * max(1.0, abs(fd)), (k, i)


@pytest.mark.parametrize("example, neuron", [
    ("qa_chain", "h shares its bias b with yp"),
    ("skip", "o1 takes x1 (layer 0) and c4 (layer 2): a skip connection"),
])
def test_a_network_that_is_not_layered_says_which_neuron_breaks_it(example, neuron):
    with pytest.raises(NotLayered, match=neuron.replace("(", r"\(").replace(")", r"\)")):
        layering(derive.load(ROOT / "examples" / f"{example}.toml"))
    r = subprocess.run([sys.executable, "-m", "derive.cli", "codegen", str(ROOT / "examples" / f"{example}.toml"),
                        "--form", "layers", "-o", "unused"], capture_output=True, text=True, check=False)
    assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1 and neuron in r.stderr
    assert not Path("unused").exists()


def test_a_shared_weight_or_a_missing_connection_breaks_the_layering():
    base = {"name": "n", "inputs": ["x1", "x2"], "loss": {"kind": "sse", "outputs": {"o1": "t1", "o2": "t2"}}}
    shared = dict(base, neuron=[{"name": "o1", "activation": "tanh", "inputs": {"x1": "a", "x2": "c"}},
                                {"name": "o2", "activation": "tanh", "inputs": {"x1": "a", "x2": "d"}}])
    with pytest.raises(NotLayered, match="o1's weight a is shared"):
        layering(derive.from_dict(shared))
    sparse = dict(base, neuron=[{"name": "o1", "activation": "tanh", "inputs": {"x1": "a", "x2": "c"}},
                                {"name": "o2", "activation": "tanh", "inputs": {"x2": "d"}}])
    with pytest.raises(NotLayered, match="o2 does not take x1"):
        layering(derive.from_dict(sparse))


def test_show_form_layers_adds_the_l2_penalty():
    spec = derive.loads(DENSE.replace('kind = "cross_entropy"', 'kind = "cross_entropy"\nl2 = 0.01'))
    text = layering(spec).pretty()
    assert "∂L/∂W2 = Σ_n δ2 a1ᵀ + λ W2" in text and "∂L/∂W1 = Σ_n δ1 a0ᵀ + λ W1" in text


# -- the layer document -------------------------------------------------------------------------


def test_the_layer_documents_numbers_are_the_per_weight_documents():
    spec = derive.load(ROOT / "examples" / "mazur.toml")
    doc = build_layers(spec)
    ex = doc.example
    assert ex is not None and "0.35891648" in "".join(r.rhs for r in ex.updates)  # Mazur's w5 after one step
    per_weight = render("tex", build(derive.derive(spec)))
    import re
    numbers = re.findall(r"-?\d+\.\d+", "".join(r.rhs for r in (*ex.forward, *ex.deltas, *ex.gradients, *ex.updates)))
    assert len(numbers) >= 20
    missing = [x for x in numbers if x not in per_weight]
    assert not missing, missing
    names = "".join(r.rhs for r in doc.names)
    assert r"\begin{bmatrix} w_{1} & w_{2} \\ w_{3} & w_{4} \end{bmatrix}" in names  # W1 in the spec's names
    assert len(doc.bridge.written) >= 1 and doc.bridge.paths == 2


def test_the_layer_document_of_a_wide_network_has_no_matrices_of_numbers():
    spec = derive.loads('name = "c"\n[dense]\nsizes = [784, 128, 10]\nactivation = ["sigmoid", "softmax"]\n'
                        '[loss]\nkind = "cross_entropy"\n')
    doc = build_layers(spec)
    assert doc.example is None and doc.names == () and doc.bridge.written == () and doc.bridge.paths == 100
    tex = render("tex", doc)
    assert r"\operatorname{sigmoid}" not in tex and r"\sigma\left(z^{(1)}\right)" in tex


@pytest.mark.skipif(not (__import__("shutil").which("pdflatex")), reason="needs pdflatex")
def test_build_form_layers_writes_the_layer_pdf_md_html_and_module(tmp_path):
    r = subprocess.run([sys.executable, "-m", "derive.cli", "build", str(ROOT / "examples" / "mazur.toml"),
                        "--form", "layers", "-o", str(tmp_path)], capture_output=True, text=True, check=False)
    assert r.returncode == 0, r.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mazur.html", "mazur.md", "mazur.pdf", "mazur.tex",
                                                          "mazur_gradients.py"]
    text = subprocess.run(["pdftotext", str(tmp_path / "mazur.pdf"), "-"], capture_output=True, text=True,
                          check=True).stdout
    assert "0.298371109" in text and "0.35891648" in text and "??" not in text
    assert 'PARAMETERS = ("W1", "b1", "W2", "b2")' in (tmp_path / "mazur_gradients.py").read_text()


# -- PyTorch, with nn.Linear's own layout ------------------------------------------------------


def test_a_layer_spec_module_equals_pytorch_autograd_with_linear_layers():
    torch = pytest.importorskip("torch")
    spec = derive.loads(LAYERED)
    m = layers_module(spec)
    rng = np.random.default_rng(3)
    X = rng.normal(size=(7, 4))
    T = np.eye(3)[rng.integers(0, 3, 7)]
    l1, l2 = torch.nn.Linear(4, 8).double(), torch.nn.Linear(8, 3).double()
    params = {"W1": l1.weight.detach().numpy().copy(), "b1": l1.bias.detach().numpy().copy(),
              "W2": l2.weight.detach().numpy().copy(), "b2": l2.bias.detach().numpy().copy()}
    out = l2(torch.relu(l1(torch.tensor(X))))
    loss = -(torch.tensor(T) * torch.log_softmax(out, dim=1)).sum()
    loss.backward()
    g = m["gradients"](params, {"X": X, "T": T})
    assert abs(float(m["loss"](params, {"X": X, "T": T})) - loss.item()) <= 1e-12 * abs(loss.item())
    for key, p in (("W1", l1.weight), ("b1", l1.bias), ("W2", l2.weight), ("b2", l2.bias)):
        assert np.allclose(g[key], p.grad.numpy(), rtol=1e-10, atol=1e-12), key


# -- nothing outside the registries tests an op's or a layer kind's name --------------------------

REGISTRIES = {"derive/core/ops.py", "derive/core/kinds.py"}
NAMES = set(ACTIVATIONS) | set(GROUPS) | set(LOSSES) | {WEIGHTED_SUM.name} | set(LAYER_KINDS)


def _strings(node):
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        yield node.value
    elif isinstance(node, (ast.Tuple, ast.List, ast.Set)):
        for e in node.elts:
            yield from _strings(e)


def literal_name_tests(source: str) -> list[tuple[int, str]]:
    """(line, name) of every comparison of something with an op's or layer kind's name: `x == "relu"`,
    `act in ("relu", "tanh")`.  (`"dense" in doc`, a TOML key looked up, compares no name.)"""
    found = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Compare):
            continue
        left = node.left
        for op, right in zip(node.ops, node.comparators):
            sides = [right] + ([left] if isinstance(op, (ast.Eq, ast.NotEq, ast.Is, ast.IsNot)) else [])
            found += [(node.lineno, v) for side in sides for v in _strings(side) if v in NAMES]
            left = right
    return found


def test_no_module_outside_the_registries_compares_an_op_or_layer_kind_name():
    hits = {}
    for path in sorted((ROOT / "derive").rglob("*.py")):
        rel = path.relative_to(ROOT).as_posix()
        if rel not in REGISTRIES and (found := literal_name_tests(path.read_text())):
            hits[rel] = found
    assert not hits, hits


def test_the_literal_name_test_finds_what_it_looks_for():
    assert literal_name_tests('if f.name == "softmax":\n    pass\n') == [(1, "softmax")]
    assert literal_name_tests('ok = act in ("relu", "tanh")\n') == [(1, "relu"), (1, "tanh")]
    assert literal_name_tests('ok = "dense" != kind\n') == [(1, "dense")]
    assert literal_name_tests('ok = "dense" in doc\n') == []
