"""derive's jinja2 templates: where they are, and the one Environment factory that loads them.

The templates live in the top-level `templates/` directory of the source tree; `pip install .`
ships that directory inside the package as `derive.templates` (see [tool.setuptools.package-dir]
in pyproject.toml), where `Path(__file__).parent.parent / "templates"` would not find it.

>>> (templates_dir() / "explain.tex.j2").is_file()
True
>>> environment("tex").variable_start_string, environment("py").variable_start_string
('(((', '{{')
"""

from __future__ import annotations

import importlib
from functools import cache
from pathlib import Path

import jinja2

__all__ = ["environment", "templates_dir"]

# Delimiters by the kind of text a template writes: LaTeX (and the Markdown beside it) is full of
# braces, so its templates use ((* block *)), ((( variable ))), ((= comment =)); Python source
# uses jinja2's own.
_DELIMITERS = {
    "tex": {"block_start_string": "((*", "block_end_string": "*))", "variable_start_string": "(((",
                "variable_end_string": ")))", "comment_start_string": "((=", "comment_end_string": "=))"},
    "py": {},
    "html": {},
}


@cache
def environment(kind: str) -> jinja2.Environment:
    """The Environment for templates of `kind` ("tex" for .tex and .md, "py" for Python, "html" for
    the web page): strict about undefined names, blocks trimmed, the trailing newline kept; nothing
    escaped but in HTML (the printers and the document model escape what they emit for LaTeX and
    Markdown; in HTML every value is escaped unless marked safe, as the MathML is)."""
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(templates_dir())), undefined=jinja2.StrictUndefined,
        trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True, autoescape=kind == "html",
        **_DELIMITERS[kind],
    )


def templates_dir() -> Path:
    """The directory holding the templates: the installed package data, else the source tree's templates/."""
    try:
        package = importlib.import_module("derive.templates")
    except ImportError:
        package = None  # a source checkout that is not installed: derive/ has no templates/ inside
    for entry in getattr(package, "__path__", ()):
        if (Path(entry) / "explain.tex.j2").is_file():
            return Path(entry)
    source = Path(__file__).resolve().parents[2] / "templates"
    if source.is_dir():
        return source
    raise FileNotFoundError("derive's templates are missing: reinstall derive (pip install .)")
