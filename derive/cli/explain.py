"""derive explain SPEC [-o DIR] [--format tex|pdf|md] [--param θ ...] [--no-numbers]: the derivation document."""

from __future__ import annotations

import argparse
from pathlib import Path

from ..core.chain import derive
from ..core.spec import load
from ..explain.document import build
from ..explain.render import PdfError, compile_pdf, render
from .base import UsageError
from .files import write_atomic

HELP = "write the step-by-step derivation of every gradient as LaTeX (.tex), PDF or Markdown (.md)"


def add_arguments(p) -> None:
    p.add_argument("spec", metavar="SPEC", help="the network spec (TOML)")
    p.add_argument("-o", "--output", metavar="DIR", help="directory to write into (default: output/<name>/)")
    p.add_argument("--format", "-f", choices=("tex", "pdf", "md"), default="tex",
                   help="tex (default); pdf also writes the .tex and needs pdflatex; md is Markdown with $$ math")
    p.add_argument("--param", "-p", action="append", metavar="θ",
                   help="explain only this parameter's gradient (repeatable; default: all)")
    p.add_argument("--numbers", action=argparse.BooleanOptionalAction, default=True,
                   help="include the worked example at the spec's [values] and [data] (default: yes)")


def output_dir(args, name: str) -> Path:
    out = Path(args.output) if args.output else Path("output") / name
    if out.exists() and not out.is_dir():
        raise UsageError(f"-o {out}: not a directory")
    return out


def write(path: Path, data) -> Path:
    try:
        return write_atomic(path, data)
    except OSError as e:
        raise UsageError(f"{path}: cannot write: {e.strerror or e}") from None


def run(args) -> int:
    spec = load(args.spec)
    d = derive(spec)
    unknown = [p for p in args.param or () if p not in d.parameters]
    if unknown:
        raise UsageError(f"{args.spec}: --param {unknown[0]}: not a parameter; "
                         f"parameters are {', '.join(d.parameters)}")
    out = output_dir(args, spec.name)
    doc = build(d, args.param, numbers=args.numbers)
    if args.format == "md":
        files = {f"{spec.name}.md": render("md", doc)}
    else:
        tex = render("tex", doc)
        files = {f"{spec.name}.tex": tex}
        if args.format == "pdf":
            try:
                files[f"{spec.name}.pdf"] = compile_pdf(tex, spec.name)
            except PdfError as e:
                raise UsageError(str(e)) from None
    for name, data in files.items():  # everything is rendered before anything is written
        print(f"wrote {write(out / name, data)}")
    return 0
