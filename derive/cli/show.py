"""derive show SPEC [--param θ ...]: the derivation in the terminal."""

from __future__ import annotations

import sys

from ..core.chain import derive
from ..core.spec import load
from ..explain.terminal import pretty
from .base import check_parameters

HELP = "print every parameter's paths to the loss, chain-rule products, error signals and result"


def add_arguments(p) -> None:
    p.add_argument("--param", "-p", action="append", metavar="θ",
                   help="show only this parameter (repeatable)")


def run(args) -> int:
    d = derive(load(args.spec))
    check_parameters(args, d, "--param", args.param)
    sys.stdout.write(pretty(d, args.param))
    return 0
