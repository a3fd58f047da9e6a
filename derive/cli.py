"""The `derive` command: parse arguments, run the pipeline, write files, report errors in one line.

    derive show SPEC [--param θ ...]     every parameter's paths, chain rule, δ form and result

Each subcommand is one module offering `add_arguments(parser)` and `run(args) -> int`; a user's
mistake (a bad spec, an unknown parameter) is one line on stderr and exit status 2.
"""

from __future__ import annotations

import argparse
import sys

from .commands import COMMANDS, UsageError
from .spec import SpecError


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        prog="derive",
        description="Derive, explain and code every gradient of a small neural network.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name, module in COMMANDS.items():
        p = sub.add_parser(name, help=module.HELP, description=module.HELP)
        module.add_arguments(p)
        p.set_defaults(run=module.run)
    args = parser.parse_args(argv)
    try:
        return args.run(args)
    except SpecError as e:
        for line in e.lines():
            print(f"derive: {line}", file=sys.stderr)
        return 2
    except UsageError as e:
        print(f"derive: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
