"""How derivation time grows: with the number of edges, not the number of paths.

For dense tanh networks of growing width and depth, one run measures
  - derive(): the whole symbolic derivation (local partials, δ, validation), median of repeats;
  - the same per edge, which stays roughly flat if the work is linear in edges;
  - the number of paths from all parameters to the loss, which explodes with depth;
  - sympy.diff of the whole substituted loss with respect to the first weight, and the size
    (count_ops) of what it returns, for comparison: the naive route swells with the paths.

    python bench/bench_derive.py            # the table in bench/README.md, a couple of minutes
    python bench/bench_derive.py --quick    # two small networks, seconds

A second table times the written-out gradients: `d.gradient(θ)` for every parameter (each ∂L/∂θ
in inputs, targets and parameters only, by memoized substitution of the δ forms), against
derive() of the same network; the goal is at most 3× derive().
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import sympy as sp

import derive
from derive.core.graph import symbol

SIZES = [
    [2, 2, 2],
    [4, 4, 4, 4],
    [4, 8, 8, 4],
    [4, 8, 8, 8, 4],
    [4, 8, 8, 8, 8, 4],
    [4, 8, 8, 8, 8, 8, 4],
    [16, 16, 16, 1],
    [32, 32, 32, 1],
]
DIFF_PATH_LIMIT = 5000  # beyond this many paths from w1, sympy.diff of the whole loss is not attempted


def dense(sizes) -> derive.NetSpec:
    return derive.loads(f'name = "dense"\n[dense]\nsizes = {sizes}\nactivation = "tanh"\n'
                        'bias = "per_neuron"\n[loss]\nkind = "mse"\n')


def timed(fn, repeats: int) -> tuple[float, object]:
    times, out = [], None
    for _ in range(repeats):
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times), out


def row(sizes, repeats: int) -> dict:
    spec = dense(sizes)
    sp.core.cache.clear_cache()
    t_derive, d = timed(lambda: derive.derive(spec), repeats)
    edges = len(d.edges)
    paths_w1 = d.path_count("w1")
    paths_all = sum(d.path_count(p) for p in d.parameters)
    r = {"net": "-".join(map(str, sizes)), "params": len(d.parameters), "edges": edges,
         "paths_w1": paths_w1, "paths_all": paths_all, "derive": t_derive, "per_edge": t_derive / edges}
    if paths_w1 <= DIFF_PATH_LIMIT:
        loss = d.loss_expr()
        sp.core.cache.clear_cache()
        t_diff, g = timed(lambda: sp.diff(loss, symbol("w1")), 1)
        r.update(diff=t_diff, diff_ops=sp.count_ops(g), delta_ops=sp.count_ops(d.gradient_rule("w1")))
    return r


GRADIENT_SIZES = [[2, 2, 2], [6, 6, 6, 6, 1], [6, 6, 6, 6, 6, 6, 6, 6, 1]]


def gradient_row(sizes, repeats: int) -> dict:
    spec = derive.loads(f'name = "deep"\n[dense]\nsizes = {sizes}\nactivation = "tanh"\n'
                        '[loss]\nkind = "half_sse"\n')

    def written_out():
        d = derive.derive(spec)
        return [d.gradient(p) for p in d.parameters]

    sp.core.cache.clear_cache()
    t_derive, d = timed(lambda: derive.derive(spec), repeats)
    sp.core.cache.clear_cache()
    t_both, _ = timed(written_out, repeats)  # derive() again, then every gradient on the fresh record
    return {"net": "-".join(map(str, sizes)), "params": len(d.parameters), "derive": t_derive,
            "gradients": max(t_both - t_derive, 0.0)}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="two small networks only")
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args(argv)
    sizes = SIZES[:2] if args.quick else SIZES
    print("| network | params | edges | paths from w1 | paths, all parameters | derive() | per edge "
          "| sympy.diff of whole loss (w1) | its size (ops) |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for s in sizes:
        r = row(s, 1 if sum(s) > 40 else args.repeats)
        diff = f"{r['diff']:.2f} s" if "diff" in r else "not attempted"
        ops = f"{r['diff_ops']:,}" if "diff" in r else "–"
        print(f"| {r['net']} | {r['params']} | {r['edges']} | {r['paths_w1']:,} | {r['paths_all']:,} "
              f"| {r['derive']:.2f} s | {1e3 * r['per_edge']:.2f} ms | {diff} | {ops} |", flush=True)
    print()
    print("| tanh network | params | derive() | d.gradient(θ) for every θ | ratio |")
    print("|---|---:|---:|---:|---:|")
    for s in GRADIENT_SIZES[1:2] if args.quick else GRADIENT_SIZES:
        r = gradient_row(s, args.repeats)
        print(f"| {r['net']} | {r['params']} | {r['derive']:.3f} s | {r['gradients']:.3f} s "
              f"| {r['gradients'] / r['derive']:.2f}× |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
