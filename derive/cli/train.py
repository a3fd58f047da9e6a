"""derive train SPEC: gradient descent on the spec's [data] with the generated NumPy module.

With --dask, the layer form's array-API module on Dask arrays: the spec's [data], or with
--data DIR a data set on disk (chunked.py), each step one distributed reduction over the chunks,
on a dask.distributed cluster with --scheduler ADDRESS, else on Dask's local threads.
"""

from __future__ import annotations

import importlib
import io
import math
import re
import sys

import numpy as np

from ..codegen import load_layers_module, load_module
from ..core.chain import derive
from ..core.spec import Problem, SpecError, load
from . import chunked
from .base import UsageError, check_parameters, write
from .codegen import add_form, form, layered

HELP = "train the network on its [data] by gradient descent and print the fitted parameters"
SPEC_HELP = "the network spec (TOML) with [data]"

_BAR = 30  # characters in the terminal progress bar
_LINES = 10  # loss lines printed over a run when the output is not a terminal


def add_arguments(p) -> None:
    p.add_argument("--steps", type=int, metavar="N", help="number of steps (default: [train] steps)")
    p.add_argument("--learning-rate", "--lr", type=float, metavar="LR",
                   help="step size (default: [train] learning_rate)")
    p.add_argument("--seed", type=int, default=0,
                   help="seed for the random start of parameters without [values] (default 0)")
    p.add_argument("--freeze", action="append", metavar="θ", help="keep this parameter fixed (repeatable)")
    p.add_argument("--plot", metavar="PNG", help="write the loss curve to this image (needs matplotlib)")
    p.add_argument("--quiet", "-q", action="store_true", help="no progress output, only the result")
    add_form(p, "train the module with array parameters W1, b1, ...", "the per-weight module")
    p.add_argument("--dask", action="store_true",
                   help="train the layer form on Dask arrays, each step one reduction over the chunks of samples "
                        "(any layered network; needs pip install 'derive[dask]')")
    p.add_argument("--data", metavar="DIR",
                   help="with --dask: the data set on disk instead of [data]: DIR/X.zarr (or X.npy), (N, inputs), "
                        "and DIR/T.zarr (or T.npy), (N, targets), read chunk by chunk")
    p.add_argument("--scheduler", metavar="ADDRESS",
                   help="with --dask: the dask.distributed scheduler to run on (tcp://host:8786); "
                        "default: Dask's threads in this process")


class _Diverged(Exception):
    pass


def run(args) -> int:
    spec = load(args.spec)
    for option in ("data", "scheduler"):
        if getattr(args, option) and not args.dask:
            raise UsageError(f"--{option} {getattr(args, option)}: goes with --dask (data and schedulers of Dask)")
    if args.dask and args.form == "scalar":
        raise UsageError(f"{args.spec}: --dask trains the layer form: leave out --form scalar")
    if args.dask:
        layered(spec, "--dask")
    if args.dask:  # before anything imports them: the module, the data, the scheduler
        _need_dask(args.scheduler)
    if not spec.data and not args.data:
        raise SpecError(spec.source, [Problem("data", "missing: derive train needs a [data] table "
                                                      "with every input and target (or --dask --data DIR)")])
    steps = spec.train.steps if args.steps is None else args.steps
    lr = spec.train.learning_rate if args.learning_rate is None else args.learning_rate
    if steps < 0:
        raise UsageError(f"--steps {steps}: expected a whole number of steps, 0 or more")
    if not (lr > 0 and math.isfinite(lr)):
        raise UsageError(f"--learning-rate {args.learning_rate}: expected a positive number")
    plt = _pyplot() if args.plot else None
    frozen = args.freeze or []
    client, files = None, {}
    if args.dask or form(spec, args.form) == "layers":  # array parameters, no per-weight derivation
        lf = layered(spec, "--form layers")
        unknown = [p for p in frozen if p not in lf.parameters]
        if unknown:
            raise UsageError(f"{args.spec}: --freeze {unknown[0]}: not an array parameter; "
                             f"the layer form's parameters are {', '.join(lf.parameters)}")
        m = load_layers_module(spec, "array-api" if args.dask else "numpy")
        loss_name = spec.loss.name
        if args.data:  # read (its shapes checked) before anything is printed
            data, files = chunked.open_data(args.data, spec.inputs, lf.targets)
        else:
            columns = dict(spec.data)
            data = {"X": np.array([columns[x] for x in spec.inputs], dtype=float).T,
                    "T": np.array([columns[t] for t in lf.targets], dtype=float).T}
        if args.dask:
            data = _dask_arrays(data)
            client = _client(args.scheduler)
        start = {k: np.array(v) for k, v in lf.arrays(_start(spec.parameters, spec, args.seed)).items()}
    else:
        start = _start(spec.parameters, spec, args.seed)
        d = derive(spec)
        check_parameters(args, d, "--freeze", frozen)
        m, loss_name = load_module(d), d.loss
        data = {k: np.array(v) for k, v in spec.data}
    progress = _Progress(steps, quiet=args.quiet)
    try:
        with np.errstate(over="ignore", invalid="ignore"):  # a diverging run is reported below, once
            params, history = m.train(start, data, lr, steps, callback=progress, freeze=frozen)
            history = [float(v) for v in history]
    except _Diverged as e:
        progress.close()
        print(f"derive: {args.spec}: {e}", file=sys.stderr)
        return 1
    except ValueError as e:  # the module's own word on a non-finite loss
        progress.close()
        bad = re.match(r"data\['([XT])'\]: (.*)", str(e))
        if bad and bad.group(1) in files:  # NaN or inf in a --data file: the file's fault, named
            raise UsageError(f"{files[bad.group(1)]}: {bad.group(2)}") from None
        print(f"derive: {args.spec}: {e}", file=sys.stderr)
        return 1
    finally:
        if client is not None:
            client.close()
    progress.close()
    _report(loss_name, start, params, history, steps, lr, frozen)
    if plt is not None:
        _plot(plt, history, loss_name, spec.name, args.plot)
        print(f"wrote {args.plot}")
    return 0


def _need_dask(scheduler: str | None) -> None:
    """The libraries of --dask, or a UsageError saying which one is missing and what to install."""
    names = ("array_api_compat", "dask", "dask.array") + (("distributed",) if scheduler else ())
    for name in names:  # array_api_compat: the generated array-API module imports it
        try:
            importlib.import_module(name)
        except ImportError as e:
            missing = (e.name or name).split(".")[0]
            raise UsageError(f"--dask needs dask, array_api_compat{' and distributed' * bool(scheduler)} "
                             f"({missing} is not installed): pip install 'derive[dask]'") from None


def _dask_arrays(data: dict) -> dict:
    """The spec's [data] as Dask arrays (one chunk), or the chunked arrays of --data as they are."""
    import dask.array as da

    return {k: v if isinstance(v, da.Array) else da.from_array(v) for k, v in data.items()}


def _client(address: str | None):
    """A dask.distributed Client of `address` (then the active scheduler), or None: Dask's threads."""
    if not address:
        return None
    from distributed import Client  # (there: _need_dask)

    try:
        return Client(address, timeout="20s")
    except (OSError, TimeoutError, ValueError) as e:
        raise UsageError(f"--scheduler {address}: cannot connect: {chunked.first_line(e)}") from None


def _start(parameters, spec, seed: int) -> dict:
    """The spec's [values]; parameters without one start uniformly in [-1, 1] from `seed` (the same
    numbers in either form: the layer form's arrays are made from them)."""
    values = dict(spec.values)
    missing = [p for p in parameters if p not in values]
    values.update(zip(missing, np.random.default_rng(seed).uniform(-1.0, 1.0, len(missing)).tolist()))
    if missing:
        print(f"{len(missing)} parameter{'s' * (len(missing) != 1)} without [values] start at random "
              f"(seed {seed})", file=sys.stderr)
    return values


class _Progress:
    """Train callback: a bar on a terminal, a loss line now and then otherwise, nothing if quiet."""

    def __init__(self, steps: int, quiet: bool, stream=None):
        self.steps, self.quiet = steps, quiet
        self.stream = stream or sys.stderr
        self.tty = self.stream.isatty()
        self.every = max(1, steps // (200 if self.tty else _LINES))
        self.drawn = False

    def __call__(self, k: int, loss: float, params: dict) -> None:
        if not math.isfinite(loss):
            raise _Diverged(f"the loss became {loss} after {k} steps; try a smaller --learning-rate")
        if self.quiet or (k % self.every and k != self.steps):
            return
        if self.tty:
            done = _BAR * k // max(1, self.steps)
            self.stream.write(f"\rstep {k:>{len(str(self.steps))}}/{self.steps} "
                              f"[{'#' * done}{'.' * (_BAR - done)}] loss {loss:.6g}")
            self.drawn = True
        else:
            self.stream.write(f"step {k}/{self.steps}: loss {loss:.9g}\n")
        self.stream.flush()

    def close(self) -> None:
        if self.drawn:
            self.stream.write("\n")
            self.drawn = False


def _report(loss, start, params, history, steps, lr, frozen) -> None:
    width = max(len(p) for p in params)
    print(f"{loss}: {history[0]:.9g} -> {history[-1]:.9g} after {steps} step{'s' * (steps != 1)} "
          f"at learning rate {lr:g}")
    for p in params:
        note = "  (frozen)" if p in frozen else ""
        if np.ndim(params[p]):  # an array of the layer form: its shape and how far it moved
            moved = float(np.linalg.norm(np.asarray(params[p]) - np.asarray(start[p])))
            print(f"  {p:<{width}}  shape {np.shape(params[p])}, moved {moved:.6g} (Frobenius norm){note}")
        else:
            print(f"  {p:<{width}}  {float(start[p]):>+.9f} -> {float(params[p]):>+.9f}{note}")


def _pyplot():
    try:
        import matplotlib
    except ImportError:
        raise UsageError("--plot needs matplotlib, which is not installed: "
                         "pip install 'derive[plot]' (or pip install matplotlib)") from None
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _plot(plt, history, loss: str, name: str, path: str) -> None:
    fig, ax = plt.subplots(figsize=(6, 4))
    ax.plot(range(len(history)), history)
    if min(history) > 0 and max(history) / min(history) > 100:
        ax.set_yscale("log")
    ax.set(xlabel="step", ylabel=loss, title=f"{name}: {loss} during training")
    ax.grid(True, alpha=0.3)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100, metadata={"Software": None})
    plt.close(fig)
    write(path, buf.getvalue(), what=f"--plot {path}")
