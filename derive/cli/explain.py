"""derive explain SPEC [-o DIR] [--format tex|pdf|md|html] [--param θ ...] [--no-numbers]: the derivation document."""

from __future__ import annotations

import argparse

from ..core.chain import derive
from ..core.spec import load
from ..explain.document import build
from ..explain.layers import build_layers
from ..explain.render import compile_pdf, render
from ..explain.web import render_page
from .base import UsageError, check_parameters, output_dir, write_files
from .codegen import add_form, form

HELP = "write the step-by-step derivation of every gradient as LaTeX (.tex), PDF, Markdown (.md) or a web page (.html)"


def add_arguments(p) -> None:
    p.add_argument("-o", "--output", metavar="DIR", help="directory to write into (default: output/<name>/)")
    p.add_argument("--format", "-f", choices=("tex", "pdf", "md", "html"), default="tex",
                   help="tex (default); pdf also writes the .tex and needs pdflatex; md is Markdown with $$ math; "
                        "html is one self-contained interactive page (diagram, paths, backward pass), offline")
    p.add_argument("--param", "-p", action="append", metavar="θ",
                   help="explain only this parameter's gradient (repeatable; default: all)")
    p.add_argument("--numbers", action=argparse.BooleanOptionalAction, default=True,
                   help="include the worked example at the spec's [values] and [data] (default: yes)")
    add_form(p, "the derivation in matrix notation, a few pages", "a section per parameter")


def run(args) -> int:
    spec = load(args.spec)
    out = output_dir(args, spec.name)
    if form(spec, args.form) == "layers":
        if args.format == "html":
            raise UsageError(f"{args.spec}: --format html: the web page shows the scalar derivation, a section per "
                             "parameter; add --form scalar")
        if args.param:
            raise UsageError(f"{args.spec}: --param {args.param[0]}: the layer form derives every parameter at once; "
                             "use --form scalar for one parameter's section")
        doc = build_layers(spec)
    else:
        d = derive(spec)
        check_parameters(args, d, "--param", args.param)
        doc = build(d, args.param, numbers=args.numbers)
    if args.format == "html":
        files = {f"{spec.name}.html": render_page(d, doc)}
    else:
        fmt = "md" if args.format == "md" else "tex"  # pdf: the .tex, then the .pdf from it
        files = {f"{spec.name}.{fmt}": render(fmt, doc)}
    if args.format == "pdf":
        files[f"{spec.name}.pdf"] = compile_pdf(files[f"{spec.name}.tex"], spec.name)
    for path in write_files({out / name: data for name, data in files.items()}):  # all or nothing
        print(f"wrote {path}")
    return 0
