"""derive codegen SPEC [-o DIR]: write the network's standalone NumPy gradient module."""

from __future__ import annotations

from ..codegen import module_source
from ..core.chain import derive
from ..core.spec import load
from .base import output_dir, write

HELP = "write <name>_gradients.py: the loss and every gradient in NumPy, vectorized over samples"


def add_arguments(p) -> None:
    p.add_argument("-o", "--output", metavar="DIR", help="directory to write into (default: output/<name>/)")


def run(args) -> int:
    spec = load(args.spec)
    out = output_dir(args, spec.name)
    source = module_source(derive(spec))
    print(f"wrote {write(out / f'{spec.name}_gradients.py', source, what=out)}")
    return 0
