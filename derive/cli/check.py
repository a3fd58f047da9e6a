"""derive check SPEC [EQUATION | --file F | < F]: judge a learner's chain-rule equation."""

from __future__ import annotations

import sys

from ..check import check
from ..check.parse import MAX_LENGTH, EquationError
from ..core.chain import derive
from ..core.spec import load
from .base import UsageError

HELP = ("judge a chain-rule equation ∂L/∂θ = Σ Π ∂a/∂b (LaTeX) against the network: "
        "exit 0 if correct, 1 if not (saying why), 2 if it cannot be read")


def add_arguments(p) -> None:
    p.add_argument("equation", metavar="EQUATION", nargs="?",
                   help=r"the equation in LaTeX, e.g. '\frac{\partial L}{\partial w_1} = ...' "
                        "(quote it; '-' or nothing reads standard input)")
    p.add_argument("--file", "-f", metavar="F", help="read the equation from this file")


def _read(args) -> tuple[str, str]:
    """(the equation's text, what to call it in an error message)."""
    if args.file is not None:
        if args.equation is not None:
            raise UsageError("give the equation either as an argument or with --file, not both")
        try:
            with open(args.file, encoding="utf-8") as f:  # a bounded read: --file /dev/zero ends
                return f.read(MAX_LENGTH + 1), args.file
        except (OSError, UnicodeDecodeError) as e:
            raise UsageError(f"{args.file}: cannot read: {getattr(e, 'strerror', None) or e}")
    if args.equation is not None and args.equation != "-":
        return args.equation, "equation"
    if sys.stdin is None or sys.stdin.isatty():
        raise UsageError("give the equation as an argument, with --file F, or on standard input")
    return sys.stdin.read(MAX_LENGTH + 1), "<stdin>"


def run(args) -> int:
    text, source = _read(args)
    d = derive(load(args.spec))
    try:
        verdict = check(d, text)
    except EquationError as e:
        raise UsageError(f"{source}: cannot read the equation: {e}")
    sys.stdout.write(str(verdict))
    return 0 if verdict.correct else 1
