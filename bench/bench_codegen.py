"""How fast is the generated gradients()?  Against hand-written NumPy backprop, PyTorch autograd
and the generated forward pass, on the examples and on dense networks, at N = 10^3 and 10^5.

    python bench/bench_codegen.py            # the full table (a few minutes)
    python bench/bench_codegen.py --big      # and 784-128-10 at N = 10^3 and 10^4 (about 6 more minutes)
    python bench/bench_codegen.py --quick    # one small network, N = 1000 (a smoke test)

Every number in one table comes from one run on one machine; each is the median over repeats
of the mean time of a batch of calls.  Before timing, the three gradients are checked against
each other (relative 1e-8), so the table never compares wrong code.

The hand-written reference is what a person writes for a layered network in NumPy: per layer
Z = S @ W + b, A = f(Z) forward; dZ = dA · f'(Z), dW = Sᵀ dZ, dS = dZ Wᵀ backward, with shared
parameters summed by np.bincount.  It takes its inputs as one (N, k) matrix and its parameters
as one vector (the conversion is not timed); the generated module takes dicts (timed).  Both use
the same stable activation formulas (derive/activations.py).  PyTorch runs the same layered
forward in float64 on the CPU and `backward()`.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

# One BLAS thread for every contestant (set before NumPy loads): on a busy machine OpenBLAS's
# threads make single calls erratic.  --threads changes it for the next run.
_threads = next((a.split("=")[1] for a in sys.argv if a.startswith("--threads=")), "1")
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = _threads

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import derive
from derive.codegen import load_module, module_source
from derive.codegen.matrix import layers

EXAMPLES = ("qa_chain", "mazur", "softplus", "skip")
DENSE = ((8, 8, 1), (16, 16, 16, 1), (32, 32, 32, 1), (64, 64, 64, 1))  # 784-128-10: see bench/README.md


def dense_spec(sizes, activation="tanh"):
    act = ("[" + ", ".join(f'"{a}"' for a in activation) + "]") if isinstance(activation, list) else f'"{activation}"'
    return derive.loads(f'name = "dense_{"_".join(map(str, sizes))}"\n[dense]\nsizes = {list(sizes)}\n'
                        f'activation = {act}\nbias = "per_neuron"\n[loss]\nkind = "mse"\n')


# -- the hand-written reference: layered NumPy backprop ----------------------------------------

def _sigmoid(z):
    return 0.5 * (1.0 + np.tanh(0.5 * z))


NP_ACT = {  # f(z), f'(z, a): the registry's stable forms, written out
    "identity": (lambda z: z, None),
    "sigmoid": (_sigmoid, lambda z, a: a * (1.0 - a)),
    "tanh": (np.tanh, lambda z, a: 1.0 - a * a),
    "softplus": (lambda z: np.logaddexp(0.0, z), lambda z, a: _sigmoid(z)),
}


class Layered:
    """A spec as layers of neurons at the same depth: index matrices into one parameter vector."""

    def __init__(self, spec):
        self.spec = spec
        self.params = spec.parameters
        index = {p: i for i, p in enumerate(self.params)}
        depth = {x: 0 for x in spec.inputs}
        for n in spec.neurons:
            depth[n.name] = 1 + max(depth[s] for s, _ in n.inputs)
        self.layers = []
        for level in range(1, max(depth.values()) + 1):
            neurons = [n for n in spec.neurons if depth[n.name] == level]
            sources = list(dict.fromkeys(s for n in neurons for s, _ in n.inputs))
            w = np.full((len(sources), len(neurons)), -1)
            for j, n in enumerate(neurons):
                for s, p in n.inputs:
                    w[sources.index(s), j] = index[p]
            b = np.array([index[n.bias] if n.bias else -1 for n in neurons])
            (act,) = {n.activation for n in neurons}
            self.layers.append(([n.name for n in neurons], sources, w, b, act))
        self.outputs = [o for o, _ in spec.loss.outputs]

    def columns(self, values, names):
        """The matrix of these named columns: a layer's own matrix when they are exactly its outputs."""
        for layer_names, matrix in values["__layers__"]:
            if layer_names == names:
                return matrix
        return np.stack([values[n] for n in names], axis=1)

    def scatter(self, ds, sources, delta_layers, delta_columns):
        """Add the δ of these source columns: as a whole matrix when they are one layer's outputs."""
        if any(names == list(sources) for names, *_ in self.layers):
            key = tuple(sources)
            delta_layers[key] = ds if key not in delta_layers else delta_layers[key] + ds
            return
        for i, src in enumerate(sources):
            if src not in self.spec.inputs:
                delta_columns[src] = delta_columns.get(src, 0) + ds[:, i]

    def gradients(self, theta, x, t):
        """Loss gradient as a parameter vector; x is (N, inputs), t is (N, outputs)."""
        ext = np.append(theta, 0.0)  # index -1 reads a fixed zero
        values = {name: x[:, i] for i, name in enumerate(self.spec.inputs)}
        values["__layers__"] = [(list(self.spec.inputs), x)]
        saved = []
        for names, sources, w, b, act in self.layers:
            s = self.columns(values, sources)
            z = s @ ext[w] + ext[b]
            a = NP_ACT[act][0](z)
            values["__layers__"].append((names, a))
            values.update({n: a[:, j] for j, n in enumerate(names)})
            saved.append((s, z, a))
        y = self.columns(values, self.outputs)
        kind, n, k = self.spec.loss.kind, x.shape[0], y.shape[1]
        dy = (y - t) * {"half_sse": 1.0, "sse": 2.0, "mse": 2.0 / (k * n)}[kind]
        delta_layers = {}  # a layer's names -> δ of its whole output matrix
        delta_columns = {}  # a node -> δ of its column, for sources that are not a whole layer
        self.scatter(dy, self.outputs, delta_layers, delta_columns)
        gtheta = np.zeros(len(theta) + 1)
        slots = len(gtheta)
        for (names, sources, w, b, act), (s, z, a) in zip(reversed(self.layers), reversed(saved)):
            da = delta_layers.pop(tuple(names), None)
            da = np.zeros_like(a) if da is None else da
            for j, name in enumerate(names):
                if name in delta_columns:
                    da[:, j] += delta_columns.pop(name)
            slope = NP_ACT[act][1]
            dz = da if slope is None else da * slope(z, a)
            gtheta += np.bincount((w % slots).ravel(), (s.T @ dz).ravel(), slots)
            gtheta += np.bincount(b % slots, dz.sum(axis=0), slots)
            if not all(src in self.spec.inputs for src in sources):
                self.scatter(dz @ ext[w].T, sources, delta_layers, delta_columns)
        return gtheta[:-1]


# -- the same layered forward in PyTorch -------------------------------------------------------

def torch_gradients_fn(lay: Layered, torch):
    acts = {"identity": lambda z: z, "sigmoid": torch.sigmoid, "tanh": torch.tanh,
            "softplus": lambda z: torch.logaddexp(torch.zeros_like(z), z)}

    tensors = {}  # converted once: the inputs and index matrices are not what is timed

    def run(theta_np, x_np, t_np):
        if not tensors:
            tensors["x"] = torch.from_numpy(x_np)
            tensors["t"] = torch.from_numpy(t_np)
            tensors["w"] = [torch.from_numpy(w % (len(theta_np) + 1)) for _, _, w, _, _ in lay.layers]
            tensors["b"] = [torch.from_numpy(b % (len(theta_np) + 1)) for _, _, _, b, _ in lay.layers]
        theta = torch.tensor(theta_np, dtype=torch.float64, requires_grad=True)
        ext = torch.cat([theta, torch.zeros(1, dtype=torch.float64)])
        x = tensors["x"]
        values = {name: x[:, i] for i, name in enumerate(lay.spec.inputs)}
        mats = [(list(lay.spec.inputs), x)]
        for (names, sources, _, _, act), w, b in zip(lay.layers, tensors["w"], tensors["b"]):
            s = next((m for ln, m in mats if ln == sources), None)
            if s is None:
                s = torch.stack([values[n] for n in sources], dim=1)
            a = acts[act](s @ ext[w] + ext[b])
            mats.append((names, a))
            values.update({n: a[:, j] for j, n in enumerate(names)})
        y = next((m for ln, m in mats if ln == lay.outputs), None)
        if y is None:
            y = torch.stack([values[o] for o in lay.outputs], dim=1)
        sq = (tensors["t"] - y) ** 2
        loss = {"half_sse": lambda: 0.5 * sq.sum(), "sse": sq.sum, "mse": sq.mean}[lay.spec.loss.kind]()
        loss.backward()
        return theta.grad.numpy()

    return run


# -- timing -----------------------------------------------------------------------------------

def median_times(fns: dict, repeats: int, budget: float) -> dict:
    """Median seconds per call of each function; the repeats take turns, so that a change in the
    machine's load falls on every contestant alike."""
    calls = {}
    for name, fn in fns.items():
        fn()  # warm up
        start = time.perf_counter()
        fn()
        calls[name] = max(1, int(budget / max(time.perf_counter() - start, 1e-7)))
    times = {name: [] for name in fns}
    for _ in range(repeats):
        for name, fn in fns.items():
            start = time.perf_counter()
            for _ in range(calls[name]):
                fn()
            times[name].append((time.perf_counter() - start) / calls[name])
    return {name: statistics.median(t) for name, t in times.items()}


def generate(spec) -> tuple:
    """The derivation and the compiled module, with how long each stage took."""
    start = time.perf_counter()
    d = derive.derive(spec)
    derived = time.perf_counter()
    source = module_source(d)
    written = time.perf_counter()
    m = load_module(d)
    stages = {"derive": derived - start, "module_source": written - derived,
              "lines": source.count("\n"), "code": "matrix" if layers(d) else "scalar"}
    return d, m, stages


def bench(spec, d, m, n: int, repeats: int, budget: float, torch, rng) -> dict:
    lay = Layered(spec)
    params = {p: float(v) for p, v in zip(d.parameters, rng.uniform(-0.5, 0.5, len(d.parameters)))}
    data = {x: rng.uniform(-1, 1, n) for x in spec.inputs}
    data.update({t: rng.uniform(-1, 1, n) for t in spec.targets})
    theta = np.array([params[p] for p in d.parameters])
    x = np.stack([data[i] for i in spec.inputs], axis=1)
    t = np.stack([data[k] for k in spec.targets], axis=1)
    ours = np.array(list(m.gradients(params, data).values()))
    ref = lay.gradients(theta, x, t)
    scale = np.abs(ref).max()
    assert np.allclose(ours, ref, rtol=1e-8, atol=1e-12 * scale), "generated and hand-written disagree"
    fns = {
        "gradients": lambda: m.gradients(params, data),
        "forward": lambda: m.loss(params, data),
        "hand": lambda: lay.gradients(theta, x, t),
    }
    if torch is not None:
        fn = torch_gradients_fn(lay, torch)
        assert np.allclose(fn(theta, x, t), ref, rtol=1e-8, atol=1e-12 * scale), "PyTorch disagrees"
        fns["torch"] = lambda: fn(theta, x, t)
    row = median_times(fns, repeats, budget)
    return row


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="one small network at N = 1000 (smoke test)")
    ap.add_argument("--big", action="store_true",
                    help="add 784-128-10 (sigmoid, identity outputs) at N = 1000 and 10000: about 6 more minutes")
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("--threads", type=int, default=1, help="BLAS and PyTorch threads (give as --threads=N)")
    args = ap.parse_args(argv)
    try:
        import torch

        torch.set_num_threads(args.threads)
    except ImportError:
        torch = None
    rng = np.random.default_rng(0)
    if args.quick:
        runs = [(derive.load(ROOT / "examples" / "qa_chain.toml"), (1000,), 3)]
        budget = 0.01
    else:
        nets = [derive.load(ROOT / "examples" / f"{e}.toml") for e in EXAMPLES] + [dense_spec(s) for s in DENSE]
        runs = [(spec, (1000, 100000), args.repeats) for spec in nets]
        if args.big:  # 10^5 samples of 784 inputs would be 0.6 GB per copy of the data
            runs.append((dense_spec((784, 128, 10), ["sigmoid", "identity"]), (1000, 10000), 3))
        budget = 0.05
    print(f"NumPy {np.__version__}" + (f", PyTorch {torch.__version__} (float64, CPU)" if torch else ", no PyTorch")
          + f"; {args.threads} thread{'s' * (args.threads != 1)} for BLAS and PyTorch")
    print()
    print("| network | params | N | gradients() | forward (loss()) | hand-written | PyTorch "
          "| vs hand-written | vs PyTorch | vs forward |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    made = []
    for spec, sizes, repeats in runs:
        d, m, stages = generate(spec)
        made.append((spec.name, len(spec.parameters), stages))
        for n in sizes:
            start = time.perf_counter()
            r = bench(spec, d, m, n, repeats, budget, torch, rng)
            tt = r.get("torch")
            vs_torch = f"{r['gradients'] / tt:.2f}×" if tt else "–"
            print(f"| {spec.name} | {len(spec.parameters)} | {n:.0e} | {ms(r['gradients'])} | {ms(r['forward'])} "
                  f"| {ms(r['hand'])} | {ms(tt) if tt else '–'} | {r['gradients'] / r['hand']:.2f}× "
                  f"| {vs_torch} | {r['gradients'] / r['forward']:.2f}× |", flush=True)
            print(f"  ({spec.name}, N={n}: {time.perf_counter() - start:.1f} s)", file=sys.stderr)
    print()
    print("| network | params | code | derive() | module_source() | lines |")
    print("|---|---:|---|---:|---:|---:|")
    for name, params, st in made:
        print(f"| {name} | {params} | {st['code']} | {st['derive']:.2f} s | {st['module_source']:.2f} s "
              f"| {st['lines']} |")
    return 0


def ms(seconds: float) -> str:
    return f"{seconds * 1e3:.3f} ms" if seconds < 0.1 else f"{seconds * 1e3:.0f} ms"


if __name__ == "__main__":
    sys.exit(main())
