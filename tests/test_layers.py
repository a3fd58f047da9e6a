"""The layer (matrix) form: the module with array parameters, against PyTorch autograd in float64,
against the per-weight module entry by entry, and the layer derivation against the per-weight
derivation; finite at large logits; a module of a few hundred lines for 784-128-10."""

from __future__ import annotations

import inspect
import itertools
import warnings

import numpy as np
import pytest

import derive
from derive.cli import main
from derive.codegen import load_layers_module, load_module
from derive.codegen.arrays import layers_source
from derive.core.layers import layer_form

torch = pytest.importorskip("torch")
torch.set_default_dtype(torch.float64)

TORCH = {"identity": lambda z: z, "sigmoid": torch.sigmoid, "tanh": torch.tanh,
         "softplus": torch.nn.functional.softplus, "relu": torch.relu,
         "leaky_relu": lambda z: torch.nn.functional.leaky_relu(z, 0.01), "exp": torch.exp,
         "softmax": lambda z: torch.softmax(z, dim=1)}
OUTPUT = {"cross_entropy": "softmax", "binary_cross_entropy": "sigmoid"}


def spec_text(sizes, hidden, out, loss, bias, l2=0.0):
    acts = ", ".join([f'"{hidden}"'] * (len(sizes) - 2) + [f'"{out}"'])
    return (f'name = "net"\n[dense]\nsizes = {list(sizes)}\nactivation = [{acts}]\nbias = "{bias}"\n'
            f'[loss]\nkind = "{loss}"\n' + (f"l2 = {l2}\n" if l2 else ""))


def torch_reference(lf, arrays, X, T):
    """The network from its layer form, written directly in PyTorch (its own softmax, logs, BCE)."""
    p = {k: torch.tensor(v, requires_grad=True) for k, v in arrays.items()}
    a = torch.tensor(X)
    z = a
    for layer in lf.layers:
        z = a @ p[f"W{layer.index}"].T + (p[f"b{layer.index}"] if layer.biases else 0)
        a = TORCH[layer.activation.name](z)
    t = torch.tensor(T)
    kind = lf.spec.loss.kind
    if kind == "cross_entropy":
        loss = -(t * torch.log_softmax(z, dim=1)).sum()
    elif kind == "binary_cross_entropy":
        loss = torch.nn.functional.binary_cross_entropy_with_logits(z, t, reduction="sum")
    elif kind == "half_sse":
        loss = 0.5 * ((t - a) ** 2).sum()
    elif kind == "sse":
        loss = ((t - a) ** 2).sum()
    else:
        loss = ((t - a) ** 2).mean()
    if lf.spec.loss.l2:
        loss = loss + lf.spec.loss.l2 / 2 * sum((p[f"W{x.index}"] ** 2).sum() for x in lf.layers)
    loss.backward()
    return loss.item(), {k: v.grad.numpy() for k, v in p.items()}


def problem(lf, rng, n, scale=0.7):
    arrays = {k: rng.uniform(-scale, scale, size=s) for k, s in lf.shapes().items()}
    X = rng.normal(size=(n, len(lf.spec.inputs)))
    k = len(lf.spec.targets)
    T = np.eye(k)[rng.integers(0, k, n)] if lf.spec.loss.kind == "cross_entropy" else \
        rng.integers(0, 2, (n, k)) * 1.0 if lf.spec.loss.kind == "binary_cross_entropy" else rng.normal(size=(n, k))
    return arrays, X, T


def assert_close(ours, ref, rel=1e-9):
    assert np.allclose(ours, ref, rtol=rel, atol=1e-12), np.max(np.abs(np.asarray(ours) - ref))


SQUARED = ["half_sse", "sse", "mse"]
CASES = [(sizes, hidden, OUTPUT.get(loss, out), loss, bias, l2)
         for (sizes, hidden, out, loss, bias, l2) in itertools.product(
             [(3, 4, 2)], ["identity", "sigmoid", "tanh", "softplus", "relu", "leaky_relu", "exp"], ["tanh"],
             SQUARED + ["cross_entropy", "binary_cross_entropy"], ["per_neuron", "per_layer", "none"], [0.0, 0.05])]


@pytest.mark.parametrize("case", CASES[::7] + [((2, 5, 5, 3), "tanh", "softmax", "half_sse", "per_layer", 0.0),
                                               ((2, 5, 5, 3), "relu", "identity", "mse", "per_neuron", 0.1)],
                         ids=lambda c: "-".join(map(str, c[1:])))
def test_layer_module_equals_pytorch_and_the_per_weight_module(case):
    sizes, hidden, out, loss, bias, l2 = case
    spec = derive.loads(spec_text(sizes, hidden, out, loss, bias, l2))
    lf, d = layer_form(spec), derive.derive(spec)
    lf.validate(d)  # the layer derivation against the per-weight one, entry by entry
    m, scalar = load_layers_module(spec), load_module(d)
    rng = np.random.default_rng(sum(map(ord, "".join(map(str, case)))))
    arrays, X, T = problem(lf, rng, 9)
    value, ref = torch_reference(lf, arrays, X, T)
    data = {"X": X, "T": T}
    assert abs(m.loss(arrays, data) - value) <= 1e-9 * abs(value) + 1e-12
    grads = m.gradients(arrays, data)
    for k in lf.parameters:
        assert grads[k].shape == lf.shapes()[k]
        assert_close(grads[k], ref[k])
    m.BLOCK = 4  # the samples in blocks of 4, 4 and 1: the same sums
    assert abs(m.loss(arrays, data) - value) <= 1e-9 * abs(value) + 1e-12
    blocked = m.gradients(arrays, data)
    for k in lf.parameters:
        assert_close(blocked[k], ref[k])
    scalars = {p: float(v) for p, v in lf.scalars({k: np.asarray(v).tolist() for k, v in arrays.items()}).items()}
    sdata = {**{x: X[:, i] for i, x in enumerate(spec.inputs)}, **{t: T[:, j] for j, t in enumerate(lf.targets)}}
    per_weight = scalar.gradients(scalars, sdata)
    back = lf.scalars({k: np.asarray(v).tolist() for k, v in grads.items()})
    for p in d.parameters:
        assert abs(back[p] - per_weight[p]) <= 1e-10 * abs(per_weight[p]) + 1e-12, p


@pytest.mark.parametrize("loss", ["cross_entropy", "binary_cross_entropy"])
def test_logits_of_a_thousand(loss):
    spec = derive.loads(spec_text((3, 4, 3), "identity", OUTPUT[loss], loss, "per_neuron"))
    lf, m = layer_form(spec), load_layers_module(spec)
    rng = np.random.default_rng(5)
    arrays, X, T = problem(lf, rng, 7)
    arrays = {k: np.sign(v) * 40.0 for k, v in arrays.items()}  # nets of several hundred to a thousand
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        value, grads = m.loss(arrays, {"X": X, "T": T}), m.gradients(arrays, {"X": X, "T": T})
    ref_value, ref = torch_reference(lf, arrays, X, T)
    assert np.isfinite(value) and abs(value - ref_value) <= 1e-12 * abs(ref_value)
    for k in lf.parameters:
        assert np.all(np.isfinite(grads[k]))
        assert_close(grads[k], ref[k])


def test_784_128_10_is_a_short_module_equal_to_pytorch(tmp_path):
    text = spec_text((784, 128, 10), "sigmoid", "softmax", "cross_entropy", "per_neuron")
    spec = derive.loads(text)
    src = layers_source(spec)
    assert len(src.splitlines()) < 400
    m = load_layers_module(spec)
    lf = layer_form(spec)
    arrays, X, T = problem(lf, np.random.default_rng(0), 50, scale=0.05)
    value, ref = torch_reference(lf, arrays, X, T)
    grads = m.gradients(arrays, {"X": X, "T": T})
    assert abs(m.loss(arrays, {"X": X, "T": T}) - value) <= 1e-10 * value
    for k in lf.parameters:
        assert_close(grads[k], ref[k], 1e-10)
    assert inspect.getsource(m.gradients).startswith("def gradients(params, data):")
    path = tmp_path / "mnist.toml"
    path.write_text(text.replace('name = "net"', 'name = "mnist"'))
    assert main(["codegen", str(path), "-o", str(tmp_path)]) == 0  # picked by size: the layer form
    assert "SHAPES = {" in (tmp_path / "mnist_gradients.py").read_text()


def test_train_steps_on_arrays_lower_the_loss():
    spec = derive.loads(spec_text((2, 6, 3), "tanh", "softmax", "cross_entropy", "per_neuron", 0.01))
    m, lf = load_layers_module(spec), layer_form(spec)
    arrays, X, T = problem(lf, np.random.default_rng(2), 40)
    params, history = m.train(arrays, {"X": X, "T": T}, 0.05, 50)
    assert history[-1] < history[0] and params["W1"].shape == (6, 2)


def test_bad_arrays_are_a_value_error_naming_the_key():
    spec = derive.loads(spec_text((2, 3, 2), "tanh", "softmax", "cross_entropy", "per_layer"))
    m, lf = load_layers_module(spec), layer_form(spec)
    arrays, X, T = problem(lf, np.random.default_rng(2), 4)
    with pytest.raises(ValueError, match=r"params\['W1'\] has shape \(2, 3\): expected \(3, 2\)"):
        m.gradients({**arrays, "W1": np.zeros((2, 3))}, {"X": X, "T": T})
    with pytest.raises(ValueError, match="data has no 'T'"):
        m.gradients(arrays, {"X": X})
    with pytest.raises(ValueError, match=r"data\['X'\] has shape \(4, 3\)"):
        m.loss(arrays, {"X": np.zeros((4, 3)), "T": T})


def test_gradients_whose_sum_overflows_are_no_false_alarm():
    """The module's quick check sums all gradients; finite ones near the float limit must pass, and
    one that really overflows must still be an error."""
    spec = derive.loads(spec_text((1, 1), "identity", "identity", "half_sse", "per_neuron"))
    m = load_layers_module(spec)
    params = {"W1": np.zeros((1, 1)), "b1": np.zeros(1)}
    g = m.gradients(params, {"X": np.ones((1, 1)), "T": np.full((1, 1), -1.5e308)})
    assert g["W1"][0, 0] == g["b1"][0] == 1.5e308  # together 3e308: inf, yet each is finite
    with pytest.raises(ValueError, match="a gradient is not finite"):
        m.gradients(params, {"X": np.ones((2, 1)), "T": np.full((2, 1), -1.5e308)})  # Σ_n overflows
    scalar = load_module(derive.derive(spec))
    g = scalar.gradients({"w1": 0.0, "b1": 0.0}, {"i1": np.ones(1), "t1": np.full(1, -1.5e308)})
    assert g == {"w1": 1.5e308, "b1": 1.5e308}


def test_form_layers_needs_a_layered_network(tmp_path, capsys):
    assert main(["codegen", "examples/qa_chain.toml", "--form", "layers", "-o", str(tmp_path)]) == 2
    assert "--form layers: no layer form: h shares its bias b with yp" in capsys.readouterr().err
    assert not list(tmp_path.iterdir())


def test_the_layer_form_does_not_depend_on_width():
    wide = derive.loads(spec_text((784, 512, 512, 10), "relu", "softmax", "cross_entropy", "per_neuron"))
    assert layer_form(wide).shapes()["W2"] == (512, 512) and len(layers_source(wide).splitlines()) < 400


def test_train_with_either_form_follows_the_same_losses(tmp_path, capsys):
    spec = tmp_path / "xor.toml"
    spec.write_text('name = "xor"\n[dense]\nsizes = [2, 4, 2]\nactivation = ["tanh", "softmax"]\nbias = "per_neuron"\n'
                    '[loss]\nkind = "cross_entropy"\n[data]\ni1 = [0, 0, 1, 1]\ni2 = [0, 1, 0, 1]\n'
                    't1 = [1, 0, 0, 1]\nt2 = [0, 1, 1, 0]\n[train]\nlearning_rate = 0.5\nsteps = 200\n')
    assert main(["train", str(spec), "--form", "layers", "-q"]) == 0
    layers = capsys.readouterr().out
    assert main(["train", str(spec), "--form", "scalar", "-q"]) == 0
    scalar = capsys.readouterr().out
    assert layers.splitlines()[0] == scalar.splitlines()[0] and "W1  shape (4, 2)" in layers


def test_the_layer_document_is_a_few_pages_and_compiles(tmp_path):
    import shutil
    import subprocess
    if shutil.which("pdflatex") is None:
        pytest.skip("pdflatex not installed")
    spec = tmp_path / "mnist.toml"
    spec.write_text(spec_text((784, 128, 10), "sigmoid", "softmax", "cross_entropy", "per_neuron", 0.0001)
                    .replace('name = "net"', 'name = "mnist"'))
    assert main(["build", str(spec), "-o", str(tmp_path / "out")]) == 0  # picked by size: the layer form
    tex = (tmp_path / "out" / "mnist.tex").read_text()
    assert r"\delta^{(1)} &= \left(W^{(2)}\right)^{\top} \delta^{(2)}" in tex
    assert r"\left(\delta_{kj} - a^{(2)}_{j}\right)" in tex  # the softmax Jacobian, in the open
    assert "100 paths" in tex  # the bridge: w1's entry is a sum over its paths
    info = subprocess.run(["pdfinfo", str(tmp_path / "out" / "mnist.pdf")], capture_output=True, text=True, check=False).stdout
    assert int(info.split("Pages:")[1].split()[0]) <= 4
    text = subprocess.run(["pdftotext", str(tmp_path / "out" / "mnist.pdf"), "-"], capture_output=True, text=True, check=False).stdout
    assert "??" not in text and "qquad" not in text
    md = (tmp_path / "out" / "mnist.md").read_text()
    assert "$$" in md and "One weight, two ways" in md


def test_explain_form_layers_refuses_a_param(tmp_path, capsys):
    spec = tmp_path / "c.toml"
    spec.write_text(spec_text((2, 3, 2), "tanh", "softmax", "cross_entropy", "per_neuron"))
    assert main(["explain", str(spec), "--form", "layers", "-p", "w1", "-o", str(tmp_path)]) == 2
    assert "--param w1: the layer form derives every parameter at once" in capsys.readouterr().err


def test_generated_classifier_and_layer_modules_are_ruff_clean(tmp_path):
    import shutil
    import subprocess
    if shutil.which("ruff") is None:
        pytest.skip("ruff is not installed")
    from derive.codegen import module_source
    for i, (bias, loss, out) in enumerate([("per_neuron", "cross_entropy", "softmax"), ("none", "mse", "identity"),
                                           ("per_layer", "binary_cross_entropy", "sigmoid"),
                                           ("per_layer", "half_sse", "softmax")]):
        for sizes in ((2, 3, 3), (2, 9, 3)):  # per-weight lines, then matrix code
            text = spec_text(sizes, "tanh", out, loss, bias, 0.1)
            (tmp_path / f"l{i}_{sizes[1]}.py").write_text(layers_source(derive.loads(text)))
            (tmp_path / f"s{i}_{sizes[1]}.py").write_text(module_source(derive.derive(derive.loads(text))))
    run = subprocess.run(["ruff", "check", "--isolated", "--no-cache", str(tmp_path)], capture_output=True, text=True, check=False)
    assert run.returncode == 0, run.stdout + run.stderr


@pytest.mark.parametrize("loss, out", [("half_sse", "identity"), ("cross_entropy", "softmax")])
@pytest.mark.parametrize("width", [3, 8])  # the per-weight module's lines, then its matrix code
def test_outputs_listed_out_of_order_pair_with_their_own_targets(loss, out, width, monkeypatch):
    """loss.outputs may list the outputs in any order: column k of T is the target of output neuron k."""
    text = spec_text((2, width, 3), "tanh", out, loss, "per_neuron").replace(
        f'kind = "{loss}"', f'kind = "{loss}"\noutputs = {{ o3 = "t1", o1 = "t2", o2 = "t3" }}')
    spec = derive.loads(text)
    lf, d = layer_form(spec), derive.derive(spec)
    assert lf.targets == ("t2", "t3", "t1")
    rng = np.random.default_rng(9)
    arrays, X, T = problem(lf, rng, 6)
    value, ref = torch_reference(lf, arrays, X, T)
    layers = load_layers_module(spec)
    assert abs(layers.loss(arrays, {"X": X, "T": T}) - value) <= 1e-9 * abs(value)
    g = layers.gradients(arrays, {"X": X, "T": T})
    assert all(np.allclose(g[k], ref[k], rtol=1e-9, atol=1e-12) for k in lf.parameters)
    scalars = lf.scalars({k: np.asarray(v).tolist() for k, v in arrays.items()})
    sdata = {**{x: X[:, i] for i, x in enumerate(spec.inputs)}, **{t: T[:, j] for j, t in enumerate(lf.targets)}}
    per_weight = load_module(d).gradients(scalars, sdata)
    back = lf.scalars({k: np.asarray(v).tolist() for k, v in ref.items()})
    assert all(abs(per_weight[p] - back[p]) <= 1e-9 * abs(back[p]) + 1e-12 for p in d.parameters)


def test_a_per_neuron_bias_of_one_neuron_is_an_array_of_one():
    lf = layer_form(derive.loads(spec_text((3, 4, 1), "tanh", "identity", "sse", "per_neuron")))
    assert lf.shapes()["b2"] == (1,) and lf.shapes()["b1"] == (4,)


def test_show_prints_the_layer_equations_of_a_wide_network(tmp_path, capsys):
    spec = tmp_path / "mnist.toml"
    spec.write_text(spec_text((784, 128, 10), "sigmoid", "softmax", "cross_entropy", "per_neuron"))
    assert main(["show", str(spec)]) == 0
    out = capsys.readouterr().out
    assert "z1 = W1 a0 + b1" in out and "W1: (128, 784)" in out and len(out) < 2000


def test_a_dense_loss_named_like_one_of_its_weights_is_a_spec_error():
    text = 'name = "n"\n[dense]\nsizes = [2, 2]\n[loss]\nkind = "sse"\nname = "{}"\n'
    with pytest.raises(derive.SpecError, match=r"loss.name: 'w3' is already used as a weight"):
        derive.loads(text.format("w3"))
    assert derive.loads(text.format("w5")).loss.name == "w5"  # 2-2 has w1 … w4
    target = 'name = "n"\n[dense]\nsizes = [2, 1]\nbias = "none"\n[loss]\nkind = "sse"\noutputs = { o1 = "w1" }\n'
    with pytest.raises(derive.SpecError, match=r"loss.outputs.o1: 'w1' is already used as a weight"):
        derive.loads(target)  # found in review: a target may not be named like a weight either


def test_complex_none_ragged_and_nan_arguments_are_named():
    spec = derive.loads(spec_text((2, 2), "tanh", "tanh", "sse", "per_neuron"))
    m, scalar = load_layers_module(spec), load_module(derive.derive(spec))
    good, data = {"W1": np.zeros((2, 2)), "b1": np.zeros(2)}, {"X": np.ones((3, 2)), "T": np.ones((3, 2))}
    for params, given, says in [({**good, "W1": np.zeros((2, 2)) + 1j}, data, r"params\['W1'\]: expected an array of real"),
                                ({**good, "b1": None}, data, r"params\['b1'\]: expected an array of real numbers, got None"),
                                (good, {"X": [[1, 2], [3]], "T": np.ones((2, 2))}, r"data\['X'\]: expected an array of numbers")]:
        with pytest.raises(ValueError, match=says):
            m.gradients(params, given)
    P = {p: 0.0 for p in scalar.PARAMETERS}
    D = {k: np.ones(2) for k in (*scalar.INPUTS, *scalar.TARGETS)}
    for bad, says in [(1j, "expected real numbers, got complex"), (np.complex128(0.4 + 1j), "expected real numbers, got complex"),
                      ("0.4", "expected numbers, got text")]:  # found in review: NumPy complex, text
        with pytest.raises(ValueError, match=r"params\['w1'\]: " + says):
            scalar.gradients({**P, "w1": bad}, D)
    ok = scalar.gradients({**P, "w1": np.float32(0.5), "w2": np.int64(1), "b1": True}, D)  # real NumPy scalars
    assert ok == scalar.gradients({**P, "w1": 0.5, "w2": 1.0, "b1": 1.0}, D)
    for f in (scalar.loss, scalar.gradients):  # not "an activation's output is too large"
        with pytest.raises(ValueError, match=r"data\['t2'\]: expected finite numbers"):
            f(P, {**D, "t2": np.array([1.0, np.nan])})
