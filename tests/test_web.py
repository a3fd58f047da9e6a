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


def check_page(browser, d, root=None):
    """Click every parameter: exactly its paths' edges lit, its section shown with evaluate's number;
    then every step of the backward pass against evaluate's δ."""
    from selenium.webdriver.common.by import By

    root = root or browser.find_element(By.CSS_SELECTOR, ".derive-page")
    numbers = derive.evaluate(d) if d.spec.values and d.spec.data else None
    for p in d.parameters:
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
    check_page(browser, d)
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
    click = browser.execute_script("""
        const b = document.querySelector('button[data-param="w1"]');
        const t0 = performance.now(); b.click();
        return new Promise(done => requestAnimationFrame(() => requestAnimationFrame(() => done(performance.now() - t0))));""")
    print(f"\n4-8-8-8-4: page {size / 1e6:.2f} MB written in {written:.2f} s, opened in {opened:.2f} s, "
          f"a click on w1 lit and drawn in {click:.0f} ms")
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
          const c = [...g.classList].find(k => /^path[A-F]$/.test(k));
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
