"""derive's layer-form module against framework peers: loss gradients of small dense networks.

    python bench/bench_layers.py            # the four workloads below (about 70 s)
    python bench/bench_layers.py --quick    # workload (1) only, a few repeats (seconds)
    python bench/bench_layers.py --profile  # no race: time derive's and the hand-written code line by line

The network of each workload is a `[dense]` spec compiled with `load_layers_module`; every
contestant computes ∂L/∂θ of all its array parameters (W1, b1, W2, b2) for the same parameters and
data, in float64:

- derive:      the generated `m.gradients(params, data)` (dicts of NumPy arrays in and out);
- hand-written: a NumPy backprop as a person writes it for two matrix layers (below);
- PyTorch:     the same forward in eager mode and `loss.backward()`;
- JAX:         `jax.jit(jax.grad(loss))`, x64 enabled, XLA on one thread;
- tangent:     `tangent.grad(loss)` (tangent-ad, source transformation to NumPy code);
- autograd:    `autograd.grad(loss)` (HIPS autograd, tracing NumPy).

Each framework gets its data and parameters in its own form (tensors, device arrays), converted
once outside the timer.  Before timing, every contestant's gradients are checked against derive's
(max |g − g_derive| / max |g_derive| ≤ 1e-8 per parameter).  Then the contestants, and derive's
`m.loss` (its forward pass), take turns within each repeat (round robin, the order rotated from
one repeat to the next); each turn times the mean of a batch of calls.  Reported: the median over
7 repeats (3 for N = 10^4), as derive's time in ms and every other time divided by derive's.
BLAS (threadpoolctl), PyTorch and XLA run on one thread each, and the process on one CPU
(`pin_one_cpu`).  Needs threadpoolctl; a framework that is not installed (`pip install jax jaxlib
tangent-ad autograd threadpoolctl`; PyTorch separately) or fails is left out with a note.
"""

from __future__ import annotations

import argparse
import ast
import gc
import inspect
import math
import os
import platform
import statistics
import sys
import textwrap
import time
import warnings
from pathlib import Path

# XLA reads its flags when jax loads: one thread, as for BLAS and PyTorch.
os.environ["XLA_FLAGS"] = (os.environ.get("XLA_FLAGS", "") +
                           " --xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1").strip()

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import derive
from derive.codegen import load_layers_module
from derive.core.layers import layer_form

WORKLOADS = (  # name, sizes, activations, loss, N, repeats, seconds per batch
    ("2-2-2 sigmoid", (2, 2, 2), ("sigmoid", "sigmoid"), "half_sse", 1000, 7, 0.1),
    ("128-128-1 tanh", (128, 128, 1), ("tanh", "identity"), "half_sse", 64, 7, 0.1),
    ("784-128-10 sigmoid/softmax", (784, 128, 10), ("sigmoid", "softmax"), "cross_entropy", 1000, 7, 0.3),
    ("784-128-10 sigmoid/softmax", (784, 128, 10), ("sigmoid", "softmax"), "cross_entropy", 10000, 3, 0.6),
)
TOLERANCE = 1e-8


def spec_of(sizes, activations, loss):
    acts = ", ".join(f'"{a}"' for a in activations)
    return derive.loads(f'name = "net_{"_".join(map(str, sizes))}"\n[dense]\nsizes = {list(sizes)}\n'
                        f'activation = [{acts}]\nbias = "per_neuron"\n[loss]\nkind = "{loss}"\n')


def make_problem(sizes, loss, shapes, n, seed=0):
    """Random parameters (scaled by fan-in) and data: inputs, and targets that suit the loss."""
    rng = np.random.default_rng(seed)
    params = {}
    for key, shape in shapes.items():
        fan_in = sizes[int(key[1:]) - 1]
        params[key] = rng.standard_normal(shape) / math.sqrt(fan_in)
    if sizes[0] == 784:  # pixel-like inputs in [0, 1)
        X = rng.random((n, sizes[0]))
    else:
        X = rng.standard_normal((n, sizes[0]))
    if loss == "cross_entropy":  # one-hot class labels
        T = np.eye(sizes[-1])[rng.integers(0, sizes[-1], n)]
    elif sizes[-1] == 1:  # regression targets
        T = rng.standard_normal((n, 1))
    else:  # targets in (0, 1) for sigmoid outputs
        T = rng.random((n, sizes[-1]))
    return params, {"X": X, "T": T}


KEYS = ("W1", "b1", "W2", "b2")


# -- hand-written NumPy backprop ------------------------------------------------------------------

def _np_sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def make_hand_written(activations, loss):
    """Backprop for two matrix layers, Z = A @ W.T + b, as one writes it by hand."""
    act1, act2 = activations
    f1 = {"sigmoid": _np_sigmoid, "tanh": np.tanh}[act1]
    d1 = {"sigmoid": lambda a: a * (1.0 - a), "tanh": lambda a: 1.0 - a * a}[act1]

    def grads(p, X, T):
        W1, b1, W2, b2 = p["W1"], p["b1"], p["W2"], p["b2"]
        Z1 = X @ W1.T + b1
        A1 = f1(Z1)
        Z2 = A1 @ W2.T + b2
        if loss == "cross_entropy":  # softmax outputs: dL/dZ2 = Y - T
            E = np.exp(Z2 - Z2.max(axis=1, keepdims=True))
            dZ2 = E / E.sum(axis=1, keepdims=True) - T
        elif act2 == "identity":
            dZ2 = Z2 - T
        else:  # sigmoid outputs, half squared error
            A2 = _np_sigmoid(Z2)
            dZ2 = (A2 - T) * (A2 * (1.0 - A2))
        dW2 = dZ2.T @ A1
        db2 = dZ2.sum(axis=0).reshape(np.shape(b2))
        dZ1 = (dZ2 @ W2) * d1(A1)
        dW1 = dZ1.T @ X
        db1 = dZ1.sum(axis=0)
        return {"W1": dW1, "b1": db1, "W2": dW2, "b2": db2}

    return grads


# -- tangent: it differentiates source code, so one plain function per network ---------------------
# (it rejects attribute access such as W.T: "attributes are not yet supported for gradients")

def tangent_sigmoid_sse(W1, b1, W2, b2, X, T):
    Z1 = np.dot(X, np.transpose(W1)) + b1
    A1 = 1.0 / (1.0 + np.exp(-Z1))
    Z2 = np.dot(A1, np.transpose(W2)) + b2
    A2 = 1.0 / (1.0 + np.exp(-Z2))
    return 0.5 * np.sum((T - A2) ** 2)


def tangent_tanh_sse(W1, b1, W2, b2, X, T):
    Z1 = np.dot(X, np.transpose(W1)) + b1
    A1 = np.tanh(Z1)
    Z2 = np.dot(A1, np.transpose(W2)) + b2
    return 0.5 * np.sum((T - Z2) ** 2)


def tangent_sigmoid_ce(W1, b1, W2, b2, X, T):
    Z1 = np.dot(X, np.transpose(W1)) + b1
    A1 = 1.0 / (1.0 + np.exp(-Z1))
    Z2 = np.dot(A1, np.transpose(W2)) + b2
    m = np.max(Z2, axis=1, keepdims=True)
    lse = m + np.log(np.sum(np.exp(Z2 - m), axis=1, keepdims=True))
    return -np.sum(T * (Z2 - lse))


TANGENT_LOSS = {("sigmoid", "sigmoid", "half_sse"): tangent_sigmoid_sse,
                ("tanh", "identity", "half_sse"): tangent_tanh_sse,
                ("sigmoid", "softmax", "cross_entropy"): tangent_sigmoid_ce}


def import_jax():
    """jax with float64 (imported here, after main() has pinned the process to one CPU)."""
    import jax
    jax.config.update("jax_enable_x64", True)
    return jax


# -- the contestants: each returns (setup note, call, gradients-as-NumPy) --------------------------

def contestants(m, activations, loss, params, data):
    """name -> (call, result-to-numpy-dict) for every contestant that loads; failures -> notes."""
    X, T = data["X"], data["T"]
    act1, act2 = activations
    out, notes = {}, {}

    out["derive"] = (lambda: m.gradients(params, data), lambda g: g)
    out["derive loss()"] = (lambda: m.loss(params, data), None)

    hand = make_hand_written(activations, loss)
    out["hand-written"] = (lambda: hand(params, X, T), lambda g: g)

    try:
        import torch
        torch.set_num_threads(1)
        tp = {k: torch.tensor(v, dtype=torch.float64, requires_grad=True) for k, v in params.items()}
        tX, tT = torch.tensor(X, dtype=torch.float64), torch.tensor(T, dtype=torch.float64)
        tf1 = {"sigmoid": torch.sigmoid, "tanh": torch.tanh}[act1]

        def torch_grads():
            for v in tp.values():
                v.grad = None
            A1 = tf1(tX @ tp["W1"].T + tp["b1"])
            Z2 = A1 @ tp["W2"].T + tp["b2"]
            if loss == "cross_entropy":
                L = -(tT * torch.log_softmax(Z2, dim=1)).sum()
            else:
                A2 = torch.sigmoid(Z2) if act2 == "sigmoid" else Z2
                L = 0.5 * ((tT - A2) ** 2).sum()
            L.backward()
            return {k: v.grad for k, v in tp.items()}

        out["PyTorch"] = (torch_grads, lambda g: {k: v.numpy() for k, v in g.items()})
    except Exception as e:  # noqa: BLE001 -- reported, the others go on
        notes["PyTorch"] = f"{type(e).__name__}: {e}"

    try:
        jax = import_jax()
        import jax.numpy as jnp
        jf1 = {"sigmoid": jax.nn.sigmoid, "tanh": jnp.tanh}[act1]

        def jax_loss(p, X, T):
            A1 = jf1(X @ p["W1"].T + p["b1"])
            Z2 = A1 @ p["W2"].T + p["b2"]
            if loss == "cross_entropy":
                return -jnp.sum(T * jax.nn.log_softmax(Z2, axis=1))
            A2 = jax.nn.sigmoid(Z2) if act2 == "sigmoid" else Z2
            return 0.5 * jnp.sum((T - A2) ** 2)

        jgrad = jax.jit(jax.grad(jax_loss))
        jp = {k: jnp.asarray(v) for k, v in params.items()}
        jX, jT = jnp.asarray(X), jnp.asarray(T)
        out["JAX jit"] = (lambda: jax.block_until_ready(jgrad(jp, jX, jT)),
                          lambda g: {k: np.asarray(v) for k, v in g.items()})
    except Exception as e:  # noqa: BLE001
        notes["JAX jit"] = f"{type(e).__name__}: {e}"

    try:
        import tangent
        with warnings.catch_warnings():  # its generated code says `if 1 is None:` (a SyntaxWarning)
            warnings.simplefilter("ignore", SyntaxWarning)
            tg = tangent.grad(TANGENT_LOSS[(act1, act2, loss)], wrt=(0, 1, 2, 3), verbose=0)
        targs = tuple(params[k] for k in KEYS) + (X, T)
        out["tangent"] = (lambda: tg(*targs), lambda g: dict(zip(KEYS, g)))
    except Exception as e:  # noqa: BLE001
        notes["tangent"] = f"{type(e).__name__}: {str(e).strip().splitlines()[0]}"

    try:
        import autograd
        import autograd.numpy as anp
        from autograd.scipy.special import logsumexp
        af1 = {"sigmoid": lambda z: 1.0 / (1.0 + anp.exp(-z)), "tanh": anp.tanh}[act1]

        def ag_loss(p, X, T):
            A1 = af1(anp.dot(X, p["W1"].T) + p["b1"])
            Z2 = anp.dot(A1, p["W2"].T) + p["b2"]
            if loss == "cross_entropy":
                return -anp.sum(T * (Z2 - logsumexp(Z2, axis=1, keepdims=True)))
            A2 = 1.0 / (1.0 + anp.exp(-Z2)) if act2 == "sigmoid" else Z2
            return 0.5 * anp.sum((T - A2) ** 2)

        agrad = autograd.grad(ag_loss)
        out["autograd"] = (lambda: agrad(params, X, T), lambda g: g)
    except Exception as e:  # noqa: BLE001
        notes["autograd"] = f"{type(e).__name__}: {e}"

    return out, notes


# -- --profile: where the time goes, statement by statement ---------------------------------------

def _instrument(body, lines):
    """Each simple statement of `body` wrapped in perf_counter calls that add its time to _acc[line]."""
    out = []
    for st in body:
        if isinstance(st, ast.With) or (isinstance(st, ast.If) and not isinstance(st.body[0], ast.Raise)):
            st.body = _instrument(st.body, lines)
            if isinstance(st, ast.If):
                st.orelse = _instrument(st.orelse, lines)
            out.append(st)
            continue
        if isinstance(st, ast.Return):  # time the expression, then return it
            st = ast.Assign(targets=[ast.Name("_ret", ast.Store())], value=st.value, lineno=st.lineno)
            tail = [ast.Return(ast.Name("_ret", ast.Load()))]
        else:
            tail = []
        lines.add(st.lineno)
        out += ast.parse("_t0 = _pc()").body + [st] + \
            ast.parse(f"_acc[{st.lineno}] = _acc.get({st.lineno}, 0.0) + _pc() - _t0").body + tail
    return out


def line_profile(func, args, calls):
    """Mean seconds per call spent on each line of `func` (its source re-run with timers)."""
    source = textwrap.dedent(inspect.getsource(func))
    tree = ast.parse(source)
    fn = tree.body[0]
    lines = set()
    fn.body = _instrument(fn.body, lines)
    ast.fix_missing_locations(tree)
    ns = dict(func.__globals__)
    for name, cell in zip(func.__code__.co_freevars, func.__closure__ or ()):
        ns[name] = cell.cell_contents
    acc = {}
    ns.update(_pc=time.perf_counter, _acc=acc)
    exec(compile(tree, "<profile>", "exec"), ns)  # noqa: S102 -- our own functions, re-timed
    timed = ns[fn.name]
    for _ in range(max(1, calls // 10)):
        timed(*args)
    acc.clear()
    t0 = time.perf_counter()
    for _ in range(calls):
        timed(*args)
    total = (time.perf_counter() - t0) / calls
    text = source.splitlines()
    return total, [(text[ln - 1].strip(), acc.get(ln, 0.0) / calls) for ln in sorted(lines)]


def profile(name, n, m, activations, loss, params, data, seconds=1.0):
    hand = make_hand_written(activations, loss)
    t0 = time.perf_counter()
    m.gradients(params, data)
    calls = max(3, round(seconds / (time.perf_counter() - t0)))
    for label, func, args in (("derive gradients() -> _backprop", m._backprop, (params, data, False, True)),
                              ("hand-written", hand, (params, data["X"], data["T"]))):
        total, rows = line_profile(func, args, calls)
        print(f"\n{name}, N = {n}: {label}, {total * 1e3:.3f} ms a call with the timers ({calls} calls)")
        for text, s in rows:
            if s >= 0.01 * total:
                print(f"  {s * 1e3:9.4f} ms {100 * s / total:5.1f} %  {text[:100]}")
    # the single operations the two tables point at, each on its own (median of 7 batches)
    X, W1 = data["X"], params["W1"]
    with np.errstate(all="ignore"):
        Z1 = X @ W1.T + params["b1"]
        A1 = 1.0 / (1.0 + np.exp(-Z1))
        ops = {
            "Z1 = X @ W1.T": lambda: X @ W1.T,
            "Z1 = (W1 @ X.T).T (the same product, other layout)": lambda: (W1 @ X.T).T,
            "dW1 = dZ1.T @ X": lambda: Z1.T @ X,
            "np.all(np.isfinite(X))": lambda: np.all(np.isfinite(X)),
            "dZ1.sum(axis=0)": lambda: Z1.sum(axis=0),
            "np.ones(N) @ dZ1 (the same sum)": lambda: np.ones(len(Z1)) @ Z1,
        }
        if activations[0] == "sigmoid":
            ops["sigmoid, derive's stable form"] = lambda: np.exp(np.minimum(Z1, 0.0)) / (1.0 + np.exp(-np.abs(Z1)))
            ops["sigmoid, 1 / (1 + np.exp(-Z1))"] = lambda: 1.0 / (1.0 + np.exp(-Z1))
        if activations[1] == "softmax":
            Z2 = A1 @ params["W2"].T + params["b2"]
            ops["softmax, derive: np.exp(Z2 - np.logaddexp.reduce(Z2, axis=1, keepdims=True))"] = \
                lambda: np.exp(Z2 - np.logaddexp.reduce(Z2, axis=1, keepdims=True))
            def shifted_softmax():
                E = np.exp(Z2 - Z2.max(axis=1, keepdims=True))
                return E / E.sum(axis=1, keepdims=True)

            ops["softmax, max-shifted: E = np.exp(Z2 - max); E / E.sum(axis=1, keepdims=True)"] = shifted_softmax
        try:
            import torch
            tX, tW1, tZ1 = (torch.from_numpy(a) for a in (X, W1, Z1))
            ops["torch: tX @ tW1.T"] = lambda: tX @ tW1.T
            ops["torch: tZ1.T @ tX"] = lambda: tZ1.T @ tX
            if activations[0] == "sigmoid":
                ops["torch: torch.sigmoid(tZ1)"] = lambda: torch.sigmoid(tZ1)
        except ImportError:
            pass
        print(f"\n{name}, N = {n}: single operations")
        for label, op in ops.items():
            op()
            t0 = time.perf_counter()
            op()
            k = max(1, round(0.02 / max(time.perf_counter() - t0, 1e-7)))
            runs = []
            for _ in range(7):
                t0 = time.perf_counter()
                for _ in range(k):
                    op()
                runs.append((time.perf_counter() - t0) / k)
            print(f"  {statistics.median(runs) * 1e3:9.4f} ms  {label}")


PEERS = ("hand-written", "PyTorch", "JAX jit", "tangent", "autograd")


def check(name, funcs, notes, reference):
    """Each contestant's gradients against derive's; a contestant that errs is dropped with a note."""
    print(f"  check against derive (max |g - g_derive| / max |g_derive|, tolerance {TOLERANCE:g}):")
    for who in PEERS:
        if who not in funcs:
            continue
        call, to_np = funcs[who]
        try:
            g = to_np(call())
        except Exception as e:  # noqa: BLE001
            notes[who] = f"{type(e).__name__}: {str(e).strip().splitlines()[0]}"
            del funcs[who]
            print(f"    {who:13s} failed: {notes[who]}")
            continue
        errs = {}
        for k in KEYS:
            got = np.asarray(g[k], dtype=float)
            assert got.shape == np.shape(reference[k]), f"{name} {who} {k}: shape {got.shape}"
            errs[k] = float(np.max(np.abs(got - reference[k])) / np.max(np.abs(reference[k])))
        print(f"    {who:13s} " + "  ".join(f"{k} {e:.1e}" for k, e in errs.items()))
        assert all(e <= TOLERANCE for e in errs.values()), f"{name}: {who} disagrees with derive: {errs}"


def time_round_robin(funcs, repeats, target):
    """Median over `repeats` of the mean time of a batch of calls; the contestants take turns."""
    names = list(funcs)
    batch = {}
    for who in names:  # warm up, then size the batch from the fastest of three calls
        call = funcs[who][0]
        call()
        best = math.inf
        for _ in range(3):
            t0 = time.perf_counter()
            call()
            best = min(best, time.perf_counter() - t0)
        batch[who] = max(1, round(target / best))
    times = {who: [] for who in names}
    cpu = {who: [0.0, 0.0] for who in names}  # process CPU time and wall time over the timed batches
    for r in range(repeats):
        order = names[r % len(names):] + names[:r % len(names)]
        for who in order:
            call, n = funcs[who][0], batch[who]
            gc.collect()
            c0 = time.process_time()
            t0 = time.perf_counter()
            for _ in range(n):
                call()
            wall = time.perf_counter() - t0
            cpu[who][0] += time.process_time() - c0
            cpu[who][1] += wall
            times[who].append(wall / n)
    return ({who: statistics.median(v) for who, v in times.items()}, batch,
            {who: c / w for who, (c, w) in cpu.items()})


def pin_one_cpu():
    """Run the whole process, and every thread it starts, on one CPU; returns which (or None).

    One thread each for BLAS, PyTorch and XLA is not quite enough for JAX: with Eigen's threads off
    (XLA_FLAGS above), its compiled gradient still ran on both cores in about one run in five here
    (CPU time 1.8-1.96x the wall time at 784-128-10, N = 10^4), and a call to a small jitted
    function took 0.043 ms or 0.06-0.13 ms from one run to the next as its dispatch and compute
    threads landed on the same core or not; pinned to one CPU it took 0.043 ms every time.  The other
    contestants run on one thread anyway.  The timing loop still checks CPU time against wall time.
    """
    if not hasattr(os, "sched_setaffinity"):
        return None
    cpu = min(os.sched_getaffinity(0))
    os.sched_setaffinity(0, {cpu})
    return cpu


def versions():
    from threadpoolctl import threadpool_info
    blas = [f"{i.get('internal_api')} {i.get('version')}" for i in threadpool_info() if i.get("user_api") == "blas"]
    parts = [f"Python {platform.python_version()}", f"NumPy {np.__version__} ({', '.join(sorted(set(blas))) or 'BLAS ?'})"]
    for mod, label in (("torch", "PyTorch"), ("jax", "JAX"), ("jaxlib", "jaxlib")):
        try:
            parts.append(f"{label} {__import__(mod).__version__}")
        except Exception:  # noqa: BLE001
            parts.append(f"{label} not installed")
    from importlib.metadata import PackageNotFoundError, version
    for dist, label in (("tangent-ad", "tangent-ad"), ("autograd", "autograd")):
        try:
            parts.append(f"{label} {version(dist)}")
        except PackageNotFoundError:
            parts.append(f"{label} not installed")
    return ", ".join(parts)


def fmt_ms(s):
    ms = s * 1e3
    return f"{ms:.4f} ms" if ms < 0.01 else f"{ms:.3f} ms" if ms < 100 else f"{ms:.0f} ms"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="workload (1) only, 3 short repeats")
    ap.add_argument("--profile", action="store_true",
                    help="no race: derive's and the hand-written gradients timed statement by statement")
    args = ap.parse_args(argv)
    workloads = WORKLOADS[:1] if args.quick else WORKLOADS

    from threadpoolctl import threadpool_limits
    pinned = pin_one_cpu()
    rows, all_notes, alerts = [], {}, []
    with threadpool_limits(limits=1):
        print(versions() + "; 1 thread for BLAS, PyTorch and XLA; "
              + (f"the process pinned to CPU {pinned} of {os.cpu_count()}" if pinned is not None
                 else f"{os.cpu_count()} CPUs, not pinned")
              + f"; OPENBLAS_CORETYPE={os.environ.get('OPENBLAS_CORETYPE', '-')}")
        for name, sizes, acts, loss, n, repeats, target in workloads:
            if args.quick:
                repeats, target = 3, 0.02
            t0 = time.perf_counter()
            spec = spec_of(sizes, acts, loss)
            m = load_layers_module(spec)
            shapes = layer_form(spec).shapes()
            params, data = make_problem(sizes, loss, shapes, n)
            if args.profile:
                profile(name, n, m, acts, loss, params, data)
                continue
            print(f"\n{name}, N = {n}: shapes {shapes}")
            funcs, notes = contestants(m, acts, loss, params, data)
            reference = m.gradients(params, data)
            check(name, funcs, notes, reference)
            med, batch, cpu = time_round_robin(funcs, repeats, target)
            for who in funcs:
                print(f"    {who:13s} {fmt_ms(med[who]):>12s}  batch {batch[who]:5d}  cpu/wall {cpu[who]:.2f}"
                      + ("" if who == "derive" else f"  {med[who] / med['derive']:.2f}x derive"))
            print(f"  ({time.perf_counter() - t0:.1f} s)")
            rows.append((name, n, med))
            for who, ratio in cpu.items():
                if ratio > 1.25:
                    alerts.append(f"{name}, N = {n}: {who} used {ratio:.2f} s of CPU per second: "
                                    "more than one thread")
            for who, why in notes.items():
                all_notes.setdefault(who, why)

    if args.profile:
        return 0
    print("\nratios: the peer's time divided by derive's gradients() (above 1: derive is faster)\n")
    print("| network | N | derive gradients() | " + " | ".join(PEERS) + " | gradients() / loss() |")
    print("|---|---:|---:|" + "---:|" * len(PEERS) + "---:|")
    for name, n, med in rows:
        cells = [f"{med[p] / med['derive']:.2f}×" if p in med else "–" for p in PEERS]
        print(f"| {name} | {n:,} | {fmt_ms(med['derive'])} | " + " | ".join(cells)
              + f" | {med['derive'] / med['derive loss()']:.2f}× |")
    for who, why in all_notes.items():
        print(f"\n{who}: not run: {why}")
    for w in alerts:
        print(f"\nwarning: {w}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
