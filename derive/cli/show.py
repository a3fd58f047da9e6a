"""derive show SPEC [--param θ ...] [--form layers|scalar]: the derivation in the terminal."""

from __future__ import annotations

import sys

from ..core.chain import derive
from ..core.spec import load
from ..explain.terminal import pretty
from .base import check_parameters
from .codegen import add_form, form, layered

HELP = "print every parameter's paths to the loss, chain-rule products, error signals and result"


def add_arguments(p) -> None:
    p.add_argument("--param", "-p", action="append", metavar="θ",
                   help="show only this parameter (repeatable; the per-weight form)")
    add_form(p, "the layer equations with shapes", "every parameter's paths")


def run(args) -> int:
    spec = load(args.spec)
    if form(spec, args.form or ("scalar" if args.param else None)) == "layers":
        sys.stdout.write(layered(spec, "--form layers").pretty())
        return 0
    d = derive(spec)
    check_parameters(args, d, "--param", args.param)
    sys.stdout.write(pretty(d, args.param))
    return 0
