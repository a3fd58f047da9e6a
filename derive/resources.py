"""Where derive's jinja2 templates are, in a source checkout and in an installed copy alike.

The templates live in the top-level `templates/` directory of the source tree; `pip install .`
ships that directory inside the package as `derive.templates` (see [tool.setuptools.package-dir]
in pyproject.toml), where `Path(__file__).parent.parent / "templates"` would not find it.

>>> (templates_dir() / "explain.tex.j2").is_file()
True
"""

from __future__ import annotations

import importlib
from pathlib import Path

__all__ = ["templates_dir"]


def templates_dir() -> Path:
    """The directory holding the templates: the installed package data, else the source tree's templates/."""
    try:
        package = importlib.import_module("derive.templates")
    except ImportError:
        package = None  # a source checkout that is not installed: derive/ has no templates/ inside
    for entry in getattr(package, "__path__", ()):
        if (Path(entry) / "explain.tex.j2").is_file():
            return Path(entry)
    source = Path(__file__).resolve().parent.parent / "templates"
    if source.is_dir():
        return source
    raise FileNotFoundError("derive's templates are missing: reinstall derive (pip install .)")
