"""Documents a teacher can hand out: every example and every spec under tests/specs, typeset by
derive's own pdflatex runs, read back with pdftotext.

It fails on "??" anywhere in the text, an undefined reference or a "Rerun" request left in the
last log, an overfull box over 1 pt or a word outside the margins, a contents line or an overview row whose page number is not
the page its section is really on, and raw terminal notation in the .tex (∂ outside math, an
underscore in running text, `**`).  Skips without pdflatex/pdftotext, fails under
DERIVE_REQUIRE_TEX=1 (.ci/run sets it).
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

import derive
from derive.explain.document import build
from derive.explain.render import RERUN, render, typeset

from .test_pdf import _need, outside_margins

ROOT = Path(__file__).resolve().parent
SPECS = sorted((ROOT.parent / "examples").glob("*.toml")) + sorted((ROOT / "specs").glob("*.toml"))
OVERFULL_PT = 1.0


def pages(pdf: Path) -> list[str]:
    """The text of each page, laid out as printed (pdftotext -layout)."""
    text = subprocess.run([_need("pdftotext"), "-layout", str(pdf), "-"], capture_output=True, text=True,
                          check=True).stdout
    out = []
    for page in (text.split("\f")[:-1] if text.endswith("\f") else text.split("\f")):
        lines = page.rstrip().splitlines()
        if lines and lines[-1].strip().isdigit():  # the page number at its foot
            lines = lines[:-1]
        out.append("\n".join(lines))
    return out


def real_pages(texts: list[str], titles: dict[str, str]) -> dict[str, int]:
    """Where each numbered heading is printed, from {number: title or its start}: the page of the
    first line that is the number and the title alone."""
    found: dict[str, int] = {}
    for page, text in enumerate(texts, 1):
        for line in text.splitlines():
            m = re.match(r"^\s*(\d+(?:\.\d+)?)\s+(\S.*?)\s*$", line)
            contents_line = re.search(r"\s{2,}\d+\s*$", line)  # a title, a gap, its page number
            if m and m.group(1) in titles and m.group(2).startswith(titles[m.group(1)]) and not contents_line:
                found.setdefault(m.group(1), page)
    return found


def contents(texts: list[str]) -> dict[str, tuple[str, int]]:
    """The contents: {section number: (title, page number)}."""
    out = {}
    if "Contents" not in texts[0]:
        return out
    for line in texts[0].split("Contents", 1)[1].splitlines():
        m = re.match(r"^\s*(\d+)\s+(\S.*?)\s{2,}(\d+)\s*$", line)
        if m:
            out[m.group(1)] = (m.group(2), int(m.group(3)))
        elif out and line.strip():
            break
    return out


def overview(texts: list[str]) -> list[int]:
    """The overview table's page column, in row order: the number that ends each line between the
    table's header (its last column is "page") and the first parameter's section."""
    text = "\n".join(texts)
    table = text[text.find("The gradient of each parameter"):]
    table = table[table.find("page\n") + 5:]
    table = table[:re.search(r"^\s*4\.1\s", table, re.M).start()]
    return [int(m.group(1)) for m in re.finditer(r"\s(\d+)\s*$", table, re.M)]


@pytest.fixture(scope="module", params=SPECS, ids=lambda p: p.stem)
def document(request, tmp_path_factory):
    _need("pdflatex")
    d = derive.derive(derive.load(request.param))
    tex = render("tex", build(d))
    pdf, log = typeset(tex, d.spec.name)
    path = tmp_path_factory.mktemp(d.spec.name) / f"{d.spec.name}.pdf"
    path.write_bytes(pdf)
    return d, tex, log, pages(path), path


def test_no_question_marks_undefined_references_or_reruns(document):
    d, tex, log, texts, _ = document
    assert not any("??" in t for t in texts), [i for i, t in enumerate(texts, 1) if "??" in t]
    assert "undefined" not in log.lower().replace("undefined control", ""), d.spec.name
    assert not RERUN.search(log), RERUN.search(log).group(0)


def test_no_overfull_box_over_a_point(document):
    d, tex, log, texts, _ = document
    bad = [m.group(0) for m in re.finditer(r"Overfull \\[hv]box \(([\d.]+)pt too \w+\)[^\n]*", log)
           if float(m.group(1)) > OVERFULL_PT]
    assert not bad, bad[:3]


def test_contents_and_overview_send_the_reader_to_the_right_page(document):
    d, tex, log, texts, _ = document
    toc = contents(texts)
    assert toc, "no contents"
    real = real_pages(texts, {k: title for k, (title, _) in toc.items()})
    assert {k: real.get(k) for k in toc} == {k: page for k, (_, page) in toc.items()}
    sections = [f"4.{k}" for k in range(1, len(build(d).params) + 1)]  # a parameter's or a family's
    sub = real_pages(texts, dict.fromkeys(sections, "The "))
    assert overview(texts) == [sub.get(k) for k in sections]


RAW = [(re.compile(r"∂"), "∂ outside math"), (re.compile(r"\*\*"), "** (a power in terminal notation)")]


def prose(tex: str) -> str:
    """The .tex with math, commands' arguments that are names (labels, refs) and comments removed:
    what is left is running text."""
    body = tex.split(r"\begin{document}", 1)[-1]
    body = re.sub(r"(?<!\\)%.*", "", body)
    body = re.sub(r"\\\[.*?\\\]|\$\$.*?\$\$|\$.*?\$", " ", body, flags=re.S)
    body = re.sub(r"\\begin\{(align\*?|equation\*?|gather\*?|tikzpicture|longtable|tabular)\}.*?\\end\{\1\}", " ",
                  body, flags=re.S)
    return re.sub(r"\\(label|ref|pageref|hyperref|texttt|definecolor)\{[^}]*\}", " ", body)


def test_no_terminal_notation_in_running_text(document):
    d, tex, log, texts, _ = document
    text = prose(tex)
    for pattern, what in RAW:
        hit = pattern.search(text)
        assert not hit, f"{what}: …{text[max(0, hit.start() - 80):hit.end() + 40]}…"
    hit = re.search(r"(?<!\\)_", text)
    assert not hit, f"an underscore in text: …{text[max(0, hit.start() - 80):hit.end() + 40]}…"


def test_no_word_outside_the_margins(document):
    """A displayed equation too wide for the page is not always an overfull box in the log."""
    d, tex, log, texts, pdf = document
    assert not outside_margins(pdf), outside_margins(pdf)[:5]


MARGIN_CM, PAGE_CM = 2.2, 29.7  # the template's geometry: A4, 2.2 cm margins
FULL_ENOUGH = 1 / 3


def fullness(pdf: Path, workdir: Path) -> list[float]:
    """How far down its text block each page is inked (0 to 1): the last row with ink between the
    top and bottom margins, rendered at 20 dpi; the page number below the block does not count."""
    from PIL import Image

    subprocess.run([_need("pdftoppm"), "-gray", "-r", "20", str(pdf), str(workdir / "p")], check=True)
    out = []
    for png in sorted(workdir.glob("p-*.pgm"), key=lambda p: int(p.stem.split("-")[1])):
        im = Image.open(png)
        w, h = im.size
        top, bottom = round(h * MARGIN_CM / PAGE_CM), round(h * (1 - MARGIN_CM / PAGE_CM))
        px = im.load()
        inked = [y for y in range(top, bottom) if any(px[x, y] < 200 for x in range(w))]
        out.append((inked[-1] - top) / (bottom - top) if inked else 0.0)
    return out


def test_no_page_less_than_a_third_full_but_before_a_new_section(document, tmp_path):
    """A page may end short only where a section (1, 2, …, not 4.1) begins on the next page."""
    d, tex, log, texts, pdf = document
    full = fullness(pdf, tmp_path)
    assert len(full) == len(texts)
    heading = re.compile(r"^\s*\d+\s+[A-Z]")  # "5  One step of gradient descent"
    short = [k + 1 for k in range(len(full) - 1)
             if full[k] < FULL_ENOUGH and not heading.match(texts[k + 1].lstrip("\n").splitlines()[0])]
    assert not short, f"pages less than a third full: {short} ({[round(full[k - 1], 2) for k in short]})"
