"""derive codegen SPEC [-o DIR] [--form layers|scalar] [--backend numpy|array-api]: write the network's
standalone gradient module (NumPy, or any array-API library for the layer form)."""

from __future__ import annotations

from ..codegen import module_source
from ..codegen.arrays import BACKENDS, layers_source
from ..core.chain import derive
from ..core.layers import NotLayered, layering
from ..core.spec import load
from .base import UsageError, output_dir, write

HELP = "write <name>_gradients.py: the loss and every gradient in NumPy, vectorized over samples"

# A [dense] or [[layer]] network with more weights than this gets the layer form unless --form says otherwise:
# past it, one named line per weight is more code than anyone reads (and slower than matrices).
LAYER_FORM_FROM = 1000


def add_arguments(p) -> None:
    p.add_argument("-o", "--output", metavar="DIR", help="directory to write into (default: output/<name>/)")
    add_form(p, "array parameters W1, b1, ... and one matrix product per layer", "one number per weight")
    p.add_argument("--backend", choices=tuple(BACKENDS), default="numpy",
                   help="numpy (default): the module imports NumPy only; array-api: the layer form on the arrays "
                        "of any array-API library (NumPy, PyTorch, JAX, CuPy, Dask) through array_api_compat")


def add_form(p, layers: str, scalar: str, default: str = "") -> None:
    """--form, the same choice in every subcommand: what `layers` and `scalar` give in this one."""
    p.add_argument("--form", choices=("layers", "scalar"),
                   help=f"layers: {layers} (any layered network: [dense], [[layer]], or [[neuron]] tables that fall "
                        f"into layers); scalar: {scalar} (default: {default or 'layers for [dense] and [[layer]] specs of more than '}"
                        + ("" if default else f"{LAYER_FORM_FROM:,} weights, else scalar") + ")")


def form(spec, asked: str | None) -> str:
    """The form a spec's outputs take: the one asked for, else by size.  Any layered network has the
    layer form ([dense] and [[layer]] specs, and [[neuron]] tables that fall into layers); it is the
    default for those that say they are layers and have more than LAYER_FORM_FROM weights."""
    weights = sum(len(n.inputs) for n in spec.neurons)
    if asked == "layers":
        layered(spec, "--form layers")
    return asked or ("layers" if spec.layers and weights > LAYER_FORM_FROM else "scalar")


def layered(spec, option: str):
    """The spec's layer form, or one line saying which neuron breaks the layering."""
    try:
        return layering(spec)
    except NotLayered as e:
        raise UsageError(f"{spec.source}: {option}: no layer form: {e}") from None


def source(spec, asked: str | None = None, backend: str = "numpy") -> str:
    if backend != "numpy":
        if asked == "scalar":
            raise UsageError(f"{spec.source}: --backend {backend} writes the layer form: leave out --form scalar")
        layered(spec, f"--backend {backend}")
        return layers_source(spec, backend)
    return layers_source(spec) if form(spec, asked) == "layers" else module_source(derive(spec))


def run(args) -> int:
    spec = load(args.spec)
    out = output_dir(args, spec.name)
    code = source(spec, args.form, args.backend)
    print(f"wrote {write(out / f'{spec.name}_gradients.py', code, what=out)}")
    return 0
