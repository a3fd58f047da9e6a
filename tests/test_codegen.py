"""The generated NumPy module (derive/codegen.py) against independent oracles, and `derive codegen`.

Oracles: central finite differences of the module's own loss (every example, random batches),
the classic step-by-step example's published numbers (Matt Mazur, "A Step by Step
Backpropagation Example", 2015), and the seed article's network (StatQuest's 1-2-1 softplus
network: dSSR/db3 = -15.7 at its starting values).  PyTorch is in tests/test_torch.py.
"""

from __future__ import annotations

import ast
import os
import random
import shutil
import subprocess
import sys
from itertools import pairwise
from pathlib import Path

import numpy as np
import pytest

import derive
from derive.cli import main
from derive.codegen import RESERVED, load_module, module_source, python_names
from derive.core.ops import ACTIVATIONS

from .netgen import random_spec

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = sorted((ROOT / "examples").glob("*.toml"))


def module_for(path_or_text):
    spec = derive.load(path_or_text) if isinstance(path_or_text, Path) else derive.loads(path_or_text)
    d = derive.derive(spec)
    return d, load_module(d)


def random_batch(spec, rng, n):
    """Inputs in [-2, 2] and targets in [-1, 1], n samples each."""
    data = {x: rng.uniform(-2, 2, n) for x in spec.inputs}
    data.update({t: rng.uniform(-1, 1, n) for t in spec.targets})
    return data


def central_differences(m, params, data, h=1e-6):
    out = {}
    for p in m.PARAMETERS:
        step = h * max(1.0, abs(params[p]))
        up, down = dict(params), dict(params)
        up[p] += step
        down[p] -= step
        out[p] = (m.loss(up, data) - m.loss(down, data)) / (2 * step)
    return out


def assert_close_to_fd(m, params, data):
    grads = m.gradients(params, data)
    fd = central_differences(m, params, data)
    assert list(grads) == list(m.PARAMETERS)
    scale = max(1.0, max(abs(v) for v in fd.values()))
    for p in m.PARAMETERS:
        # relative 1e-6, with a floor for gradients that are nearly zero
        assert abs(grads[p] - fd[p]) <= 1e-6 * max(abs(fd[p]), 1e-3 * scale), (p, grads[p], fd[p])


# -- finite differences ------------------------------------------------------------------------


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_gradients_match_central_differences_on_random_batches(path):
    d, m = module_for(path)
    rng = np.random.default_rng(7)
    for n in (1, 5, 50):
        params = {p: dict(d.spec.values).get(p, rng.uniform(-1, 1)) for p in d.parameters}
        assert_close_to_fd(m, params, random_batch(d.spec, rng, n))


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_gradients_match_the_exact_evaluator_at_the_spec_values(path):
    d, m = module_for(path)
    exact = derive.evaluate(d)
    grads = m.gradients(m.INITIAL, m.DATA)
    assert m.loss(m.INITIAL, m.DATA) == pytest.approx(exact.loss, rel=1e-12)
    for p in d.parameters:
        assert grads[p] == pytest.approx(exact.gradients[p], rel=1e-10, abs=1e-15)


def test_every_activation_on_random_networks_against_central_differences():
    rng = random.Random(3)
    for i in range(12):
        text = random_spec(rng, activations=tuple(ACTIVATIONS), samples=4)
        _, m = module_for(text)
        data = {k: np.asarray(v) for k, v in m.DATA.items()}
        # relu-like kinks sit at z = 0, which random data misses almost surely
        assert_close_to_fd(m, m.INITIAL, data)


# -- the published worked examples -------------------------------------------------------------


def digits(x: float, published: str) -> str:
    """x rounded to as many decimals as the published number shows."""
    decimals = len(published.split(".")[1])
    return f"{x:.{decimals}f}"


def test_mazur_step_by_step_example_to_every_published_digit():
    # Matt Mazur, "A Step by Step Backpropagation Example" (2015): the 2-2-2 sigmoid network with
    # i1 = 0.05, i2 = 0.10, targets 0.01 and 0.99, learning rate 0.5; biases are never updated.
    _, m = module_for(ROOT / "examples" / "mazur.toml")
    out = m.forward(m.INITIAL, m.DATA)
    assert digits(out["o1"][0], "0.75136507") == "0.75136507"
    assert digits(out["o2"][0], "0.772928465") == "0.772928465"
    assert digits(m.loss(m.INITIAL, m.DATA), "0.298371109") == "0.298371109"
    grads = m.gradients(m.INITIAL, m.DATA)
    assert digits(grads["w5"], "0.082167041") == "0.082167041"
    assert digits(grads["w1"], "0.000438568") == "0.000438568"
    new = m.step(m.INITIAL, grads, 0.5, freeze=("b1", "b2"))
    published = {"w5": "0.35891648", "w6": "0.408666186", "w7": "0.511301270", "w8": "0.561370121",
                 "w1": "0.149780716", "w2": "0.19956143", "w3": "0.24975114", "w4": "0.29950229"}
    for p, value in published.items():
        assert digits(new[p], value) == value, p
    assert (new["b1"], new["b2"]) == (0.35, 0.6)
    # train(..., freeze=) takes the same step
    trained, history = m.train(m.INITIAL, m.DATA, 0.5, 1, freeze=("b1", "b2"))
    assert trained == new and digits(history[0], "0.298371109") == "0.298371109"


def test_seed_article_softplus_network():
    # The seed article's 1-2-1 softplus network (StatQuest's dosage example): at its starting
    # values dSSR/db3 = -15.7, and gradient descent on its three samples drives SSR to zero.
    _, m = module_for(ROOT / "examples" / "softplus.toml")
    assert m.INITIAL == {"w1": 3.34, "w2": -3.53, "w3": -1.22, "w4": -2.3, "b1": -1.43, "b2": 0.57, "b3": 0.0}
    assert digits(m.gradients(m.INITIAL, m.DATA)["b3"], "-15.7") == "-15.7"
    params, history = m.train(m.INITIAL, m.DATA, m.LEARNING_RATE, m.STEPS)
    assert len(history) == m.STEPS + 1
    assert history[0] == pytest.approx(m.loss(m.INITIAL, m.DATA))
    assert history[-1] < 1e-6 * history[0]
    assert history[-1] == pytest.approx(m.loss(params, m.DATA))
    assert sum(b > a * (1 + 1e-9) for a, b in pairwise(history)) < m.STEPS // 100


# -- stability --------------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_registry_forms_are_finite_at_plus_minus_1000(name):
    act = ACTIVATIONS[name]
    z = np.array([-1000.0, -40.0, -1.0, 0.0, 1.0, 40.0, 1000.0])
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        # the registry's own NumPy text (derive's, not a user's)
        a = eval(act.numpy.format(z="z", xp="np"), {"np": np, "z": z})
        slope = eval(act.numpy_derivative.format(z="z", a="a", xp="np"), {"np": np, "z": z, "a": a})
    assert np.all(np.isfinite(a)) and np.all(np.isfinite(slope))
    assert np.all(slope >= 0)


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_registry_forms_agree_with_sympy_to_full_relative_precision_in_both_tails(name):
    # the oracle: the activation's SymPy form and sympy.diff of it, evaluated at 40 digits
    import sympy as sp

    act = ACTIVATIONS[name]
    x = sp.Symbol("x", real=True)
    f = act.function(x)
    df = sp.diff(f, x)
    z = np.array([-700.0, -40.0, -5.0, -0.3, 0.3, 5.0, 40.0, 700.0])
    a = eval(act.numpy.format(z="z", xp="np"), {"np": np, "z": z})
    slope = eval(act.numpy_derivative.format(z="z", a="a", xp="np"), {"np": np, "z": z, "a": a})
    for zi, ai, si in zip(z, a, slope):
        exact_a = float(f.subs(x, sp.Float(zi, 40)).evalf(40))
        exact_s = float(df.subs(x, sp.Float(zi, 40)).evalf(40))
        if abs(exact_a) < 1e300:
            assert ai == pytest.approx(exact_a, rel=1e-13, abs=1e-300), (zi, ai, exact_a)
        if abs(exact_s) < 1e300:
            # f' written through a = f(z) (σ' = a(1 - a), tanh' = 1 - a²) cannot resolve slopes
            # below 1e-16 where a rounds to ±1: hence the absolute floor
            assert si == pytest.approx(exact_s, rel=1e-9, abs=1e-15), (zi, si, exact_s)


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_generated_forward_and_gradients_are_finite_for_net_inputs_of_1000(name):
    _, m = module_for(f"""
name = "one"
inputs = ["x"]
[[neuron]]
name = "h"
activation = "{name}"
inputs = {{ x = "w" }}
[[neuron]]
name = "y"
activation = "identity"
inputs = {{ h = "v" }}
[loss]
kind = "half_sse"
outputs = {{ y = "t" }}
""")
    params = {"w": 1.0, "v": 1e-3}
    data = {"x": np.array([-1000.0, 1000.0]), "t": np.array([0.5, 0.5])}
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        out = m.forward(params, data)
    assert all(np.all(np.isfinite(v)) for v in out.values())
    # exp saturates at e^709 (about 8e307); its true gradient at z = 1000 is no float at all,
    # so the gradients are checked at the inputs whose activation stays below 1e300
    keep = np.abs(out["h"]) < 1e300
    data = {k: v[keep] for k, v in data.items()}
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        grads = m.gradients(params, data)
    assert all(np.isfinite(g) for g in grads.values())


# -- names, determinism, lint -----------------------------------------------------------------

AWKWARD = """
name = "awkward"
inputs = ["lambda", "np"]
[[neuron]]
name = "data"
net = "params"
activation = "sigmoid"
inputs = { lambda = "if", np = "float" }
bias = "n"
[[neuron]]
name = "delta_data"
net = "delta_params"
activation = "tanh"
inputs = { lambda = "dL_dif", np = "None" }
bias = "True"
[[neuron]]
name = "return"
activation = "identity"
inputs = { data = "gradients", delta_data = "dL_dfloat" }
bias = "cse0"
[loss]
kind = "mse"
name = "loss"
outputs = { return = "train" }
"""


def test_keywords_and_clashing_names_work_as_dict_keys():
    d, m = module_for(AWKWARD)
    names = python_names(d)
    assert names["lambda"] == "lambda_" and names["if"] == "if_" and names["data"] == "data_"
    assert set(m.PARAMETERS) == {"if", "float", "n", "dL_dif", "None", "True", "gradients", "dL_dfloat", "cse0"}
    rng = np.random.default_rng(1)
    params = {p: rng.uniform(-1, 1) for p in m.PARAMETERS}
    data = {"lambda": rng.uniform(-2, 2, 6), "np": rng.uniform(-2, 2, 6), "train": rng.uniform(-1, 1, 6)}
    assert set(m.forward(params, data)) == {"params", "data", "delta_params", "delta_data", "return"}
    assert_close_to_fd(m, params, data)


def test_every_reserved_name_can_be_a_network_name():
    # one input, one hidden neuron per four reserved names (its name, net, weight and bias)
    words = sorted(w for w in RESERVED if w.isidentifier())
    x, rest = words[0], words[1:]
    hidden = [rest[i:i + 4] for i in range(0, len(rest) - 6, 4)]
    out_weights = rest[4 * len(hidden):]
    lines = ['name = "reserved"', f'inputs = ["{x}"]']
    for name, net, w, b in hidden:
        lines += ["[[neuron]]", f'name = "{name}"', f'net = "{net}"', 'activation = "tanh"',
                  f'inputs = {{ {x} = "{w}" }}', f'bias = "{b}"']
    sources = [h[0] for h in hidden] + [x]
    weights = (out_weights + [f"v{i}" for i in range(len(sources))])[:len(sources)]
    lines += ["[[neuron]]", 'name = "y"', 'activation = "identity"',
              "inputs = { " + ", ".join(f'{s} = "{w}"' for s, w in zip(sources, weights)) + " }",
              "[loss]", 'kind = "half_sse"', 'outputs = { y = "t" }']
    d, m = module_for("\n".join(lines) + "\n")
    assert len(d.parameters) > len(RESERVED) // 3
    rng = np.random.default_rng(2)
    params = {p: rng.uniform(-0.5, 0.5) for p in m.PARAMETERS}
    assert_close_to_fd(m, params, {x: rng.uniform(-1, 1, 4), "t": rng.uniform(-1, 1, 4)})


def test_only_numpy_is_imported_and_every_gradient_line_has_its_formula():
    src = module_source(derive.derive(derive.load(ROOT / "examples" / "skip.toml")))
    tree = ast.parse(src)
    imported = {a.name for node in ast.walk(tree) if isinstance(node, (ast.Import, ast.ImportFrom))
                for a in node.names}
    assert imported == {"numpy"}
    lines = src.splitlines()
    grad_lines = [i for i, line in enumerate(lines) if line.strip().startswith("dL_d")]
    assert len(grad_lines) == len(derive.load(ROOT / "examples" / "skip.toml").parameters)
    for i in grad_lines:
        assert lines[i - 1].strip().startswith("# ∂L/∂"), lines[i - 1]
    assert "# ∂L/∂s1 = (1/N) Σ_n x1·δ_o1" in src


def test_each_error_signal_is_computed_once():
    src = module_source(derive.derive(derive.load(ROOT / "examples" / "mazur.toml")))
    body = src[src.index("def _backprop"):src.index("def _frozen")]
    for node in ("o1", "o2", "net_o1", "net_o2", "h1", "h2", "net_h1", "net_h2"):
        assert body.count(f"    delta_{node} = ") == 1, node
    assert "for " not in body  # vectorized over samples: no Python loop


def test_source_is_byte_identical_across_processes():
    code = ("import sys, derive; from derive.codegen import module_source;"
            "sys.stdout.write(module_source(derive.derive(derive.load(sys.argv[1]))))")
    outs = set()
    for seed in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": seed, "PYTHONPATH": str(ROOT)}
        outs.add(subprocess.run([sys.executable, "-c", code, str(ROOT / "examples" / "mazur.toml")],
                                capture_output=True, env=env, check=True, cwd=ROOT).stdout)
    assert len(outs) == 1


@pytest.mark.skipif(shutil.which("ruff") is None, reason="ruff is not installed")
def test_generated_modules_are_ruff_clean(tmp_path):
    texts = [p.read_text() for p in EXAMPLES] + [AWKWARD, random_spec(random.Random(5))]
    for i, text in enumerate(texts):
        (tmp_path / f"m{i}_gradients.py").write_text(module_source(derive.derive(derive.loads(text))))
    run = subprocess.run(["ruff", "check", "--isolated", "--no-cache", str(tmp_path)],
                         capture_output=True, text=True, check=False)
    assert run.returncode == 0, run.stdout + run.stderr


# -- the module's API -------------------------------------------------------------------------


def test_numbers_and_arrays_broadcast_and_bad_lengths_are_a_clear_error():
    _, m = module_for(ROOT / "examples" / "softplus.toml")
    one = m.gradients(m.INITIAL, {"input": 0.5, "observed": 1.0})
    assert one == m.gradients(m.INITIAL, {"input": [0.5], "observed": [1.0]})
    many = m.gradients(m.INITIAL, {"input": 0.5, "observed": [1.0, 1.0]})
    assert many["b3"] == pytest.approx(2 * one["b3"])
    with pytest.raises(ValueError, match="same number of samples"):
        m.loss(m.INITIAL, {"input": [0.0, 1.0], "observed": [0.0, 1.0, 2.0]})


def test_step_train_and_freeze():
    _, m = module_for(ROOT / "examples" / "qa_chain.toml")
    grads = m.gradients(m.INITIAL, m.DATA)
    new = m.step(m.INITIAL, grads, 0.1)
    assert new["w1"] == m.INITIAL["w1"] - 0.1 * grads["w1"]
    assert m.step(m.INITIAL, grads, 0.1, freeze="b")["b"] == m.INITIAL["b"]
    with pytest.raises(ValueError, match="cannot freeze nope"):
        m.step(m.INITIAL, grads, 0.1, freeze=["nope"])
    calls = []
    params, history = m.train(m.INITIAL, m.DATA, 0.5, 5, callback=lambda k, v, p: calls.append((k, v)),
                              freeze=["w2"])
    assert [k for k, _ in calls] == list(range(6)) and [v for _, v in calls] == history
    assert params["w2"] == m.INITIAL["w2"] and history[-1] < history[0]


# -- derive codegen ---------------------------------------------------------------------------


def test_cli_writes_the_module_where_asked(tmp_path, capsys):
    assert main(["codegen", str(ROOT / "examples" / "mazur.toml"), "-o", str(tmp_path / "out")]) == 0
    path = tmp_path / "out" / "mazur_gradients.py"
    assert path.read_text() == module_source(derive.derive(derive.load(ROOT / "examples" / "mazur.toml")))
    assert str(path) in capsys.readouterr().out


def test_cli_default_directory_is_output_name(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(["codegen", str(ROOT / "examples" / "qa_chain.toml")]) == 0
    assert (tmp_path / "output" / "qa_chain" / "qa_chain_gradients.py").is_file()


def test_cli_bad_spec_is_one_line_exit_2_and_writes_nothing(tmp_path, capsys):
    bad = tmp_path / "bad.toml"
    bad.write_text('name = "bad"\ninputs = ["x"]\n[[neuron]]\nname = "h"\nactivation = "swish"\n'
                   'inputs = { x = "w" }\n[loss]\nkind = "sse"\noutputs = { h = "t" }\n')
    assert main(["codegen", str(bad), "-o", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert all(line.startswith(f"derive: {bad}: ") for line in err)  # one line per problem
    assert "activation" in err[0] and "Traceback" not in "".join(err)
    assert not (tmp_path / "out").exists()


def test_cli_output_that_is_a_file_is_exit_2(tmp_path, capsys):
    (tmp_path / "f").write_text("")
    assert main(["codegen", str(ROOT / "examples" / "mazur.toml"), "-o", str(tmp_path / "f")]) == 2
    assert "not a directory" in capsys.readouterr().err


# -- the benchmark runs (it is not run here; this only checks that it still works) ---------------


def test_bench_quick_smoke(tmp_path):
    run = subprocess.run([sys.executable, str(ROOT / "bench" / "bench_codegen.py"), "--quick"],
                         capture_output=True, text=True, cwd=tmp_path, timeout=300, check=False,
                         env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert run.returncode == 0, run.stderr
    assert "| qa_chain |" in run.stdout and "hand-written" in run.stdout


# -- matrix code for wide dense layers ---------------------------------------------------------


def dense(sizes, activation="tanh", bias="per_neuron", kind="mse"):
    act = "[" + ", ".join(f'"{a}"' for a in activation) + "]" if isinstance(activation, list) else f'"{activation}"'
    return (f'name = "dense"\n[dense]\nsizes = {list(sizes)}\nactivation = {act}\nbias = "{bias}"\n'
            f'[loss]\nkind = "{kind}"\n')


def test_wide_dense_networks_get_matrix_code_and_the_examples_scalar_code():
    from derive.codegen.matrix import layers

    assert layers(derive.derive(derive.loads(dense((3, 8, 2))))) is not None
    for path in EXAMPLES:
        assert layers(derive.derive(derive.load(path))) is None, path.stem
    src = module_source(derive.derive(derive.loads(dense((3, 8, 2)))))
    assert "Z_1 = S_1 @ W_1 + np.array([b1, b2" in src and "G_2 = ((A_1.T @ dZ_2) / n).tolist()" in src
    assert "# ∂L/∂w25 = (1/N) Σ_n h1·δ_z_o1\n    dL_dw25 = G_2[0][0]" in src


@pytest.mark.parametrize("sizes, activation, bias, kind", [
    ((3, 8, 2), "tanh", "per_layer", "mse"),
    ((2, 9, 1), "sigmoid", "per_neuron", "sse"),
    ((2, 8, 8, 3), "softplus", "none", "half_sse"),
    ((1, 8, 1), "identity", "per_neuron", "mse"),
    ((2, 8, 8, 1), ["relu", "leaky_relu", "exp"], "per_layer", "half_sse"),
    ((2, 3, 2), "sigmoid", "per_layer", "half_sse"),  # narrow: matrix code only when forced
])
def test_matrix_code_matches_central_differences(sizes, activation, bias, kind, monkeypatch):
    import derive.codegen.matrix

    d = derive.derive(derive.loads(dense(sizes, activation, bias, kind)))
    monkeypatch.setattr(derive.codegen.matrix, "MIN_WIDTH", 1)
    assert "W_1 = np.array(" in module_source(d)
    m = load_module(d)
    monkeypatch.setattr(derive.codegen.matrix, "MIN_WIDTH", 10**9)
    assert "W_1" not in module_source(d)
    scalar = load_module(d)
    rng = np.random.default_rng(4)
    params = {p: rng.uniform(-0.7, 0.7) for p in d.parameters}
    data = random_batch(d.spec, rng, 9)
    assert_close_to_fd(m, params, data)
    assert set(m.forward(params, data)) == {eq.name for eq in d.equations[:-1]}
    ours, theirs = m.gradients(params, data), scalar.gradients(params, data)
    for p in d.parameters:
        assert ours[p] == pytest.approx(theirs[p], rel=1e-10, abs=1e-14)


def test_a_module_with_l2_is_the_same_bytes_under_any_hash_seed(tmp_path):
    """The penalty's Σ w² lists the weights in parameter order (it followed a set's order, which
    changes with PYTHONHASHSEED from one run to the next)."""
    import os
    import subprocess
    import sys
    spec = tmp_path / "c.toml"
    spec.write_text('name = "c"\n[dense]\nsizes = [3, 4, 2]\nactivation = "tanh"\n[loss]\nkind = "mse"\nl2 = 0.01\n')
    texts = []
    for seed in ("1", "2", "3"):
        out = tmp_path / seed
        subprocess.run([sys.executable, "-m", "derive.cli", "codegen", str(spec), "--form", "scalar", "-o", str(out)],
                       check=True, capture_output=True, env={**os.environ, "PYTHONHASHSEED": seed})
        texts.append((out / "c_gradients.py").read_text())
    assert texts[0] == texts[1] == texts[2]
    assert "0.005 * (w1 * w1 + w2 * w2 + w3 * w3" in texts[0]
