"""Writing output files whole or not at all: a temporary file beside the target, then a rename."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

__all__ = ["write_all", "write_atomic"]


def write_atomic(path, data: str | bytes) -> Path:
    """Write `data` to `path` so that a reader never sees a half-written file."""
    return write_all({path: data})[0]


def write_all(files: dict) -> list[Path]:
    """Write every path -> data of `files`, all or nothing: each to a temporary file beside its
    target first, and only when all are written, each renamed into place."""
    temps: list[tuple[str, Path]] = []
    try:
        for path, data in files.items():
            path = Path(path)
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
            temps.append((tmp, path))
            with os.fdopen(fd, "wb") as f:
                f.write(data.encode("utf-8") if isinstance(data, str) else data)
            os.chmod(tmp, 0o666 & ~_umask())
        for tmp, path in temps:
            os.replace(tmp, path)
    except BaseException:
        for tmp, _ in temps:
            if os.path.exists(tmp):
                os.unlink(tmp)
        raise
    return [path for _, path in temps]


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
