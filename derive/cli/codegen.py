"""derive codegen SPEC [-o DIR] [--form layers|scalar] [--backend numpy|array-api]: write the network's
standalone gradient module (NumPy, or any array-API library for the layer form)."""

from __future__ import annotations

from ..codegen import module_source
from ..codegen.arrays import BACKENDS, layers_source
from ..core.chain import derive
from ..core.spec import load
from .base import UsageError, output_dir, write

HELP = "write <name>_gradients.py: the loss and every gradient in NumPy, vectorized over samples"

# A [dense] network with more weights than this gets the layer form unless --form says otherwise:
# past it, one named line per weight is more code than anyone reads (and slower than matrices).
LAYER_FORM_FROM = 1000


def add_arguments(p) -> None:
    p.add_argument("-o", "--output", metavar="DIR", help="directory to write into (default: output/<name>/)")
    p.add_argument("--form", choices=("layers", "scalar"),
                   help="layers: array parameters W1, b1, ... and one matrix product per layer ([dense] specs); "
                        f"scalar: one number per weight (default: layers for [dense] specs of more than "
                        f"{LAYER_FORM_FROM:,} weights, else scalar)")
    p.add_argument("--backend", choices=tuple(BACKENDS), default="numpy",
                   help="numpy (default): the module imports NumPy only; array-api: the layer form on the arrays "
                        "of any array-API library (NumPy, PyTorch, JAX, CuPy, Dask) through array_api_compat")


def form(spec, asked: str | None) -> str:
    """The form a module is written in: the one asked for, else by size."""
    weights = sum(len(n.inputs) for n in spec.neurons)
    if asked == "layers" and not spec.layers:
        raise UsageError(f"{spec.source}: --form layers needs a [dense] spec (this one lists [[neuron]] tables)")
    return asked or ("layers" if spec.layers and weights > LAYER_FORM_FROM else "scalar")


def source(spec, asked: str | None = None, backend: str = "numpy") -> str:
    if backend != "numpy":
        if asked == "scalar" or not spec.layers:
            raise UsageError(f"{spec.source}: --backend {backend} writes the layer form: it needs a [dense] spec "
                             "and --form layers (or no --form)")
        return layers_source(spec, backend)
    return layers_source(spec) if form(spec, asked) == "layers" else module_source(derive(spec))


def run(args) -> int:
    spec = load(args.spec)
    out = output_dir(args, spec.name)
    code = source(spec, args.form, args.backend)
    print(f"wrote {write(out / f'{spec.name}_gradients.py', code, what=out)}")
    return 0
