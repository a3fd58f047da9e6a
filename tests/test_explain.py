"""derive explain / derive build and the document model behind them (derive/document.py, worked.py,
tikz.py, texmath.py, latex.py): what a reader of the .tex and .md finds, read back out of the files.

The worked example's numbers are parsed out of the rendered text and compared with
`derive.evaluate` (an independent exact evaluation) and, for the classic 2-2-2 network, with the
published step-by-step values.
"""

from __future__ import annotations

import math
import os
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

import derive
from derive.check import check
from derive.cli import main
from derive.cli.build import artifacts
from derive.core.derivation import Factor, delta_symbol
from derive.explain.document import MAX_PATHS_LISTED, build
from derive.explain.render import render
from derive.printing import LatexPrinter, latex_factor

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = sorted((ROOT / "examples").glob("*.toml"))
FORMATS = ("tex", "md")


def _derivation(name: str):
    return derive.derive(derive.load(ROOT / "examples" / f"{name}.toml"))


@pytest.fixture(scope="module")
def rendered():
    """{(example, format): text}, rendered once for the module."""
    out = {}
    for spec in EXAMPLES:
        doc = build(derive.derive(derive.load(spec)))
        for fmt in FORMATS:
            out[(spec.stem, fmt)] = render(fmt, doc)
    return out


# -- reading the worked example back -----------------------------------------------------------

_NUMBER = r"-?\d+(?:\.\d+)?(?: \\times 10\^\{-?\d+\})?"
_BLOCK = re.compile(r"\\begin\{(align\*|aligned|gather\*|gathered)\}\n(.*?)\\end\{\1\}", re.DOTALL)


def _float(s: str) -> float:
    m = re.fullmatch(r"(-?[\d.]+)(?: \\times 10\^\{(-?\d+)\})?", s.strip())
    assert m, f"not a number: {s!r}"
    return float(m.group(1)) * (10 ** int(m.group(2)) if m.group(2) else 1)


def _final(rhs: str) -> float:
    m = re.search(rf"= ({_NUMBER})\s*$", rhs)
    assert m, f"a worked-example line that does not end in a number: {rhs!r}"
    return _float(m.group(1))


def _equations(chunk: str) -> dict[str, float]:
    """Every 'lhs = ... = number' of the aligned and gathered displays in `chunk`, by lhs."""
    found: dict[str, float] = {}
    for kind, body in _BLOCK.findall(chunk):
        rows = [r for r in re.split(r"\s*\\\\\s*\n", body.strip()) if r.strip()]
        if kind.startswith("align"):
            chains: list[list[str]] = []  # [lhs, rhs of each row]: a chain broken over rows
            for row in rows:
                left, _, right = row.partition("&")
                if left.strip():
                    chains.append([left.strip()])
                chains[-1].append(right)
            for lhs, *rights in chains:
                found[lhs] = _final(rights[-1])
        else:
            for row in rows:
                for item in row.split(r", \qquad "):
                    found[item.split(" = ")[0].strip()] = _final(item)
    return found


def _sections(text: str, fmt: str) -> dict:
    """The worked example cut into: starting values, each sample, the data-set totals, the update table."""
    heading = {"tex": r"\section{A worked example with numbers}", "md": "## A worked example with numbers"}[fmt]
    body = text[text.rindex(heading):]
    sub = r"\\subsection\{(.*?)\}" if fmt == "tex" else r"^### (.*)$"
    parts = re.split(sub, body, flags=re.MULTILINE)
    out = {"start": _equations(parts[0]), "samples": [], "totals": {}, "update": {}}
    for title, chunk in zip(parts[1::2], parts[2::2]):
        if title.startswith("Sample"):
            out["samples"].append(_equations(chunk))
        elif title.startswith("Over the data set"):
            out["totals"] = _equations(chunk)
        elif title.startswith("The update"):
            row = r"^\|? ?\$?(.+?)\$? (?:&|\|) (.+?) (?:&|\|) (.+?) (?:&|\|) (.+?) (?:&|\|) (.+?) (?:\\\\|\|)$"
            for m in re.finditer(row, chunk, re.MULTILINE):
                if re.fullmatch(_NUMBER, m.group(2).strip()):
                    out["update"][m.group(1).strip()] = tuple(_float(m.group(k)) for k in range(2, 6))
    if not out["samples"]:  # one sample: its displays sit under the section itself
        out["samples"] = [out.pop("start")]
        out["start"] = out["samples"][0]
    return out


def _expected(d, numbers):
    """What the worked example must show, by the lhs LaTeX a reader sees, from derive.evaluate."""
    spec = d.spec
    p = LatexPrinter(dict(spec.latex))
    leaves = set(spec.inputs) | set(spec.targets)
    samples = []
    for s in numbers.samples:
        want = {p.name(eq.name): s.values[eq.name] for eq in d.equations}
        want |= {latex_factor(Factor(e.dst, e.src), p): s.partials[(e.dst, e.src)]
                 for e in d.edges if e.src not in leaves}
        want |= {p.name(delta_symbol(dl.node).name): s.deltas[dl.node] for dl in d.deltas if not dl.is_loss}
        want |= {latex_factor(Factor(d.loss, q), p): s.gradients[q] for q in d.parameters}
        samples.append(want)
    totals = {p.name(d.loss): numbers.loss} | {latex_factor(Factor(d.loss, q), p): numbers.gradients[q]
                                                for q in d.parameters}
    lr = numbers.learning_rate
    update = {p.name(q): (dict(spec.values)[q], numbers.gradients[q], lr * numbers.gradients[q],
                          numbers.updated[q]) for q in d.parameters}
    return samples, totals, update


def _close(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=2e-8, abs_tol=1e-15)


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("spec", EXAMPLES, ids=lambda p: p.stem)
def test_every_number_of_the_worked_example_is_the_derivation_evaluated(spec, fmt, rendered):
    d = derive.derive(derive.load(spec))
    numbers = derive.evaluate(d)
    got = _sections(rendered[(spec.stem, fmt)], fmt)
    samples, totals, update = _expected(d, numbers)
    assert len(got["samples"]) == len(samples)
    for k, (shown, want) in enumerate(zip(got["samples"], samples)):
        missing = set(want) - set(shown)
        assert not missing, f"sample {k + 1}: not shown: {sorted(missing)[:5]}"
        for lhs, value in want.items():
            assert _close(shown[lhs], value), f"sample {k + 1}: {lhs} shows {shown[lhs]}, evaluates to {value}"
    if len(samples) > 1:
        assert set(totals) <= set(got["totals"])
        for lhs, value in totals.items():
            assert _close(got["totals"][lhs], value), f"over the data set: {lhs}"
    assert set(got["update"]) == set(update)
    for name, row in update.items():
        for shown, value in zip(got["update"][name], row):
            assert _close(shown, value), f"update of {name}: {got['update'][name]} vs {row}"


# Matt Mazur's "A Step by Step Backpropagation Example" (2015), the classic 2-2-2 worked example.
PUBLISHED = {"E_total": 0.298371109, "dE/dw5": 0.082167041, "dE/dw1": 0.000438568,
             "w5 after": 0.35891648, "w1 after": 0.149780716}


@pytest.mark.parametrize("fmt", FORMATS)
def test_the_classic_2_2_2_example_agrees_with_the_published_values(fmt, rendered):
    got = _sections(rendered[("mazur", fmt)], fmt)
    sample = got["samples"][0]

    def published(shown: float, value: float) -> bool:
        places = len(repr(value).split(".")[1])
        return round(shown, places) == value

    assert published(sample[r"E_{\mathrm{total}}"], PUBLISHED["E_total"])
    assert published(sample[r"\frac{\partial E_{\mathrm{total}}}{\partial w_{5}}"], PUBLISHED["dE/dw5"])
    assert published(sample[r"\frac{\partial E_{\mathrm{total}}}{\partial w_{1}}"], PUBLISHED["dE/dw1"])
    assert published(got["update"]["w_{5}"][3], PUBLISHED["w5 after"])
    assert published(got["update"]["w_{1}"][3], PUBLISHED["w1 after"])
    # the step is the article's form: derivative × learning rate, subtracted from the old value
    old, grad, step, new = got["update"]["w_{5}"]
    assert _close(step, grad * 0.5) and _close(new, old - step)


def test_the_reader_parses_what_it_should():
    """The number reader itself: a broken chain's value is on its last row; packed lines split."""
    tex = ("\\begin{align*}\nx &= a + b \\\\\n&\\quad + c = 0.5 \\\\\ny &= 1 \\times 10^{-3}\n\\end{align*}\n"
           "\\begin{gather*}\np = q = 2, \\qquad r = 3\n\\end{gather*}\n")
    assert _equations(tex) == {"x": 0.5, "y": 0.001, "p": 2.0, "r": 3.0}


# -- what the document says ----------------------------------------------------------------------


def test_mazur_w1_two_paths_chain_rule_and_delta_form(rendered):
    tex = rendered[("mazur", "tex")]
    section = tex[tex.index(r"\subsection{The gradient of $w_{1}$}"):tex.index(r"\subsection{The gradient of $w_{2}$}")]
    assert r"\textbf{2 paths}" in section
    assert section.count(r"\textcolor{pathA}") >= 2 and section.count(r"\textcolor{pathB}") >= 2
    # the two products of the seed answer, through o1 and through o2
    assert (r"\frac{\partial \mathit{net}_{o1}}{\partial h_{1}} \, \frac{\partial o_{1}}{\partial \mathit{net}_{o1}}"
            in section)
    assert (r"\frac{\partial \mathit{net}_{o2}}{\partial h_{1}} \, \frac{\partial o_{2}}{\partial \mathit{net}_{o2}}"
            in section)
    # local derivatives from the edges' display forms, the loss's with its sign and no stray 2
    assert r"\frac{\partial E_{\mathrm{total}}}{\partial o_{1}} = - (t_{1} - o_{1})" in section
    assert r"\frac{\partial h_{1}}{\partial \mathit{net}_{h1}} = h_{1} \, \left(1 - h_{1}\right)" in section
    assert r"= i_{1} \, \delta_{\mathit{net}_{h1}}" in section
    # the seed Q&A's mistake: ∂w7/∂h1 is named as meaningless, and appears nowhere else
    assert r"\paragraph{Not a factor.}" in section
    wrong = r"\frac{\partial w_{5}}{\partial h_{1}}"
    assert wrong in section.split(r"\paragraph{Not a factor.}")[1]
    assert wrong not in section.split(r"\paragraph{Not a factor.}")[0]
    assert r"\frac{\partial w_{7}}{\partial h_{1}}" in section.split(r"\paragraph{Not a factor.}")[1]  # the seed's
    assert tex.count(r"\paragraph{Not a factor.}") == 1


def test_each_error_signal_is_defined_once(rendered):
    d = _derivation("mazur")
    p = LatexPrinter()
    tex = rendered[("mazur", "tex")]
    deltas = tex[tex.index(r"\section{Error signals}"):tex.index(r"\section{The gradient of each parameter}")]
    for dl in d.deltas:
        if not dl.is_loss:
            lhs = p.name(delta_symbol(dl.node).name) + " = "
            assert deltas.count(lhs) == 1, lhs


def test_softplus_local_derivatives_read_like_the_article(rendered):
    tex = rendered[("softplus", "tex")]
    assert r"\frac{\partial y_{1}}{\partial x_{1}} = \frac{e^{x_{1}}}{1 + e^{x_{1}}}" in tex
    # the 2 of the square, explicit
    assert (r"\frac{\partial \mathrm{SSR}}{\partial \mathit{predicted}} = "
            r"- 2 \, \left(\mathit{observed} - \mathit{predicted}\right)") in tex
    assert r"\text{step}_{w_{1}} &= \frac{\partial \mathrm{SSR}}{\partial w_{1}} \times \alpha" in tex
    assert r"w_{1}^{\text{new}} &= w_{1} - \text{step}_{w_{1}}" in tex


def test_many_paths_are_summarized_not_listed(rendered):
    d = _derivation("skip")
    tex = rendered[("skip", "tex")]
    many = [p for p in d.parameters if len(d.paths(p)) > MAX_PATHS_LISTED]
    assert many, "skip.toml should have parameters with many paths"
    sections = tex.split(r"\subsection{The gradient of ")[1:]
    assert len(sections) == len(d.parameters)
    for p, section in zip(d.parameters, sections):
        chain = section[section.index(r"\paragraph{Chain rule.}"):section.index(r"\paragraph{Local derivatives.}")]
        products = chain.count(r"\textcolor{path")
        if p in many:
            assert products == 2 and r"\cdots" in chain, p
        else:
            assert products == len(d.paths(p)), p


def test_param_and_numbers_options_shape_the_document():
    d = _derivation("mazur")
    tex = render("tex", build(d, ["w1", "b2"], numbers=False))
    assert tex.count(r"\subsection{The gradient of") == 2
    assert "A worked example" not in tex
    assert tex.count(r"\text{step}_{") == 2 * len(d.parameters)  # the update is shown for every parameter
    with pytest.raises(KeyError):
        build(d, ["nope"])


def test_check_yourself_shows_the_common_wrong_forms_for_the_mistake_parameter():
    d = _derivation("mazur")
    doc = build(d, numbers=False)
    (p,) = [p for p in doc.params if p.checks]
    assert p.name == "w1" and p.mistake is not None  # the seed question's parameter
    assert [c.title for c in p.checks] == [
        "a weight as a node of the chain", "a path left out", "a factor of 2 in the loss derivative"]
    for c in p.checks:
        assert not check(d, c.wrong).correct  # each shown form really is wrong
        assert c.why and all(line.strip() for line in c.why)
    assert any("$w_{5}$ is a parameter, an independent variable" in line for line in p.checks[0].why)
    for c in p.checks:  # every problem derive check counts, typeset: none said once for two terms
        assert len(c.why) == len(check(d, c.wrong).problems)
    assert [line[:10] for line in p.checks[2].why] == ["in term 1:", "in term 2:"]  # the 2 in both terms
    tex = render("tex", doc)
    assert tex.count(r"\paragraph{Check yourself.}") == 1
    assert tex.index(r"\paragraph{Check yourself.}") > tex.index(r"\subsection{The gradient of $w_{1}$}")
    assert tex.index(r"\paragraph{Check yourself.}") < tex.index(r"\subsection{The gradient of $w_{2}$}")
    md = render("md", doc)
    assert md.count("**Check yourself.**") == 1 and "*A path left out.*" in md


def test_rendering_is_deterministic_and_independent_of_the_cwd(tmp_path, monkeypatch):
    first = artifacts(_derivation("skip"))
    monkeypatch.chdir(tmp_path)
    assert artifacts(derive.derive(derive.load(ROOT / "examples" / "skip.toml"))) == first


# -- the command line ----------------------------------------------------------------------------


def test_explain_writes_tex_into_output_name_by_default(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["explain", str(ROOT / "examples" / "qa_chain.toml")]) == 0
    out = tmp_path / "output" / "qa_chain" / "qa_chain.tex"
    assert out.read_text().startswith("% qa_chain.tex")
    assert f"wrote {Path('output') / 'qa_chain' / 'qa_chain.tex'}" in capsys.readouterr().out


def test_explain_md_to_a_chosen_directory(tmp_path, capsys):
    assert main(["explain", str(ROOT / "examples" / "mazur.toml"), "-o", str(tmp_path), "--format", "md",
                 "--param", "w5", "--no-numbers"]) == 0
    md = (tmp_path / "mazur.md").read_text()
    assert "$$\n\\begin{aligned}" in md and "```mermaid" in md
    assert md.count("### The gradient of") == 1 and "worked example" not in md.lower()
    assert not (tmp_path / "mazur.tex").exists()


def test_explain_errors_are_one_line_with_status_2_and_write_nothing(tmp_path, capsys):
    spec = ROOT / "examples" / "mazur.toml"
    assert main(["explain", str(spec), "-o", str(tmp_path), "--param", "w99"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--param w99: not a parameter" in err
    bad = tmp_path / "bad.toml"
    bad.write_text('name = "x"\ninputs = ["a"]\n')
    assert main(["explain", str(bad), "-o", str(tmp_path)]) == 2
    assert str(bad) in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == [bad]


def test_pdf_without_pdflatex_is_a_clear_message(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    assert main(["explain", str(ROOT / "examples" / "qa_chain.toml"), "-o", str(tmp_path / "o"),
                 "--format", "pdf"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "pdflatex not found" in err
    assert not (tmp_path / "o").exists()


def test_build_writes_every_artifact_and_says_so(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))  # no pdflatex: build still writes the rest
    assert main(["build", str(ROOT / "examples" / "qa_chain.toml"), "-o", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    names = {"qa_chain.tex", "qa_chain.md", "qa_chain.html", "qa_chain_gradients.py"}
    assert {p.name for p in tmp_path.iterdir() if p.is_file()} == names
    for n in names:
        assert f"wrote {tmp_path / n}" in out
    assert "skipped qa_chain.pdf: pdflatex not found" in out


def test_an_installed_copy_finds_its_templates(tmp_path):
    """`pip install .` (not editable): the wheel carries templates/ and `derive build` works from it."""
    wheels = tmp_path / "wheels"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(wheels), str(ROOT)],
                   check=True, capture_output=True)
    (wheel,) = wheels.glob("derive-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    for t in ("explain.tex.j2", "explain.md.j2", "gradients.py.j2"):
        assert f"derive/templates/{t}" in names
    target = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(target)  # a wheel is installed by unpacking it
    work = tmp_path / "work"
    work.mkdir()
    env = {**os.environ, "PYTHONPATH": str(target), "PATH": str(tmp_path / "empty")}
    proc = subprocess.run([sys.executable, "-m", "derive.cli", "build", str(ROOT / "examples" / "mazur.toml")],
                          cwd=work, env=env, capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr
    assert "wrote output/mazur/mazur.tex" in proc.stdout
    assert (work / "output" / "mazur" / "mazur_gradients.py").exists()
    probe = [sys.executable, "-c", "import derive.printing.templates as r; print(r.templates_dir())"]
    where = subprocess.run(probe, cwd=work, env=env, capture_output=True, text=True, check=True).stdout
    assert where.strip().startswith(str(target))


def test_templates_write_no_math_of_their_own():
    """Every formula comes from the document model (the printer); the templates only lay it out."""
    for t in (ROOT / "templates").glob("explain.*.j2"):
        text = t.read_text()
        found = re.findall(r"\\(?:frac|partial|delta|theta|alpha|sigma|sum|prod|tanh|log)\b", text)
        assert not found, f"{t.name} writes math itself: {sorted(set(found))}"


def test_a_parameter_asked_for_twice_gets_one_section_and_a_single_path_no_sum():
    d = _derivation("mazur")
    doc = build(d, ["w5", "w5"], numbers=False)
    assert [p.name for p in doc.params] == ["w5"]
    tex = render("tex", doc)
    assert "One path, so one product of local derivatives:" in tex and "per path, summed" not in tex


def test_math_prose_keeps_english_words_and_typesets_names_of_any_spelling():
    """Found in review: nodes named like English words, names starting with _, a / and unspaced operators."""
    from derive.explain.texmath import math_prose
    names = {"path": r"\mathit{path}", "one": r"\mathit{one}", "_h": "h", "h1": "h_{1}", "w1": "w_{1}",
             "o1": "o_{1}", "t1": "t_{1}"}
    said = math_prose("a path can start at a parameter but never passes through one", names)
    assert "$" not in said
    assert math_prose("connection _h → h1", names) == r"connection $h \to h_{1}$"
    assert math_prose("−t1/o1 and h1·w1", names) == r"$-t_{1}/o_{1}$ and $h_{1}\cdot w_{1}$"


def test_mermaid_draws_a_shared_bias_once_and_typeset_names():
    md = render("md", build(_derivation("qa_chain")))
    chart = md.split("```mermaid", 1)[1].split("```", 1)[0]
    assert chart.count('(["b"])') == 1 and chart.count(" -.-> ") == 2  # one b, an edge to each neuron
    assert '"zₕ → h"' in chart and "y′" in chart and "yp" not in chart
    skip = render("md", build(_derivation("skip"))).split("```mermaid", 1)[1].split("```", 1)[0]
    assert skip.count(' -- "') == 2 and ' -- "t₁" -->' in skip  # crowded, as in the PDF: only the targets


def test_show_says_what_the_l2_penalty_adds_to_a_weights_gradient():
    """Found by a newcomer: derive show printed the data-set value, λ·w included, under a formula without it."""
    from derive.explain.terminal import pretty
    d = derive.derive(derive.load(Path(__file__).parent / "specs" / "bce_l2.toml"))
    weight = next(iter(d.spec.penalized))
    bias = next(p for p in d.parameters if p not in d.spec.penalized)
    text = pretty(d, [weight, bias])
    assert f"the L2 penalty adds λ·{weight}" in text and f"adds λ·{bias}" not in text
