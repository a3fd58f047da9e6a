"""derive codegen SPEC [-o DIR]: write the network's standalone NumPy gradient module."""

from __future__ import annotations

from pathlib import Path

from ..codegen import module_source
from ..core.chain import derive
from ..core.spec import load
from .base import UsageError
from .files import write_atomic

HELP = "write <name>_gradients.py: the loss and every gradient in NumPy, vectorized over samples"


def add_arguments(p) -> None:
    p.add_argument("spec", metavar="SPEC", help="the network spec (TOML)")
    p.add_argument("-o", "--output", metavar="DIR",
                   help="directory to write into (default: output/<name>/)")


def run(args) -> int:
    spec = load(args.spec)
    out = Path(args.output) if args.output else Path("output") / spec.name
    if out.exists() and not out.is_dir():
        raise UsageError(f"-o {out}: not a directory")
    source = module_source(derive(spec))
    try:
        path = write_atomic(out / f"{spec.name}_gradients.py", source)
    except OSError as e:
        raise UsageError(f"{out}: cannot write: {e.strerror or e}") from None
    print(f"wrote {path}")
    return 0
