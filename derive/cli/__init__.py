"""The `derive` command: parse arguments, run the pipeline, write files, report errors in one line.

    derive show SPEC [--param θ ...]        every parameter's paths, chain rule, δ form and result
    derive check SPEC 'EQUATION'            judge a learner's chain-rule equation
    derive codegen SPEC [-o DIR]            write the NumPy (or --backend array-api) gradient module
    derive train SPEC [--dask ...]          gradient descent on the spec's data (or on Dask chunks)
    derive explain SPEC [--format ...]      write the LaTeX / PDF / Markdown derivation
    derive build SPEC                       write everything into output/<name>/

Each subcommand is one module offering `add_arguments(parser)` (SPEC, which all take, comes first)
and `run(args) -> int`; a user's mistake (a bad spec, an unknown parameter) is one line on stderr, exit 2.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading

from ..core.spec import SpecError
from ..explain.render import PdfError
from . import build, check, codegen, explain, show, train
from .base import UsageError

# The subcommands, one module each, in the order `derive --help` lists them.
COMMANDS = {"show": show, "check": check, "codegen": codegen, "train": train, "explain": explain, "build": build}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        prog="derive",
        description="Derive, explain and code every gradient of a small neural network.",
    )
    parser.add_argument("--version", action="version", version=f"derive {_version()}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name, module in COMMANDS.items():
        p = sub.add_parser(name, help=module.HELP, description=module.HELP)
        p.add_argument("spec", metavar="SPEC", help=getattr(module, "SPEC_HELP", "the network spec (TOML)"))
        module.add_arguments(p)
        p.set_defaults(run=module.run)
    args = parser.parse_args(argv)
    # SIGTERM ends derive as an exception would: temporary files and pdflatex's folder are removed
    previous = signal.signal(signal.SIGTERM, _terminated) if threading.current_thread() is threading.main_thread() \
        else None
    try:
        status = args.run(args)
        sys.stdout.flush()  # inside the try: a closed pipe surfaces here, not at exit
        return status
    except SpecError as e:
        for line in e.lines():
            print(f"derive: {line}", file=sys.stderr)
        return 2
    except (UsageError, PdfError) as e:
        print(f"derive: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # the reader went away (derive show ... | head): stop quietly, as cat does
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 141
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


def _version() -> str:
    """The installed distribution's version (pyproject.toml's), or "unknown" for a bare checkout."""
    from importlib.metadata import PackageNotFoundError, version
    try:
        return version("derive")
    except PackageNotFoundError:
        return "unknown (not installed)"


def _terminated(signum, frame):
    raise SystemExit(128 + signum)
