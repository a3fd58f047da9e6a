"""The array-API layer module (`derive codegen --backend array-api`): speed on each library, and
memory under `derive train --dask` on a data set larger than comfort.

    python bench/bench_arrays.py             # the race below at 784-128-10, N = 10^3 and 10^4 (about 2 minutes)
    python bench/bench_arrays.py --quick     # 2-2-2 and a few repeats (seconds; the test suite runs it)
    python bench/bench_arrays.py --cuda      # the race, plus PyTorch on CUDA where a GPU is present
    python bench/bench_arrays.py --memory    # 10^6 samples on disk, derive train --dask, peak memory

The race: one 784-128-10 sigmoid/softmax cross-entropy network (`[dense]`, one bias per neuron),
the same random parameters and data in float64, and these contestants, each computing ∂L/∂θ of
W1, b1, W2, b2:

- NumPy module:        the default module's `gradients()` (`--backend numpy`);
- array-API on NumPy:  the array-API module's `gradients()` on the same NumPy arrays;
- array-API on PyTorch: the same module on CPU tensors, against PyTorch autograd (the network's
  forward in eager PyTorch, `torch.log_softmax`, and `backward()`);
- array-API on JAX:    `jax.jit` of the same module's `gradients`, against `jax.jit(jax.grad(loss))`
  of the network written in jax.numpy.

Before timing, every contestant's gradients are checked against the NumPy module's (relative
1e-12 for the array-API module, 1e-8 for the autograds).  The contestants take turns within each
repeat (bench_layers.py's round robin: median over repeats of a batch's mean time), on one
thread each (threadpoolctl, torch.set_num_threads(1), XLA flags) and one CPU.

--memory: X (10^6 × 784 float64, 6.3 GB) and T (10^6 × 10) are written as zarr arrays of 10^4-row
chunks, chunk by chunk, in --dir (default /tmp/derive-bench-arrays; kept for the next run, --clean
removes it after); a LocalCluster of two worker processes (one thread each) is started, and
`derive train SPEC --dask --scheduler ADDRESS --data DIR --steps 3 --lr 0.2/N` runs in a fresh
interpreter (the loss is a sum over samples: a step of 0.2/N is 0.2 on the mean).
Printed: the peak resident memory (VmHWM) of that client and of each worker, and the time.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

# bench_layers sets XLA's one-thread flags before jax loads; its harness is reused as it is
import numpy as np
from bench_layers import fmt_ms, import_jax, make_problem, pin_one_cpu, spec_of, time_round_robin, versions

from derive.codegen import load_layers_module

LIMIT = 2 * 2**30  # the bound on each process's peak memory under --memory
WORKLOADS = (  # name, sizes, activations, loss, N, repeats, seconds per batch
    ("784-128-10 sigmoid/softmax", (784, 128, 10), ("sigmoid", "softmax"), "cross_entropy", 1000, 7, 0.3),
    ("784-128-10 sigmoid/softmax", (784, 128, 10), ("sigmoid", "softmax"), "cross_entropy", 10000, 3, 0.6),
)
QUICK = (("2-2-2 sigmoid/softmax", (2, 2, 2), ("sigmoid", "softmax"), "cross_entropy", 1000, 3, 0.03),)
KEYS = ("W1", "b1", "W2", "b2")


# -- the race --------------------------------------------------------------------------------------

def torch_autograd(torch, tp, tX, tT):
    """PyTorch's own gradient of the network: eager forward, log_softmax, backward()."""
    def grads():
        for v in tp.values():
            v.grad = None
        Z2 = torch.sigmoid(tX @ tp["W1"].T + tp["b1"]) @ tp["W2"].T + tp["b2"]
        (-(tT * torch.log_softmax(Z2, dim=1)).sum()).backward()
        return {k: v.grad for k, v in tp.items()}
    return grads


def contestants(m_np, m_xp, params, data, cuda):
    """name -> (call, gradients as NumPy); a library that is missing or fails -> notes."""
    out, notes = {}, {}
    out["NumPy module"] = (lambda: m_np.gradients(params, data), lambda g: g)
    out["array-API on NumPy"] = (lambda: m_xp.gradients(params, data), lambda g: g)
    try:
        import torch
        torch.set_num_threads(1)
        devices = ["cpu"] + (["cuda"] if cuda and torch.cuda.is_available() else [])
        if cuda and len(devices) == 1:
            notes["CUDA"] = "no CUDA device: the CUDA rows are left out"
        for dev in devices:
            tp = {k: torch.tensor(v, dtype=torch.float64, device=dev) for k, v in params.items()}
            td = {k: torch.tensor(v, dtype=torch.float64, device=dev) for k, v in data.items()}
            leaves = {k: v.clone().requires_grad_(True) for k, v in tp.items()}
            sync = torch.cuda.synchronize if dev == "cuda" else (lambda: None)
            label = "PyTorch" if dev == "cpu" else "PyTorch CUDA"
            out[f"array-API on {label}"] = (lambda tp=tp, td=td, sync=sync: (m_xp.gradients(tp, td), sync())[0],
                                            lambda g: {k: v.cpu().numpy() for k, v in g.items()})
            auto = torch_autograd(torch, leaves, td["X"], td["T"])
            out[f"{label} autograd"] = (lambda auto=auto, sync=sync: (auto(), sync())[0],
                                        lambda g: {k: v.cpu().numpy() for k, v in g.items()})
    except Exception as e:  # noqa: BLE001 -- reported, the others go on
        notes["PyTorch"] = f"{type(e).__name__}: {e}"
    try:
        jax = import_jax()
        import jax.numpy as jnp

        def jax_loss(p, X, T):
            Z2 = jax.nn.sigmoid(X @ p["W1"].T + p["b1"]) @ p["W2"].T + p["b2"]
            return -jnp.sum(T * jax.nn.log_softmax(Z2, axis=1))

        jp = {k: jnp.asarray(v) for k, v in params.items()}
        jd = {k: jnp.asarray(v) for k, v in data.items()}
        ours, theirs = jax.jit(m_xp.gradients), jax.jit(jax.grad(jax_loss))
        to_np = lambda g: {k: np.asarray(v) for k, v in g.items()}
        out["array-API on JAX (jit)"] = (lambda: jax.block_until_ready(ours(jp, jd)), to_np)
        out["JAX jit(grad)"] = (lambda: jax.block_until_ready(theirs(jp, jd["X"], jd["T"])), to_np)
    except Exception as e:  # noqa: BLE001
        notes["JAX"] = f"{type(e).__name__}: {e}"
    return out, notes


def check(funcs, reference):
    for who, (call, to_np) in funcs.items():
        g = to_np(call())
        tol = 1e-12 if who.startswith("array-API") else 1e-8
        err = max(float(np.max(np.abs(np.asarray(g[k]) - reference[k])) / np.max(np.abs(reference[k]))) for k in KEYS)
        print(f"    {who:26s} max relative difference {err:.1e} (tolerance {tol:g})")
        assert err <= tol, f"{who} disagrees with the NumPy module: {err}"


PAIRS = (  # (row label, ours, theirs)
    ("array-API on NumPy / NumPy module", "array-API on NumPy", "NumPy module"),
    ("array-API on PyTorch / PyTorch autograd", "array-API on PyTorch", "PyTorch autograd"),
    ("array-API jit on JAX / JAX jit(grad)", "array-API on JAX (jit)", "JAX jit(grad)"),
    ("array-API on CUDA / PyTorch CUDA autograd", "array-API on PyTorch CUDA", "PyTorch CUDA autograd"),
)


def race(workloads, cuda) -> None:
    cpu = pin_one_cpu()
    from threadpoolctl import threadpool_limits
    print(versions() + f"; one thread each, pinned to CPU {cpu}")
    rows = []
    with threadpool_limits(1):
        for name, sizes, activations, loss, n, repeats, target in workloads:
            spec = spec_of(sizes, activations, loss)
            m_np, m_xp = load_layers_module(spec), load_layers_module(spec, "array-api")
            params, data = make_problem(sizes, loss, m_np.SHAPES, n)
            print(f"{name}, N = {n:,}:")
            funcs, notes = contestants(m_np, m_xp, params, data, cuda)
            for who, note in notes.items():
                print(f"    {who}: {note}")
            check(funcs, m_np.gradients(params, data))
            times, _, load = time_round_robin(funcs, repeats, target)
            for who, busy in load.items():
                if busy > 1.25:
                    print(f"    warning: {who} used {busy:.2f}x its wall time in CPU time (more than one core)")
            for label, ours, theirs in PAIRS:
                if ours in times and theirs in times:
                    rows.append((name, n, label, times[ours], times[theirs]))
    print("\n| network | N | pair | ours | theirs | ours / theirs |\n|---|---:|---|---:|---:|---:|")
    for name, n, label, ours, theirs in rows:
        print(f"| {name} | {n:,} | {label} | {fmt_ms(ours)} | {fmt_ms(theirs)} | {ours / theirs:.2f}× |")


# -- --memory ----------------------------------------------------------------------------------------

def peak_rss() -> int:
    """This process's peak resident memory in bytes (VmHWM: it starts afresh at exec, where
    getrusage's ru_maxrss carries a forking parent's peak into the child)."""
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) * 1024 for line in f if line.startswith("VmHWM:"))


def write_data(folder: Path, n: int, rows: int) -> None:
    """X (n × 784, pixel-like) and one-hot T (n × 10) as zarr arrays, one chunk of rows at a time."""
    import zarr

    if (folder / "done").exists() and (folder / "done").read_text() == f"{n} {rows}\n":
        print(f"data: {folder} already holds {n:,} samples")
        return
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    rng = np.random.default_rng(0)
    t0 = time.perf_counter()
    X = zarr.create_array(store=str(folder / "X.zarr"), shape=(n, 784), chunks=(rows, 784), dtype="f8",
                          compressors=None)
    T = zarr.create_array(store=str(folder / "T.zarr"), shape=(n, 10), chunks=(rows, 10), dtype="f8",
                          compressors=None)
    for lo in range(0, n, rows):
        hi = min(lo + rows, n)
        X[lo:hi] = rng.random((hi - lo, 784))
        T[lo:hi] = np.eye(10)[rng.integers(0, 10, hi - lo)]
    (folder / "done").write_text(f"{n} {rows}\n")
    print(f"data: wrote {n:,} × 784 float64 ({n * 784 * 8 / 1e9:.1f} GB) in {time.perf_counter() - t0:.0f} s")


CLIENT = (  # the client: derive train in a fresh interpreter, then its own peak
    "import sys, time\nfrom derive.cli import main\nt0 = time.perf_counter()\nstatus = main(sys.argv[1:])\n"
    "print(f'seconds {time.perf_counter() - t0:.1f}')\n"
    "print('peak', next(int(l.split()[1]) * 1024 for l in open('/proc/self/status') if l.startswith('VmHWM:')))\n"
    "sys.exit(status)\n")


def memory(n: int, steps: int, folder: Path, clean: bool) -> int:
    from distributed import Client, LocalCluster

    write_data(folder, n, 10_000)
    spec = folder / "mnist_like.toml"
    spec.write_text('name = "mnist_like"\n[dense]\nsizes = [784, 128, 10]\nactivation = ["sigmoid", "softmax"]\n'
                    'bias = "per_neuron"\n[loss]\nkind = "cross_entropy"\n')
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0",
                      silence_logs=40) as cluster, Client(cluster) as client:
        cmd = [sys.executable, "-c", CLIENT, "train", str(spec), "--dask", "--data", str(folder),
               "--scheduler", cluster.scheduler_address, "--steps", str(steps), "--lr", f"{0.2 / n:g}"]
        r = subprocess.run(cmd, capture_output=True, text=True, check=False,
                           env={**os.environ, "PYTHONPATH": str(HERE.parent)})
        workers = client.run(peak_rss)
    print(r.stdout.strip())
    if r.returncode:
        print(r.stderr[-3000:], file=sys.stderr)
        return 1
    seconds = float(r.stdout.split("seconds ")[1].split()[0])
    client_peak = int(r.stdout.split("peak ")[1])
    print("\n| process | peak resident memory | under 2 GB |\n|---|---:|---|")
    for who, peak in [("client (derive train)", client_peak), *[(f"worker {a}", p) for a, p in sorted(workers.items())]]:
        print(f"| {who} | {peak / 2**20:,.0f} MiB | {'yes' if peak < LIMIT else 'NO'} |")
    print(f"\n{n:,} samples, {steps} steps and the final loss ({steps + 1} passes over the data) in {seconds:.0f} s: "
          f"{seconds / (steps + 1):.1f} s a pass on 2 workers")
    if clean:
        shutil.rmtree(folder)
    return 0 if max([client_peak, *workers.values()]) < LIMIT else 1


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="2-2-2 and a few repeats")
    ap.add_argument("--cuda", action="store_true", help="add PyTorch on CUDA where a GPU is present")
    ap.add_argument("--memory", action="store_true", help="derive train --dask on a chunked data set on disk")
    ap.add_argument("--n", type=int, default=1_000_000, help="samples for --memory (default 10^6)")
    ap.add_argument("--steps", type=int, default=3, help="training steps for --memory (default 3)")
    ap.add_argument("--dir", type=Path, default=Path("/tmp/derive-bench-arrays"), help="where --memory's data go")
    ap.add_argument("--clean", action="store_true", help="remove --memory's data afterwards")
    args = ap.parse_args(argv)
    if args.memory:
        return memory(args.n, args.steps, args.dir, args.clean)
    race(QUICK if args.quick else WORKLOADS, args.cuda)
    return 0


if __name__ == "__main__":
    sys.exit(main())
