"""Rendering a `Document` with the jinja2 templates, and compiling LaTeX to PDF.

The templates live in the top-level `templates/` directory of the source tree; an installed
derive carries them as the package data `derive.templates` (`derive.printing.templates.templates_dir`
finds them either way).  Delimiters do not collide with LaTeX braces:
``((* block *))``, ``((( variable )))``, ``((= comment =))``.

>>> import derive
>>> from derive.explain.document import build
>>> tex = render("tex", build(derive.derive(derive.load("examples/qa_chain.toml"))))
>>> tex.startswith("% qa_chain.tex") and r"\\begin{document}" in tex
True
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

from ..printing.templates import environment, templates_dir
from .document import Document
from .texmath import tex_text

__all__ = ["FORMATS", "UNICODE_TEX", "PdfError", "compile_pdf", "render", "templates_dir"]

FORMATS = {"tex": "explain.tex.j2", "md": "explain.md.j2"}  # output suffix -> template

# Characters that specs and the registries' notes use in plain text, as LaTeX (the .tex preamble
# declares each, so a title such as "x → h → y′" compiles with pdflatex).
UNICODE_TEX = {
    "σ": r"\ensuremath{\sigma}", "Σ": r"\ensuremath{\Sigma}", "δ": r"\ensuremath{\delta}",
    "θ": r"\ensuremath{\theta}", "α": r"\ensuremath{\alpha}", "∂": r"\ensuremath{\partial}",
    "−": r"\ensuremath{-}", "½": r"\ensuremath{\tfrac12}", "²": r"\ensuremath{^2}",
    "→": r"\ensuremath{\to}", "′": r"\ensuremath{'}", "·": r"\ensuremath{\cdot}",
    "×": r"\ensuremath{\times}", "≈": r"\ensuremath{\approx}", "≤": r"\ensuremath{\leq}",
    "≥": r"\ensuremath{\geq}", "…": r"\ldots{}",
}


class PdfError(Exception):
    """pdflatex is missing or failed; the message is one line for the user."""


def _tex(s: str) -> str:
    """Plain text for LaTeX: specials escaped, characters the preamble does not know replaced,
    and a formula in the text (t − y) kept on one line."""
    kept = re.sub(r" ([−+=×]) ", r"~\1~", tex_text(s))
    return "".join(c if ord(c) < 0x250 or c in UNICODE_TEX else "?" for c in kept)


def render(fmt: str, doc: Document) -> str:
    """The document as text in `fmt` ("tex" or "md")."""
    env = environment("tex")
    env.filters["tex"] = _tex
    env.filters["capitalize_first"] = lambda s: s[:1].upper() + s[1:]
    env.globals["unicode_tex"] = sorted((f"{ord(c):04X}", tex) for c, tex in UNICODE_TEX.items())
    return env.get_template(FORMATS[fmt]).render(doc=doc)


def compile_pdf(tex: str, name: str, runs: int = 2) -> bytes:
    """Compile LaTeX source to PDF bytes with pdflatex in a scratch directory.

    Two runs resolve the table of contents and page references.  SOURCE_DATE_EPOCH pins the
    PDF's dates and ID, so the same source gives the same bytes on one TeX installation.  Raises
    `PdfError` with a one-line message when pdflatex is missing or reports an error.
    """
    exe = shutil.which("pdflatex")
    if exe is None:
        raise PdfError("pdflatex not found: install TeX Live (e.g. apt-get install texlive-latex-base "
                       "texlive-latex-recommended texlive-pictures) or use --format tex")
    with tempfile.TemporaryDirectory(prefix="derive-tex-") as tmp:
        src = Path(tmp) / f"{name}.tex"
        src.write_text(tex, encoding="utf-8")
        for _ in range(runs):
            proc = subprocess.run([exe, "-interaction=nonstopmode", "-halt-on-error", src.name],
                                  cwd=tmp, capture_output=True, text=True, errors="replace", check=False,
                                  env={**os.environ, "SOURCE_DATE_EPOCH": "0", "FORCE_SOURCE_DATE": "1"})
            if proc.returncode != 0:
                log = (Path(tmp) / f"{name}.log")
                text = log.read_text(errors="replace") if log.exists() else proc.stdout
                first = next((line for line in text.splitlines() if line.startswith("!")), "unknown error")
                raise PdfError(f"pdflatex failed on {name}.tex: {first.lstrip('! ')}")
        return (Path(tmp) / f"{name}.pdf").read_bytes()
