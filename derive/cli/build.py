"""derive build SPEC [-o DIR]: every artifact of a spec, written into output/<name>/."""

from __future__ import annotations

import shutil

from ..codegen import module_source
from ..codegen.arrays import layers_source
from ..core.chain import derive
from ..core.spec import load
from ..explain.document import build as build_document
from ..explain.layers import build_layers
from ..explain.render import compile_pdf, render
from ..explain.web import render_page
from .base import output_dir, write_files
from .codegen import LAYER_FORM_FROM, add_form, form

HELP = ("write everything for a spec: the .tex and .md explanations, the web page (.html), the PDF (with pdflatex) "
        "and the NumPy module")


def add_arguments(p) -> None:
    p.add_argument("-o", "--output", metavar="DIR", help="directory to write into (default: output/<name>/)")
    add_form(p, "the documents in matrix notation and the module with array parameters",
             "a section per parameter and one number per weight")


def artifacts(d) -> dict[str, str]:
    """The generated text files of a derivation, by file name: what `output/<name>/` holds in git."""
    name = d.spec.name
    doc = build_document(d)
    module = layers_source(d.spec) if form(d.spec, None) == "layers" else module_source(d)
    return {f"{name}.tex": render("tex", doc), f"{name}.md": render("md", doc), f"{name}.html": render_page(d, doc),
            f"{name}_gradients.py": module}


def run(args) -> int:
    spec = load(args.spec)
    out = output_dir(args, spec.name)
    if form(spec, args.form) == "layers":  # matrix notation, array module
        doc = build_layers(spec)
        files: dict[str, str | bytes] = {f"{spec.name}.tex": render("tex", doc), f"{spec.name}.md": render("md", doc),
                                         f"{spec.name}_gradients.py": layers_source(spec)}
        if not (spec.layers and sum(len(n.inputs) for n in spec.neurons) > LAYER_FORM_FROM):
            # the web page is the per-weight derivation, which only a network this small gets
            files[f"{spec.name}.html"] = render_page((d := derive(spec)), build_document(d))
    else:
        files = dict(artifacts(derive(spec)))
    pdflatex = shutil.which("pdflatex")
    if pdflatex:
        files[f"{spec.name}.pdf"] = compile_pdf(files[f"{spec.name}.tex"], spec.name)
    for path in write_files({out / name: files[name] for name in sorted(files)}):  # all or nothing
        print(f"wrote {path}")
    if f"{spec.name}.html" not in files:
        print(f"skipped {spec.name}.html: the web page needs the scalar form, which a network this wide does not "
              f"get by default (derive explain {args.spec} --format html --form scalar)")
    if not pdflatex:
        print(f"skipped {spec.name}.pdf: pdflatex not found (install TeX Live, or run pdflatex on the .tex)")
    return 0
