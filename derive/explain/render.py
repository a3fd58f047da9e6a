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
import signal
import subprocess
import tempfile
from pathlib import Path

from ..printing.templates import environment, templates_dir
from .document import Document
from .texmath import tex_text

__all__ = ["FORMATS", "UNICODE_TEX", "PdfError", "compile_pdf", "render", "templates_dir"]

FORMATS = {"tex": "explain.tex.j2", "md": "explain.md.j2"}  # output suffix -> template
LAYER_FORMATS = {"tex": "explain_layers.tex.j2", "md": "explain_layers.md.j2"}  # the same, in matrix form

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


_MD_SPECIAL = {c: "\\" + c for c in "\\`*_[]#|~"} | {"<": "&lt;", ">": "&gt;", "&": "&amp;"}


def _md_escape(s: str) -> str:
    """Markdown's specials and HTML's escaped, the spacing kept."""
    return "".join(_MD_SPECIAL.get(c, c) for c in s)


def _md(s: str) -> str:
    """A user's plain text (a title, a file name) for Markdown: no markup, no HTML, one line.

    >>> _md("<script>alert(1)</script> *x*")
    '&lt;script&gt;alert(1)&lt;/script&gt; \\\\*x\\\\*'
    """
    return _md_escape(" ".join(s.split()))


def _prose(escape):
    r"""A filter for derive's own sentences with math: the text between `$…$` spans escaped by
    `escape`, the spans kept as LaTeX math (in Markdown too: GitHub and KaTeX read `$…$`).

    >>> print(_prose(_tex)("for $z > 0$ and 0_x otherwise"))
    for $z > 0$ and 0\_x otherwise
    """
    def prose(s: str) -> str:
        parts = s.split("$")
        return "$".join(part if k % 2 else escape(part) if part.strip() else part for k, part in enumerate(parts))
    return prose


def _comment(s: str) -> str:
    """Text inside an HTML comment: it cannot close the comment."""
    return " ".join(s.split()).replace("--", "- -").replace(">", "&gt;")


def _code(s: str) -> str:
    """Text as a Markdown code span (shown as typed, never as markup or HTML)."""
    s = " ".join(s.split()).replace("`", "'")
    return f"`{s}`"


def render(fmt: str, doc: Document) -> str:
    """The document as text in `fmt` ("tex" or "md")."""
    env = environment("tex")
    env.filters["tex"] = _tex
    env.filters["md"] = _md
    env.filters["comment"] = _comment
    env.filters["code"] = _code
    env.filters["prose_tex"] = _prose(_tex)
    env.filters["prose_md"] = _prose(_md_escape)
    env.filters["capitalize_first"] = lambda s: s[:1].upper() + s[1:]
    env.globals["unicode_tex"] = sorted((f"{ord(c):04X}", tex) for c, tex in UNICODE_TEX.items())
    template = FORMATS[fmt] if isinstance(doc, Document) else LAYER_FORMATS[fmt]  # or a LayerDocument
    return env.get_template(template).render(doc=doc)


TEX_SECONDS = int(os.environ.get("DERIVE_TEX_SECONDS", "600"))  # one pdflatex run may take this long


def _tex_env() -> dict:
    """pdflatex's environment: no shell escape, files read and written only in its own folder,
    fixed dates (SOURCE_DATE_EPOCH pins the PDF's dates and ID: same source, same bytes)."""
    return {**os.environ, "SOURCE_DATE_EPOCH": "0", "FORCE_SOURCE_DATE": "1", "openin_any": "p",
            "openout_any": "p", "shell_escape": "f"}


def _die_with_parent() -> None:  # runs in the child before pdflatex starts
    try:
        import ctypes

        ctypes.CDLL(None).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG: killed when derive is
    except (OSError, AttributeError):
        pass  # not Linux: the time limit still ends it


MAX_RUNS = 5  # pdflatex runs before a document whose page numbers keep moving is given up on
# what LaTeX, longtable and rerunfilecheck write when the page numbers have not settled yet
RERUN = re.compile(r"Rerun to get|Label\(s\) may have changed|rerun LaTeX|Rerun LaTeX")


def compile_pdf(tex: str, name: str) -> bytes:
    """Compile LaTeX source to PDF bytes (see `typeset`)."""
    return typeset(tex, name)[0]


def typeset(tex: str, name: str) -> tuple[bytes, str]:
    """The PDF of LaTeX source and pdflatex's last log, from runs in a sandboxed scratch directory.

    pdflatex runs until a run reads the labels and contents it writes (each run reads what the
    one before wrote; the contents page itself moves the sections after it, so most documents
    take three runs), at most MAX_RUNS times.  It runs with -no-shell-escape, may open files
    only in its scratch folder (openin_any=p), is stopped after TEX_SECONDS, and dies with
    derive; the folder is removed even when derive is stopped with SIGTERM (the CLI turns it
    into an exit).  Raises `PdfError` with a one-line message when pdflatex is missing, fails
    or runs out of time.
    """
    exe = shutil.which("pdflatex")
    if exe is None:
        raise PdfError("pdflatex not found: install TeX Live (e.g. apt-get install texlive-latex-base "
                       "texlive-latex-recommended texlive-pictures) or use --format tex")
    with tempfile.TemporaryDirectory(prefix="derive-tex-") as tmp:
        src = Path(tmp) / f"{name}.tex"
        src.write_text(tex, encoding="utf-8")
        log = Path(tmp) / f"{name}.log"
        notes = [Path(tmp) / f"{name}.{ext}" for ext in ("aux", "toc")]
        before = None
        for run in range(1, MAX_RUNS + 1):
            try:
                proc = subprocess.run([exe, "-no-shell-escape", "-interaction=nonstopmode", "-halt-on-error",
                                       src.name], cwd=tmp, capture_output=True, text=True, errors="replace",
                                      check=False, env=_tex_env(), timeout=TEX_SECONDS, stdin=subprocess.DEVNULL,
                                      preexec_fn=_die_with_parent)
            except subprocess.TimeoutExpired:
                raise PdfError(f"pdflatex took more than {TEX_SECONDS} s on {name}.tex and was stopped "
                               "(set DERIVE_TEX_SECONDS to allow more)") from None
            text = log.read_text(errors="replace") if log.exists() else proc.stdout
            if proc.returncode != 0:
                first = next((line for line in text.splitlines() if line.startswith("!")), "unknown error")
                raise PdfError(f"pdflatex failed on {name}.tex: {first.lstrip('! ')}")
            # settled when the labels and the contents read in came out the same (LaTeX asks for a
            # rerun for labels only: a contents line moved by the contents itself goes unreported)
            after = [f.read_bytes() if f.exists() else b"" for f in notes]
            if after == before and not RERUN.search(text):
                break
            before = after
        return (Path(tmp) / f"{name}.pdf").read_bytes(), text
