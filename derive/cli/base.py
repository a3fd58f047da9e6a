"""What every subcommand shares."""

from __future__ import annotations


class UsageError(Exception):
    """A user's mistake on the command line (not in the spec): one line, exit status 2."""
