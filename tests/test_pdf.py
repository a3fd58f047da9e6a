"""Every bundled example's .tex compiles with pdflatex -halt-on-error, and nothing runs off the page.

Two checks of the compiled PDF: pdflatex's log has no error and no overfull box wider than a few
points, and no word of text (pdftotext -bbox) lies outside the text block.  The second catches
displayed equations too wide for the page, which TeX does not always report as overfull.

Skips when pdflatex (or pdftotext) is missing, and FAILS instead when DERIVE_REQUIRE_TEX=1
(.ci/run sets it, after installing TeX Live and poppler-utils).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = sorted((ROOT / "examples").glob("*.toml"))
OVERFULL_PT = 3.0  # an overfull box wider than this is a layout fault, not a rounding
# A4 with margin=2.2cm (the template's geometry), in PostScript points as pdftotext reports them
LEFT, RIGHT, SLACK = 2.2 / 2.54 * 72, 595.276 - 2.2 / 2.54 * 72, 3.0


def _need(tool: str) -> str:
    exe = shutil.which(tool)
    if exe is None:
        if os.environ.get("DERIVE_REQUIRE_TEX") == "1":
            pytest.fail(f"{tool} not found but DERIVE_REQUIRE_TEX=1: install TeX Live and poppler-utils")
        pytest.skip(f"{tool} not installed")
    return exe


def compile_tex(tex: Path, workdir: Path) -> tuple[Path, str]:
    """pdflatex -halt-on-error on a copy of `tex`; returns the PDF and the log."""
    exe = _need("pdflatex")
    src = workdir / tex.name
    shutil.copy(tex, src)
    proc = subprocess.run([exe, "-interaction=nonstopmode", "-halt-on-error", src.name], cwd=workdir,
                          capture_output=True, text=True, errors="replace", check=False)
    log = src.with_suffix(".log").read_text(errors="replace")
    errors = [line for line in log.splitlines() if line.startswith("!")]
    assert proc.returncode == 0 and not errors, f"{tex.name}: {errors[:3] or proc.stdout[-2000:]}"
    return src.with_suffix(".pdf"), log


def overfull(log: str) -> list[str]:
    return [m.group(0) for m in re.finditer(r"Overfull \\[hv]box \(([\d.]+)pt too \w+\)[^\n]*", log)
            if float(m.group(1)) > OVERFULL_PT]


def outside_margins(pdf: Path) -> list[tuple[int, str, float, float]]:
    """Words whose box lies outside the text block: (page, word, xMin, xMax)."""
    html = subprocess.run([_need("pdftotext"), "-bbox", str(pdf), "-"], capture_output=True, text=True,
                          check=True).stdout
    bad, page = [], 0
    for line in html.splitlines():
        page += "<page " in line
        m = re.search(r'<word xMin="([\d.]+)" yMin="[\d.]+" xMax="([\d.]+)" yMax="[\d.]+">(.*)</word>', line)
        if m and (float(m.group(1)) < LEFT - SLACK or float(m.group(2)) > RIGHT + SLACK):
            bad.append((page, m.group(3), float(m.group(1)), float(m.group(2))))
    return bad


@pytest.mark.parametrize("spec", EXAMPLES, ids=lambda p: p.stem)
def test_example_compiles_and_stays_within_the_margins(spec, tmp_path):
    tex = ROOT / "output" / spec.stem / f"{spec.stem}.tex"
    pdf, log = compile_tex(tex, tmp_path)
    assert not overfull(log), f"{tex.name}: {overfull(log)[:3]}"
    assert not outside_margins(pdf), f"{tex.name}: text outside the margins: {outside_margins(pdf)[:5]}"


def test_the_margin_check_sees_an_equation_that_runs_off_the_page(tmp_path):
    """The checks above can fail: a display too wide for the page is caught."""
    tex = tmp_path / "src" / "wide.tex"
    tex.parent.mkdir()
    tex.write_text("\\documentclass[11pt]{article}\\usepackage[a4paper,margin=2.2cm]{geometry}"
                   "\\usepackage{amsmath}\\begin{document}\\begin{align*}x &= "
                   + " + ".join(f"a_{{{k}}} b_{{{k}}}" for k in range(40)) + "\\end{align*}\\end{document}\n")
    pdf, _ = compile_tex(tex, tmp_path)
    assert outside_margins(pdf)


def test_explain_format_pdf_writes_a_pdf(tmp_path):
    _need("pdflatex")
    from derive.cli import main

    assert main(["explain", str(ROOT / "examples" / "qa_chain.toml"), "-o", str(tmp_path), "--format", "pdf"]) == 0
    assert (tmp_path / "qa_chain.pdf").read_bytes().startswith(b"%PDF")
    assert (tmp_path / "qa_chain.tex").exists()
