"""The CLI's subcommands: one module each, registered here in the order `derive --help` lists them."""

from __future__ import annotations


class UsageError(Exception):
    """A user's mistake on the command line (not in the spec): one line, exit status 2."""


from . import build, check, codegen, explain, show, train  # noqa: E402

COMMANDS = {
    "show": show,
    "check": check,
    "codegen": codegen,
    "train": train,
    "explain": explain,
    "build": build,
}
