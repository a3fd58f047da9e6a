"""The CLI's subcommands: one module each, registered here in the order `derive --help` lists them."""

from __future__ import annotations

from . import build, check, codegen, explain, show, train
from .base import UsageError

__all__ = ["COMMANDS", "UsageError"]

COMMANDS = {
    "show": show,
    "check": check,
    "codegen": codegen,
    "train": train,
    "explain": explain,
    "build": build,
}
