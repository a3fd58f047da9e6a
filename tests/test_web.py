"""The web page in a real headless Chromium (selenium): paths lit, sections, numbers, the stepper.

For every bundled example and some random networks (shared parameters, skip connections), each
parameter is clicked and the edges the page marks `on-path` must be exactly the edges of the
parameter's paths (enumerated here from `Derivation.iter_paths`), its section shown with the
gradient `derive.evaluate` gives; every step of the backward pass must show `evaluate`'s δ.
The page must load nothing (no resource requests), log no console error and show no LaTeX.

Skips when selenium or chromium is missing, and FAILS instead when DERIVE_REQUIRE_TEX=1 (.ci/run
sets it: in CI every optional tool is installed and must run).
"""

from __future__ import annotations

import collections
import itertools
import math
import os
import random
import re
import shutil
import time
from pathlib import Path

import pytest

import derive
from derive.explain.diagram import path_edges
from derive.explain.web import render_page

from .netgen import random_spec

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = sorted((ROOT / "examples").glob("*.toml"))
SPECS = sorted((ROOT / "tests" / "specs").glob("*.toml"))  # softmax, no numbers, odd names, L2


def _need(what: str):
    if os.environ.get("DERIVE_REQUIRE_TEX") == "1":
        pytest.fail(f"{what} is required in CI (DERIVE_REQUIRE_TEX=1)")
    pytest.skip(f"{what} not available")


@pytest.fixture(scope="module")
def browser():
    try:
        from selenium import webdriver
    except ImportError:
        _need("selenium")
    exe = shutil.which("chromedriver")
    if exe is None:
        _need("chromedriver (apt-get install chromium chromium-driver)")
    opts = webdriver.ChromeOptions()
    for a in ("--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=1400,1000"):
        opts.add_argument(a)
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    drv = webdriver.Chrome(options=opts, service=webdriver.ChromeService(executable_path=exe))
    yield drv
    drv.quit()


def show(browser, tmp_path, html: str, name: str = "page"):
    path = tmp_path / f"{name}.html"
    path.write_text(html, encoding="utf-8")
    browser.get(path.as_uri())
    return path


def console_errors(browser) -> list[str]:
    return [e["message"] for e in browser.get_log("browser") if e["level"] in ("SEVERE", "ERROR")]


def shown(text: str) -> float:
    """A number as the page shows it, 1.5×10<sup>-16</sup> read as 1.5×10-16."""
    return float(text.lstrip("= ").replace("×10", "e"))


def path_edge_names(d, p) -> set[str]:
    if d.path_count(p) > 5000:
        return {f"{e.src}->{e.dst}" for e in path_edges(d, p)}
    return {f"{a}->{b}" for path in d.iter_paths(p) for a, b in itertools.pairwise(path)}


LIT = "return Array.from(arguments[0].querySelectorAll('.on-path')).map(e => e.getAttribute('data-edge'))"
STEP_LIT = "return Array.from(arguments[0].querySelectorAll('.on-step')).map(e => e.getAttribute('data-edge'))"
# After a click: what is lit, which sections show, the section's local derivatives and its value.
STATE = """const root = arguments[0], p = arguments[1];
const sec = root.querySelector('[data-section="' + p + '"]');
const num = sec.querySelector('.value .num');
return {
  lit: Array.from(root.querySelectorAll('.on-path')).map(e => e.getAttribute('data-edge')),
  shown: Array.from(root.querySelectorAll('[data-section]')).filter(s => s.offsetParent !== null)
           .map(s => s.getAttribute('data-section')),
  locals: Array.from(sec.querySelectorAll('li[data-local]'))
           .map(li => [li.getAttribute('data-local'), li.querySelectorAll('math').length]),
  value: num && num.textContent, exact: num && num.getAttribute('data-value')};"""
TEXT = """const c = arguments[0].cloneNode(true);
c.querySelectorAll('script, style').forEach(e => e.remove());
return c.textContent;"""


def check_page(browser, d, root=None, params=None):
    """Click every parameter (or those of `params`): exactly its paths' edges lit, its section shown
    with evaluate's number; then every step of the backward pass against evaluate's δ."""
    from selenium.webdriver.common.by import By

    root = root or browser.find_element(By.CSS_SELECTOR, ".derive-page")
    numbers = derive.evaluate(d) if d.spec.values and d.spec.data else None
    for p in params or d.parameters:
        root.find_element(By.CSS_SELECTOR, f'button[data-param="{p}"]').click()
        seen = browser.execute_script(STATE, root, p)
        assert None not in seen["lit"], f"{p}: an element marked on-path stands for no edge"
        assert set(seen["lit"]) == path_edge_names(d, p), p
        assert seen["shown"] == [p]
        assert {e for e, _ in seen["locals"]} == path_edge_names(d, p) and all(n for _, n in seen["locals"])
        if numbers is not None:
            assert float(seen["exact"]) == numbers.gradients[p]
            assert math.isclose(shown(seen["value"]), numbers.gradients[p], rel_tol=1e-8, abs_tol=1e-15)
    nxt = root.find_element(By.CSS_SELECTOR, ".stepper .next")
    for dl in d.deltas:
        nxt.click()
        step = [s for s in root.find_elements(By.CSS_SELECTOR, ".step") if s.is_displayed()]
        assert [s.get_attribute("data-node") for s in step] == [dl.node]
        assert set(browser.execute_script(STEP_LIT, root)) == {f"{e.src}->{e.dst}" for e in dl.terms}
        if numbers is not None:
            num = step[0].find_element(By.CSS_SELECTOR, ".value .num")
            want = numbers.samples[0].deltas[dl.node]
            assert float(num.get_attribute("data-value")) == float(want)
            assert math.isclose(shown(num.text), float(want), rel_tol=1e-8, abs_tol=1e-15)
    text = browser.execute_script(TEXT, root)
    assert "\\" not in text and "$" not in text, re.findall(r".{20}[\\$].{20}", text)[:3]


@pytest.mark.parametrize("spec", EXAMPLES, ids=lambda p: p.stem)
def test_every_example_lights_exactly_its_paths(browser, tmp_path, spec):
    d = derive.derive(derive.load(spec))
    html = render_page(d)
    show(browser, tmp_path, html)
    check_page(browser, d)
    assert console_errors(browser) == []
    # nothing outside the file: no request was made, and nothing in it names another file
    assert browser.execute_script("return performance.getEntriesByType('resource').length") == 0
    assert not re.search(r"""\b(src|href)\s*=|url\(|@import|<link|<img|<iframe""", html, re.IGNORECASE)
    assert set(re.findall(r"https?://[^\s\"')]+", html)) <= {"http://www.w3.org/2000/svg"}


@pytest.mark.parametrize("spec", SPECS, ids=lambda p: p.stem)
def test_every_test_spec_lights_exactly_its_paths(browser, tmp_path, spec):
    d = derive.derive(derive.load(spec))
    show(browser, tmp_path, render_page(d))
    # past 64 parameters (4-8-8-8-4's 196: 70 s of clicks) every 5th weight and every bias; the
    # examples and the random networks are clicked in full
    biases = {n.bias for n in d.spec.neurons if n.bias}
    sample = None if len(d.parameters) <= 64 else [p for k, p in enumerate(d.parameters) if k % 5 == 0 or p in biases]
    check_page(browser, d, params=sample)
    assert console_errors(browser) == []


@pytest.mark.parametrize("seed", range(5))
def test_random_networks_light_exactly_their_paths(browser, tmp_path, seed):
    d = derive.derive(derive.loads(random_spec(random.Random(seed), max_layers=3, max_width=3)))
    show(browser, tmp_path, render_page(d))
    check_page(browser, d)
    assert console_errors(browser) == []


def test_hovering_an_edge_shows_its_local_derivative_and_value(browser, tmp_path):
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By

    d = derive.derive(derive.load(ROOT / "examples" / "mazur.toml"))
    show(browser, tmp_path, render_page(d))
    edge = browser.find_element(By.CSS_SELECTOR, 'svg [data-edge="net_h1->h1"]')
    ActionChains(browser).move_to_element(edge).perform()
    tip = browser.find_element(By.CSS_SELECTOR, ".tooltip")
    assert tip.is_displayed()
    value = derive.evaluate(d).samples[0].partials[("h1", "net_h1")]
    assert math.isclose(shown(tip.find_element(By.CSS_SELECTOR, ".num").text), value, rel_tol=1e-8)
    assert tip.find_elements(By.CSS_SELECTOR, "math mfrac")  # typeset ∂h1/∂net_h1


def test_a_spec_title_with_markup_is_text(browser, tmp_path):
    from selenium.webdriver.common.by import By

    text = (ROOT / "examples" / "qa_chain.toml").read_text().replace(
        'title = "A chain x → h → y′ with one shared bias"', 'title = "<script>window.pwned=1</script><b>x</b> & y"')
    d = derive.derive(derive.loads(text))
    show(browser, tmp_path, render_page(d))
    assert browser.find_element(By.CSS_SELECTOR, "h1").text == "<script>window.pwned=1</script><b>x</b> & y"
    assert browser.execute_script("return window.pwned") is None
    assert console_errors(browser) == []


def test_two_views_in_one_page_do_not_collide(browser, tmp_path):
    """A notebook shows several inline views (Derivation._repr_html_) in one page."""
    from selenium.webdriver.common.by import By

    a = derive.derive(derive.load(ROOT / "examples" / "mazur.toml"))
    b = derive.derive(derive.load(ROOT / "examples" / "qa_chain.toml"))
    show(browser, tmp_path, f"<!DOCTYPE html><meta charset='utf-8'><body>{a._repr_html_()}{b._repr_html_()}"
                            f"{a._repr_html_()}</body>")
    roots = browser.find_elements(By.CSS_SELECTOR, ".derive-page")
    assert len(roots) == 3
    check_page(browser, b, roots[1])
    check_page(browser, a, roots[2])
    assert browser.execute_script(LIT, roots[0]) == []  # the first view was left alone
    assert console_errors(browser) == []


def test_a_4_8_8_8_4_network_opens_and_answers_a_click_quickly(browser, tmp_path):
    from selenium.webdriver.common.by import By

    d = derive.derive(derive.loads('name = "deep"\n[dense]\nsizes = [4, 8, 8, 8, 4]\nactivation = ["tanh", "tanh", '
                                   '"tanh", "identity"]\n[loss]\nkind = "mse"\n'))
    started = time.perf_counter()
    html = render_page(d)
    written = time.perf_counter() - started
    size = len(html.encode("utf-8"))
    started = time.perf_counter()
    show(browser, tmp_path, html)
    opened = time.perf_counter() - started
    from derive.explain.web import MAX_STYLED

    styled = max((p for p in d.parameters if d.path_count(p) <= MAX_STYLED), key=d.path_count)
    clicks = [browser.execute_script("""
        const b = document.querySelector('button[data-param="' + arguments[0] + '"]');
        const t0 = performance.now(); b.click();
        return new Promise(done => requestAnimationFrame(() => requestAnimationFrame(() => done(performance.now() - t0))));""",
        p) for p in (styled, "w1")]
    print(f"\n4-8-8-8-4: page {size / 1e6:.2f} MB written in {written:.2f} s, opened in {opened:.2f} s, a click "
          f"lit, listed and drawn in {clicks[0]:.0f} ms on {styled} ({d.path_count(styled)} paths, each its own style), "
          f"{clicks[1]:.0f} ms on w1 ({d.path_count('w1')} paths, {MAX_STYLED} listed)")
    click = max(clicks)
    assert set(browser.execute_script(LIT, browser.find_element(By.CSS_SELECTOR, ".derive-page"))) == \
        path_edge_names(d, "w1")
    assert size < 4e6 and opened < 10 and click < 5000  # the figures are printed; these only catch a blow-up
    assert console_errors(browser) == []


# -- without a browser -------------------------------------------------------------------------

def run_cli(*args):
    import subprocess
    import sys

    return subprocess.run([sys.executable, "-m", "derive.cli", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=300, check=False)


def test_explain_writes_one_page_with_the_chosen_sections(tmp_path):
    r = run_cli("explain", "examples/mazur.toml", "--format", "html", "-o", str(tmp_path), "-p", "w5", "-p", "b1")
    assert r.returncode == 0, r.stderr
    assert [p.name for p in tmp_path.iterdir()] == ["mazur.html"]
    html = (tmp_path / "mazur.html").read_text(encoding="utf-8")
    assert re.findall(r'data-section="([^"]+)"', html) == ["w5", "b1"]
    assert set(re.findall(r'<button type="button" data-param="([^"]+)"', html)) == {"w5", "b1"}
    r = run_cli("explain", "examples/mazur.toml", "--format", "html", "-o", str(tmp_path / "n"), "--no-numbers")
    assert r.returncode == 0 and ' data-value="' not in (tmp_path / "n" / "mazur.html").read_text(encoding="utf-8")


def test_the_layer_form_has_no_page_and_says_so(tmp_path):
    r = run_cli("explain", "tests/specs/dense_2_6_6_1.toml", "--format", "html", "--form", "layers",
                "-o", str(tmp_path / "out"))
    assert r.returncode == 2 and r.stderr.count("\n") == 1 and "--form scalar" in r.stderr
    assert not (tmp_path / "out").exists()


def test_the_page_is_the_same_bytes_every_time():
    d = derive.derive(derive.load(ROOT / "examples" / "skip.toml"))
    assert render_page(d) == render_page(derive.derive(derive.load(ROOT / "examples" / "skip.toml")))


def test_the_diagram_is_a_control_and_paths_differ_without_colour(browser, tmp_path):
    """Clicking a weight written on the diagram, or a bias's label, lights the same paths as its
    button; the paths' strokes differ in dash pattern, not only in colour."""
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By

    d = derive.derive(derive.load(ROOT / "examples" / "mazur.toml"))
    show(browser, tmp_path, render_page(d))
    root = browser.find_element(By.CSS_SELECTOR, ".derive-page")
    for p, where in (("w5", ".chip"), ("b1", ".box")):
        ActionChains(browser).move_to_element(root.find_element(By.CSS_SELECTOR, f'svg {where}[data-param="{p}"]')) \
            .click().perform()
        assert set(browser.execute_script(LIT, root)) == path_edge_names(d, p)
        assert root.find_element(By.CSS_SELECTOR, f'[data-section="{p}"]').is_displayed()
    dashes = browser.execute_script("""
        const seen = {};
        arguments[0].querySelectorAll('svg .on-path .line, svg .stroke .line').forEach(l => {
          const g = l.closest('.on-path, .stroke');
          const c = [...g.classList].find(k => /^path\\d+$/.test(k));
          if (!g.classList.contains('multi')) seen[c] = getComputedStyle(l).strokeDasharray;
        });
        return seen;""", root)
    assert len(dashes) == d.path_count("b1") == 4
    assert len(set(dashes.values())) == 4, dashes  # four paths, four line styles


def test_a_view_whose_script_runs_from_head_binds_itself(browser, tmp_path):
    """Classic Notebook (jQuery's .html()) inserts the view's HTML, whose scripts then do not run,
    and runs each script as a new <script> element in <head>: the view must still find its root."""
    a = derive.derive(derive.load(ROOT / "examples" / "mazur.toml"))
    b = derive.derive(derive.load(ROOT / "examples" / "qa_chain.toml"))
    show(browser, tmp_path, "<!DOCTYPE html><meta charset='utf-8'><body><div id='out'></div></body>")
    roots = []
    for d in (a, b):  # one output after the other, as a notebook shows them
        browser.execute_script("""
            const cell = document.createElement('div');
            document.getElementById('out').appendChild(cell);
            cell.innerHTML = arguments[0];
            cell.querySelectorAll('script:not([type])').forEach(old => {
              const s = document.createElement('script');
              s.text = old.textContent;
              document.head.appendChild(s).parentNode.removeChild(s);
            });""", d._repr_html_())
        roots.append(browser.execute_script("const r = document.querySelectorAll('.derive-page'); return r[r.length - 1]"))
    assert console_errors(browser) == []
    check_page(browser, b, roots[1])
    check_page(browser, a, roots[0])
    assert console_errors(browser) == []


def test_build_of_a_wide_dense_spec_says_why_it_wrote_no_page(tmp_path):
    spec = tmp_path / "wide.toml"
    spec.write_text('name = "wide"\n[dense]\nsizes = [40, 30, 2]\nactivation = ["tanh", "identity"]\n'
                    '[loss]\nkind = "mse"\n')
    r = run_cli("build", str(spec), "-o", str(tmp_path / "out"))
    assert r.returncode == 0, r.stderr
    assert not (tmp_path / "out" / "wide.html").exists()
    said = [line for line in r.stdout.splitlines() if "wide.html" in line]
    assert len(said) == 1 and said[0].startswith("skipped wide.html:") and "--form scalar" in said[0], r.stdout


# For a parameter: each listed path's style (class, stroke colour, dashes) in the list, in the chain
# rule and in the legend, and the edges the diagram draws in each style.
STYLED = """const root = arguments[0];
const style = el => { const l = el.querySelector('line');
  return [[...el.classList].find(k => /^(path\\d+|every|shared)$/.test(k)), getComputedStyle(l).stroke,
          getComputedStyle(l).strokeDasharray]; };
const drawn = {};
root.querySelectorAll('svg.net .edge.on-path:not(.multi), svg.net .stroke').forEach(g => {
  const c = [...g.classList].find(k => /^(path\\d+|every|shared)$/.test(k));
  (drawn[c] = drawn[c] || []).push(g.getAttribute('data-edge') || g.getAttribute('data-stroke'));
});
const sec = [...root.querySelectorAll('[data-section]')].find(s => !s.hidden);
return {list: [...sec.querySelectorAll('ol.paths > li > svg.swatch')].map(style),
        chain: [...sec.querySelectorAll('.rows.chain .rhs > svg.swatch')].map(style),
        legend: [...root.querySelectorAll('.styles svg.swatch')].map(style),
        legendText: [...root.querySelectorAll('.styles .swatch-item')].map(s => s.textContent),
        notes: [...sec.querySelectorAll('.note')].map(n => n.textContent), drawn: drawn,
        chips: [...root.querySelectorAll('svg.net .chip')].map(c => c.getAttribute('data-edge'))};"""


def test_every_path_has_its_own_style_in_the_diagram_the_list_and_the_sum(browser, tmp_path):
    """skip's u1 has 8 paths: 8 styles that differ in dash pattern (so without colour), each listed
    with its product in the same style, the legend naming just those, and the diagram drawing in each
    style exactly the edges of its path (a weight's own edge is its label, lit in the first path's style)."""
    from selenium.webdriver.common.by import By

    d = derive.derive(derive.load(ROOT / "examples" / "skip.toml"))
    show(browser, tmp_path, render_page(d))
    root = browser.find_element(By.CSS_SELECTOR, ".derive-page")
    for p in ("u1", "ba4", "v1", "w1"):
        root.find_element(By.CSS_SELECTOR, f'button[data-param="{p}"]').click()
        seen = browser.execute_script(STYLED, root)
        paths = list(d.iter_paths(p))
        assert len(seen["list"]) == len(paths) == d.path_count(p), p
        assert seen["chain"] == seen["list"] == seen["legend"], p
        assert seen["legendText"] == [f"path {k + 1}" for k in range(len(paths))]
        assert len({tuple(s[1:]) for s in seen["list"]}) == len(paths)  # colour and dash: no two alike
        assert len({s[2] for s in seen["list"]}) == len(paths)  # and dash alone, up to eight paths
        for (cls, _, _), path in zip(seen["list"], paths):
            want = {f"{a}->{b}" for a, b in itertools.pairwise(path)} - set(seen["chips"])
            assert set(seen["drawn"][cls]) == want, (p, cls)
        assert not [n for n in seen["notes"] if "more path" in n]
    assert d.path_count("u1") == 8
    assert console_errors(browser) == []


def test_past_the_styles_the_page_lists_the_first_paths_and_counts_the_rest(browser, tmp_path):
    from selenium.webdriver.common.by import By

    from derive.explain.web import MAX_STROKES, MAX_STYLED

    d = derive.derive(derive.load(ROOT / "tests" / "specs" / "dense_4_8_8_8_4.toml"))
    show(browser, tmp_path, render_page(d))
    root = browser.find_element(By.CSS_SELECTOR, ".derive-page")
    many = next(p for p in d.parameters if d.path_count(p) > MAX_STYLED)
    root.find_element(By.CSS_SELECTOR, f'button[data-param="{many}"]').click()
    seen = browser.execute_script(STYLED, root)
    assert len(seen["list"]) == len(seen["chain"]) == MAX_STYLED and {s[0] for s in seen["list"]} == {"every"}
    assert [s[0] for s in seen["legend"]] == ["every"] and set(seen["drawn"]) == {"every"}
    assert f"and {d.path_count(many) - MAX_STYLED} more paths" in " ".join(seen["notes"])
    some = next(p for p in d.parameters if MAX_STROKES < d.path_count(p) <= MAX_STYLED)
    root.find_element(By.CSS_SELECTOR, f'button[data-param="{some}"]').click()
    seen = browser.execute_script(STYLED, root)
    n = d.path_count(some)
    assert len(seen["list"]) == n and len({tuple(s[1:]) for s in seen["list"]}) == n
    assert seen["legendText"][:n] == [f"path {k + 1}" for k in range(n)]
    # an edge on more than MAX_STROKES of the paths is one "shared" stroke, and the legend says so
    on_many = {k for k, v in collections.Counter(
        f"{a}->{b}" for path in d.iter_paths(some) for a, b in itertools.pairwise(path)).items() if v > MAX_STROKES}
    assert on_many - set(seen["chips"]) and set(seen["drawn"]["shared"]) == on_many - set(seen["chips"])
    assert seen["legend"][-1][0] == "shared" and len(seen["legend"]) == n + 1
    assert console_errors(browser) == []


def test_a_skip_edges_arc_and_its_label_stay_inside_the_picture():
    """Found by a newcomer: x1 → y over a one-neuron layer arced above the SVG's top edge, its weight cut off."""
    from derive.explain.document import build
    from derive.explain.web import svg

    spec = derive.loads('name = "tiny"\ninputs = ["x1", "x2"]\n'
                        '[[neuron]]\nname = "h"\nactivation = "tanh"\ninputs = { x1 = "w1", x2 = "w2" }\n'
                        '[[neuron]]\nname = "y"\nactivation = "identity"\ninputs = { h = "w3", x1 = "w4" }\n'
                        '[loss]\nkind = "mse"\noutputs = { y = "t" }\n')
    d = derive.derive(spec)
    picture = svg(d, build(d))
    w4 = next(c for c in picture.chips if c.param == "w4")
    assert picture.top < 0 and w4.y - 10 >= picture.top, (picture.top, w4.y)
    arc = next(e for e in picture.edges if e.edge == "x1->y")
    ys = [float(v) for v in re.findall(r"-?[\d.]+", arc.path)[1::2]]
    assert min(ys[0], ys[-1]) >= picture.top  # the ends; the curve lies below its control points' hull
