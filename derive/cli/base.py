"""What every subcommand shares: one-line usage errors, checked parameter names, the output directory."""

from __future__ import annotations

from pathlib import Path

from .files import write_all


class UsageError(Exception):
    """A user's mistake on the command line (not in the spec): one line, exit status 2."""


def check_parameters(args, d, option: str, names) -> None:
    unknown = [p for p in names or () if p not in d.parameters]
    if unknown:
        raise UsageError(f"{args.spec}: {option} {unknown[0]}: not a parameter; "
                         f"parameters are {', '.join(d.parameters)}")


def output_dir(args, name: str) -> Path:
    """-o DIR, or output/<name>/; an existing file there is refused before anything is rendered."""
    out = Path(args.output) if args.output else Path("output") / name
    if out.exists() and not out.is_dir():
        raise UsageError(f"-o {out}: not a directory")
    return out


def write(path, data, what=None) -> Path:
    """`write_atomic`, a failure one line about `what` (default: the path)."""
    return write_files({path: data}, what)[0]


def write_files(files: dict, what=None) -> list[Path]:
    """Every path -> data of `files` written all or nothing; a failure one line about `what`
    (default: the first path)."""
    try:
        return write_all(files)
    except OSError as e:
        raise UsageError(f"{what or next(iter(files))}: cannot write: {e.strerror or e}") from None
