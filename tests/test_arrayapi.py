"""The layer form's array-API module (`--backend array-api`): one generated module run on NumPy,
array_api_strict, PyTorch, JAX (x64, eager and jitted) and Dask (a two-process LocalCluster),
its gradients equal to the NumPy module's to 1e-12 relative and to PyTorch autograd's; Dask's
gradients one task per chunk and a tree sum; `derive train --dask` on zarr and .npy data on disk,
its errors, and the peak memory of the client and of each worker."""

from __future__ import annotations

import importlib
import inspect
import itertools
import os
import re
import subprocess
import sys
import warnings

import numpy as np
import pytest

import derive
from derive.cli import main
from derive.codegen import load_layers_module
from derive.codegen.arrays import layers_source
from derive.core.layers import layer_form
from derive.core.ops import ACTIVATIONS
from tests.memory import peak_rss


def required(name):
    """The module `name`; without it the file skips, but in CI (DERIVE_REQUIRE_TEX=1, .ci/run) it
    fails: the test extra installs every library here, and the issue's checks must run there."""
    try:
        return importlib.import_module(name)
    except ImportError:
        if os.environ.get("DERIVE_REQUIRE_TEX") == "1":
            pytest.fail(f"{name} is required in CI (DERIVE_REQUIRE_TEX=1): pip install -e '.[test]'", pytrace=False)
        pytest.skip(f"{name} not installed", allow_module_level=True)


xp_compat = required("array_api_compat")
strict = required("array_api_strict")
da = required("dask.array")
distributed = required("distributed")
zarr = required("zarr")
required("torch")  # (tests.test_layers would skip without it)
jax = required("jax")
jax.config.update("jax_enable_x64", True)
jnp = required("jax.numpy")

from tests.test_layers import OUTPUT, problem, spec_text, torch, torch_reference  # noqa: E402

REL = 1e-12  # against the NumPy module: the same operations in another library
LIMIT = 2 * 2**30  # the bound on the peak resident memory of the client and of each worker

# every activation in a hidden layer, every loss, every bias mode, with and without L2: a sample
CASES = list(itertools.product(sorted(ACTIVATIONS), ["half_sse", "mse", "cross_entropy", "binary_cross_entropy"],
                               ["per_neuron", "per_layer", "none"], [0.0, 0.03]))[::5]


def case_spec(case):
    hidden, loss, bias, l2 = case
    return derive.loads(spec_text((4, 5, 3, 3), hidden, OUTPUT.get(loss, "tanh"), loss, bias, l2))


def numbers(case, n=70, seed=0):
    """The NumPy module's loss and gradients at random parameters and data, the array-API module,
    and those numbers; both modules take the samples 16 at a time (blocks of 16, 16, ..., 6)."""
    spec = case_spec(case)
    lf = layer_form(spec)
    ref_m, m = load_layers_module(spec), load_layers_module(spec, "array-api")
    ref_m.BLOCK = m.BLOCK = 16
    arrays, X, T = problem(lf, np.random.default_rng(seed), n)
    data = {"X": X, "T": T}
    return lf, m, arrays, data, ref_m.loss(arrays, data), ref_m.gradients(arrays, data)


def assert_equal_to(ref_value, ref, value, grads, rel=REL):
    assert abs(float(value) - ref_value) <= rel * abs(ref_value) + 1e-300
    assert set(grads) == set(ref)
    # relative to each gradient's largest entry; a gradient that is zero in exact arithmetic (a
    # softmax layer's shared bias: Σ_k (a_k − t_k) = 0) is rounding noise, measured against the rest
    top = max(np.max(np.abs(g)) for g in ref.values())
    for k, g in ref.items():
        ours = np.asarray(grads[k])
        assert ours.shape == g.shape, k
        assert np.max(np.abs(ours - g)) <= rel * max(np.max(np.abs(g)), 1e-3 * top), k


def convert(arrays, data, asarray):
    return {k: asarray(v) for k, v in arrays.items()}, {k: asarray(v) for k, v in data.items()}


LIBRARIES = {
    "numpy": lambda a: np.asarray(a),
    "array_api_strict": lambda a: strict.asarray(a, dtype=strict.float64),
    "torch": lambda a: torch.tensor(np.asarray(a), dtype=torch.float64),
    "jax": lambda a: jnp.asarray(a, dtype=jnp.float64),
}


def _np(a):
    return np.asarray(a.cpu()) if isinstance(a, torch.Tensor) else np.asarray(a)


@pytest.mark.parametrize("case", CASES, ids=lambda c: "-".join(map(str, c)))
def test_one_module_on_every_library_equals_the_numpy_module(case):
    _, m, arrays, data, ref_value, ref = numbers(case)
    for name, asarray in LIBRARIES.items():
        params, d = convert(arrays, data, asarray)
        value, grads = m.loss(params, d), m.gradients(params, d)
        # computed in the library itself: the gradients are its own arrays, not NumPy's
        assert all(xp_compat.array_namespace(g) is xp_compat.array_namespace(d["X"]) for g in grads.values()), name
        assert_equal_to(ref_value, ref, _np(value), {k: _np(g) for k, g in grads.items()})


@pytest.mark.parametrize("case", CASES[::3], ids=lambda c: "-".join(map(str, c)))
def test_on_pytorch_tensors_it_equals_pytorch_autograd(case):
    lf, m, arrays, data, _, _ = numbers(case, seed=1)
    value, ref = torch_reference(lf, arrays, data["X"], data["T"])  # PyTorch's own forward and backward
    params, d = convert(arrays, data, LIBRARIES["torch"])
    grads = m.gradients(params, d)
    assert_equal_to(value, ref, m.loss(params, d).item(), {k: g.numpy() for k, g in grads.items()}, rel=1e-10)


def test_jax_jit_traces_the_generated_functions():
    case = ("tanh", "cross_entropy", "per_neuron", 0.03)
    _, m, arrays, data, ref_value, ref = numbers(case)
    params, d = convert(arrays, data, LIBRARIES["jax"])
    grads, value = jax.jit(m.gradients)(params, d), jax.jit(m.loss)(params, d)
    assert_equal_to(ref_value, ref, value, grads)
    step = jax.jit(lambda p: m.step(p, m.gradients(p, d), 0.1))  # a whole training step, compiled
    moved = step(params)
    assert all(np.allclose(moved[k], arrays[k] - 0.1 * ref[k], rtol=1e-12, atol=1e-15) for k in ref)


def test_the_registry_delta_forms_equal_the_product_with_the_derivative():
    z = np.array([-3.0, -1e-300, 0.0, 1e-300, 2.0])
    dA = np.array([0.5, -2.0, 3.0, -1.0, 4.0])
    for act in ACTIVATIONS.values():
        if act.numpy_delta:
            delta = eval(act.numpy_delta.format(dA="dA", z="z", a="a", xp="np"), {"np": np, "z": z, "dA": dA})
            slope = eval(act.numpy_derivative.format(z="z", a="a", xp="np"), {"np": np, "z": z})
            assert np.array_equal(delta, dA * slope), act.name


def test_bad_arrays_are_one_clear_error():
    _, m, arrays, data, _, _ = numbers(("tanh", "half_sse", "per_neuron", 0.0))
    params = dict(arrays)
    tdata = {k: torch.tensor(v) for k, v in data.items()}
    with pytest.raises(ValueError, match=r"params\['W1'\] is a numpy ndarray and the data a torch Tensor"):
        m.gradients(params, tdata)
    with pytest.raises(ValueError, match=r"data\['X'\] is a numpy ndarray and data\['T'\] a torch Tensor"):
        m.gradients(params, {"X": data["X"], "T": tdata["T"]})
    with pytest.raises(ValueError, match=r"data\['X'\] holds int64: expected real floating-point"):
        m.gradients(params, {"X": data["X"].astype(np.int64), "T": data["T"]})
    with pytest.raises(ValueError, match=r"data\['X'\]: expected an array of an array-API library"):
        m.gradients(params, {"X": data["X"].tolist(), "T": data["T"]})
    with pytest.raises(ValueError, match=r"data\['T'\] has shape \(70, 2\): expected \(N, 3\)"):
        m.gradients(params, {"X": data["X"], "T": data["T"][:, :2]})
    with pytest.raises(ValueError, match=r"params\['b1'\] has shape \(4,\): expected \(5,\)"):
        m.gradients({**params, "b1": np.zeros(4)}, data)
    # one dtype for the data and the parameters (PyTorch's matmul would not promote: its own error)
    t64 = {k: torch.tensor(v) for k, v in params.items()}
    with pytest.raises(ValueError, match=r"params\['W1'\] holds torch.float64 and data\['X'\] torch.float32"):
        m.gradients(t64, {k: torch.tensor(v, dtype=torch.float32) for k, v in data.items()})
    with pytest.raises(ValueError, match=r"data\['T'\] holds float32 and data\['X'\] float64"):
        m.gradients(params, {"X": data["X"], "T": data["T"].astype(np.float32)})
    with pytest.raises(ValueError, match=r"params\['b2'\] holds float32 and data\['X'\] float64"):
        m.loss({**params, "b2": params["b2"].astype(np.float32)}, data)
    bad = data["X"].copy()
    bad[3, 1] = np.nan
    with pytest.raises(ValueError, match=r"data\['X'\]: expected finite numbers"):
        m.gradients(params, {"X": bad, "T": data["T"]})


def test_codegen_backend_array_api_writes_a_module_of_no_numpy(tmp_path, capsys):
    spec = tmp_path / "c.toml"
    spec.write_text(spec_text((6, 5, 3), "sigmoid", "softmax", "cross_entropy", "per_layer"))
    assert main(["codegen", str(spec), "--form", "layers", "--backend", "array-api", "-o", str(tmp_path)]) == 0
    text = (tmp_path / "net_gradients.py").read_text()
    assert text == layers_source(derive.load(spec), "array-api")  # deterministic, byte for byte
    assert "import array_api_compat" in text and "np." not in text
    # NumPy only where the data are NumPy's (its errstate): never at the top, never needed
    assert re.findall(r"^ *(?:import|from) numpy.*", text, re.MULTILINE) == ["        import numpy  # (the data are "
                                                                            "NumPy's, or array_api_strict's, which "
                                                                            "computes with NumPy)"]
    # no in-place update of an array (JAX's are immutable): only the offset counter `at`
    assert set(re.findall(r"^ *(\w+)(?:\[.*\])? [-+*/@]= ", text, re.MULTILINE)) == {"at"}
    assert "Dask" in text and "PyTorch" in text  # the docstring names the libraries and the cluster route
    scalar = tmp_path / "s.toml"
    scalar.write_text('name = "s"\ninputs = ["x"]\n[[neuron]]\nname = "h"\nactivation = "tanh"\n'
                      'inputs = { x = "w" }\n[[neuron]]\nname = "y"\nactivation = "identity"\n'
                      'inputs = { x = "u", h = "v" }\n[loss]\nkind = "sse"\noutputs = { y = "t" }\n')  # a skip: no layers
    capsys.readouterr()
    assert main(["codegen", str(scalar), "--backend", "array-api", "-o", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--backend array-api: no layer form: y takes x (layer 0) and h (layer 1)" in err


def test_float32_and_float16_dask_data_give_the_numpy_modules_float64_numbers():
    """Data stored in fewer bits, parameters in float64: each chunk's share is computed and summed in
    float64 (the NumPy module converts the data to float64), not cast down to the data's dtype."""
    spec = case_spec(("tanh", "cross_entropy", "per_neuron", 0.0))
    ref_m, m = load_layers_module(spec), load_layers_module(spec, "array-api")
    arrays, X, T = problem(layer_form(spec), np.random.default_rng(4), 20_000)
    for dtype in (np.float32, np.float16):
        data = {"X": X.astype(dtype), "T": T.astype(dtype)}
        ref_value, ref = ref_m.loss(arrays, data), ref_m.gradients(arrays, data)
        d = {k: da.from_array(v, chunks=2_000) for k, v in data.items()}
        value, grads = m.loss(arrays, d), m.gradients(arrays, d)
        assert value.dtype == np.float64 and all(g.dtype == np.float64 for g in grads.values()), dtype
        assert_equal_to(ref_value, ref, value, grads)


def test_an_overflow_on_the_way_warns_nothing_as_in_the_numpy_module():
    """exp hidden neurons overflow at these weights while the tanh outputs saturate: the loss and
    gradients are finite, and NumPy's overflow warnings are kept quiet as the NumPy module keeps them."""
    spec = case_spec(("exp", "half_sse", "per_neuron", 0.0))
    ref_m, m = load_layers_module(spec), load_layers_module(spec, "array-api")
    arrays, X, T = problem(layer_form(spec), np.random.default_rng(0), 50)
    big = {k: 1e3 * v for k, v in arrays.items()}
    ref_value, ref = ref_m.loss(big, {"X": X, "T": T}), ref_m.gradients(big, {"X": X, "T": T})
    for name in ("numpy", "array_api_strict", "dask"):
        asarray = (lambda a: da.from_array(a, chunks=20)) if name == "dask" else LIBRARIES[name]
        params = big if name == "dask" else {k: asarray(v) for k, v in big.items()}
        d = {"X": asarray(X), "T": asarray(T)}
        with warnings.catch_warnings():
            warnings.simplefilter("error", RuntimeWarning)
            value, grads = m.loss(params, d), m.gradients(params, d)
            np.asarray(m.forward(params, d)["a1"])
        assert_equal_to(ref_value, ref, _np(value), {k: _np(g) for k, g in grads.items()})


# -- Dask: a LocalCluster of two worker processes, started and closed here ------------------------


@pytest.fixture(scope="module")
def cluster():
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0",
                                  silence_logs=40) as c, distributed.Client(c) as client:
        yield c, client


def test_on_dask_arrays_the_gradients_are_one_task_per_chunk_and_a_tree_sum(cluster):
    _, client = cluster
    case = ("sigmoid", "mse", "per_neuron", 0.03)  # a mean: each chunk's share is weighted by its size
    _, m, arrays, data, ref_value, ref = numbers(case, n=150)
    # uneven chunks of samples, T chunked differently: the module lines T up with X
    d = {"X": da.from_array(data["X"], chunks=((40, 40, 40, 20, 10), (2, 2))), "T": da.from_array(data["T"], chunks=50)}
    with distributed.get_task_stream(client) as ts:
        grads = m.gradients(arrays, d)
    assert all(isinstance(g, np.ndarray) for g in grads.values())  # small, in memory
    assert_equal_to(ref_value, ref, m.loss(arrays, d), grads)
    keys = [str(t["key"]) for t in ts.data]
    # one task per chunk of samples (dask fuses each with the first step of the sum) ...
    assert sum("chunk_shares" in k for k in keys) == 5
    assert len({t["worker"] for t in ts.data}) == 2  # ... on both workers
    assert any("sum-partial" in k for k in keys) and any("sum-aggregate" in k for k in keys)  # ... and a tree sum
    lazy = m.forward(arrays, d)["a2"]  # the forward pass stays a lazy (N, n) Dask array
    assert isinstance(lazy, da.Array) and lazy.chunks[0] == (40, 40, 40, 20, 10)


def write_zarr(folder, X, T, rows):
    for key, a in (("X", X), ("T", T)):
        z = zarr.create_array(store=str(folder / f"{key}.zarr"), shape=a.shape, chunks=(rows, a.shape[1]),
                              dtype=a.dtype, compressors=None)
        for lo in range(0, a.shape[0], rows):
            z[lo:lo + rows] = a[lo:lo + rows]


def train_spec(tmp_path, with_data=True):
    spec = tmp_path / "net.toml"
    rng = np.random.default_rng(3)
    X = rng.normal(size=(12, 3))
    T = np.eye(2)[rng.integers(0, 2, 12)]
    data = "".join(f"i{j + 1} = {X[:, j].tolist()}\n" for j in range(3)) + \
        "".join(f"t{j + 1} = {T[:, j].tolist()}\n" for j in range(2))
    spec.write_text(spec_text((3, 4, 2), "tanh", "softmax", "cross_entropy", "per_neuron")
                    + "[train]\nlearning_rate = 0.1\nsteps = 5\n" + ("[data]\n" + data if with_data else ""))
    return spec, X, T


def test_train_dask_equals_the_numpy_run_on_spec_data_zarr_and_npy(tmp_path, capsys):
    spec, X, T = train_spec(tmp_path)
    assert main(["train", str(spec), "--form", "layers", "-q"]) == 0
    plain = capsys.readouterr().out
    assert main(["train", str(spec), "--dask", "-q"]) == 0  # [data] through Dask's threads
    assert capsys.readouterr().out == plain
    write_zarr(tmp_path / "z", X, T, rows=5)
    assert main(["train", str(spec), "--dask", "--data", str(tmp_path / "z"), "-q"]) == 0
    assert capsys.readouterr().out == plain
    (tmp_path / "n").mkdir()
    np.save(tmp_path / "n" / "X.npy", X)
    np.save(tmp_path / "n" / "T.npy", T)
    assert main(["train", str(spec), "--dask", "--data", str(tmp_path / "n"), "-q"]) == 0
    assert capsys.readouterr().out == plain
    # float16 on disk: the run in float64 on the same (rounded) numbers, not one that overflows
    for name, dtype in (("h", np.float16), ("h64", np.float64)):
        (tmp_path / name).mkdir()
        np.save(tmp_path / name / "X.npy", (100 * X).astype(np.float16).astype(dtype))
        np.save(tmp_path / name / "T.npy", T.astype(dtype))
    half = [main(["train", str(spec), "--dask", "--data", str(tmp_path / name), "-q"]) or capsys.readouterr().out
            for name in ("h", "h64")]
    assert half[0] == half[1] and "inf" not in half[0] and "nan" not in half[0]


def test_train_dask_data_errors_are_one_line_naming_the_file(tmp_path, capsys):
    spec, X, T = train_spec(tmp_path, with_data=False)
    folder = tmp_path / "d"

    def error(*extra):
        assert main(["train", str(spec), *extra, "-q"]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and "Traceback" not in err, err
        return err.strip()

    assert error("--dask", "--data", str(folder)) == \
        f"derive: --data {folder}: not a directory (it should hold X.zarr and T.zarr, or X.npy and T.npy)"
    folder.mkdir()
    assert error("--dask", "--data", str(folder)) == \
        f"derive: {folder}: no X.zarr or X.npy: --data DIR holds the inputs as X.zarr (or X.npy), an (N, 3) array"
    np.save(folder / "X.npy", X[:, :2])
    np.save(folder / "T.npy", T[:7])
    assert error("--dask", "--data", str(folder)) == (
        f"derive: {folder / 'X.npy'}: shape (12, 2): expected (N, 3) with N > 0, one column per input (i1, i2, i3)")
    np.save(folder / "X.npy", X)
    assert error("--dask", "--data", str(folder)) == \
        f"derive: {folder / 'T.npy'}: 7 rows, and {folder / 'X.npy'} has 12: give one row of targets per sample"
    for key, good in (("X", X), ("T", T)):  # a NaN or inf in a file: found by the run, named by the file
        bad = good.copy()
        bad[4, 1] = np.inf if key == "X" else np.nan
        np.save(folder / "X.npy", bad if key == "X" else X)
        np.save(folder / "T.npy", bad if key == "T" else T)
        assert main(["train", str(spec), "--dask", "--data", str(folder), "-q"]) == 2
        notice, err = capsys.readouterr().err.splitlines()  # (the random start's notice comes first)
        assert notice.endswith("start at random (seed 0)")
        assert err == f"derive: {folder / f'{key}.npy'}: expected finite numbers"
    np.save(folder / "T.npy", T.astype(np.int64))
    assert error("--dask", "--data", str(folder)) == \
        f"derive: {folder / 'T.npy'}: int64 numbers: expected floating-point ones (float64, float32 or float16)"
    (folder / "T.npy").write_bytes(b"not an array")
    assert error("--dask", "--data", str(folder)).startswith(f"derive: {folder / 'T.npy'}: cannot read it as a npy array")
    assert error("--data", str(folder)) == f"derive: --data {folder}: goes with --dask (data and schedulers of Dask)"
    neurons = tmp_path / "neurons.toml"
    neurons.write_text('name = "s"\ninputs = ["x"]\n[[neuron]]\nname = "h"\nactivation = "tanh"\n'
                       'inputs = { x = "w" }\n[[neuron]]\nname = "y"\nactivation = "identity"\n'
                       'inputs = { x = "u", h = "v" }\n[loss]\nkind = "sse"\noutputs = { y = "t" }\n'
                       '[data]\nx = 1.0\nt = 2.0\n')  # a skip connection: no layer form
    assert main(["train", str(neurons), "--dask"]) == 2
    assert capsys.readouterr().err == f"derive: {neurons}: --dask: no layer form: y takes x (layer 0) and h " \
                                      "(layer 1): a skip connection, and a layer takes only the layer below\n"
    assert error("--scheduler", "tcp://127.0.0.1:8786") == \
        "derive: --scheduler tcp://127.0.0.1:8786: goes with --dask (data and schedulers of Dask)"


@pytest.mark.skipif(not os.path.exists("/proc/self/status"), reason="peak memory is read from /proc (Linux)")
def test_train_dask_on_a_cluster_stays_within_the_memory_bound(tmp_path, cluster):
    """A 784-128-10 softmax-CE network on 51,200 samples (X is 321 MB on disk, in 25 MB chunks),
    trained for two steps on the two-worker cluster: the client and each worker peak far below the
    data set's size, so none of them held it; and below the issue's 2 GB."""
    c, client = cluster
    n, rows = 51_200, 4_000
    rng = np.random.default_rng(0)
    folder = tmp_path / "mnist-like"
    for key, width in (("X", 784), ("T", 10)):
        z = zarr.create_array(store=str(folder / f"{key}.zarr"), shape=(n, width), chunks=(rows, width),
                              dtype="f8", compressors=None)
        for lo in range(0, n, rows):  # written chunk by chunk: this process never holds X either
            hi = min(lo + rows, n)
            z[lo:hi] = rng.normal(size=(hi - lo, 784)) if key == "X" else np.eye(10)[rng.integers(0, 10, hi - lo)]
    spec = tmp_path / "mnist.toml"
    spec.write_text('name = "mnist"\n[dense]\nsizes = [784, 128, 10]\nactivation = ["sigmoid", "softmax"]\n'
                    '[loss]\nkind = "cross_entropy"\n')
    # the client: derive train in a fresh interpreter (not this test's, which holds PyTorch and JAX)
    code = inspect.getsource(peak_rss) + ("import sys\nfrom derive.cli import main\nstatus = main(sys.argv[1:])\n"
                                          "print('peak', peak_rss())\nsys.exit(status)\n")
    r = subprocess.run([sys.executable, "-c", code, "train", str(spec), "--dask", "--data", str(folder), "--steps", "2",
                        "--lr", f"{0.2 / n:g}", "--scheduler", c.scheduler_address, "-q"],
                       capture_output=True, text=True, timeout=300, check=False)
    assert r.returncode == 0, r.stderr[-3000:]
    before, after = map(float, r.stdout.split("L: ")[1].split(" after")[0].split(" -> "))
    assert after < before and "after 2 steps" in r.stdout  # it trains
    client_peak = int(r.stdout.split("peak ")[1])
    worker_peaks = client.run(peak_rss)
    size = n * 784 * 8
    assert len(worker_peaks) == 2
    for who, peak in [("client", client_peak), *worker_peaks.items()]:
        assert peak < min(LIMIT, size), (who, peak, size)
