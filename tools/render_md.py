"""Draw derive's Markdown as GitHub would (markdown-it, KaTeX, Mermaid) in headless Chromium:
a screenshot of each document's Mermaid diagram, and the labels in it that overlap.

    python tools/render_md.py output/*/*.md            # PNGs into render-md/ beside this folder's parent
    python tools/render_md.py --out DIR --modules DIR FILE.md ...

Needs node and npm (the packages markdown-it, markdown-it-texmath, katex and mermaid are installed
into a temporary folder, or into --modules to reuse), Chromium and chromedriver (Debian:
apt-get install chromium chromium-driver) and selenium (pip).  Exits 1 when a diagram fails to
draw or two of its labels overlap, so that it can run as a check.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PACKAGES = ["markdown-it@14", "markdown-it-texmath@1", "katex@0.16", "mermaid@11"]
HERE = Path(__file__).resolve().parent

# every label box in the drawn diagram: node labels and edge labels, in page pixels
LABELS_JS = """
const boxes = [];
for (const el of document.querySelectorAll('pre.mermaid svg .nodeLabel, pre.mermaid svg .edgeLabel')) {
  const r = el.getBoundingClientRect();
  if (r.width > 0 && r.height > 0) boxes.push([el.textContent.trim(), r.left, r.top, r.right, r.bottom]);
}
return boxes;
"""


def install(modules: Path) -> None:
    if not (modules / "node_modules" / "mermaid").exists():
        subprocess.run(["npm", "install", "--silent", "--no-audit", "--no-fund", "--prefix", str(modules), *PACKAGES],
                       check=True)


def overlaps(boxes) -> list[tuple[str, str]]:
    """Pairs of labels whose boxes intersect by more than a pixel each way."""
    unique = []  # an edge label is a <g> holding a <span> of the same class: one box each
    for box in boxes:
        if not any(box[0] == u[0] and all(abs(x - y) < 3 for x, y in zip(box[1:], u[1:])) for u in unique):
            unique.append(box)
    out = []
    for i, (a, *ra) in enumerate(unique):
        for b, *rb in unique[i + 1:]:
            if min(ra[2], rb[2]) - max(ra[0], rb[0]) > 1 and min(ra[3], rb[3]) - max(ra[1], rb[1]) > 1:
                out.append((a, b))
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("files", nargs="+", type=Path)
    ap.add_argument("--out", type=Path, default=HERE.parent / "render-md")
    ap.add_argument("--modules", type=Path, help="folder for the npm packages (default: a temporary one)")
    args = ap.parse_args(argv)
    from selenium import webdriver

    with tempfile.TemporaryDirectory(prefix="derive-md-") as tmp:
        modules = args.modules or Path(tmp)
        install(modules)
        args.out.mkdir(parents=True, exist_ok=True)
        options = webdriver.ChromeOptions()
        for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=1400,1000"):
            options.add_argument(flag)
        driver = webdriver.Chrome(options=options, service=webdriver.ChromeService(
            executable_path=shutil.which("chromedriver")))  # the system's: no download
        failed = 0
        try:
            for md in args.files:
                html = Path(tmp) / f"{md.stem}.html"
                html.write_text(subprocess.run(["node", str(HERE / "md2html.js"), str(modules / "node_modules"), str(md)],
                                               check=True, capture_output=True, text=True).stdout)
                driver.get(html.as_uri())
                deadline = time.time() + 30
                while time.time() < deadline and not driver.execute_script("return document.body.dataset.drawn"):
                    time.sleep(0.1)
                drawn = driver.execute_script("return document.body.dataset.drawn")
                svg = driver.find_elements("css selector", "pre.mermaid svg")
                png = args.out / f"{md.stem}-mermaid.png"
                if svg:  # the window as tall as the diagram, so that the screenshot holds all of it
                    size = svg[0].size
                    driver.set_window_size(1400, max(1000, int(size["height"]) + 400))
                    driver.execute_script("arguments[0].scrollIntoView()", svg[0])
                    svg[0].screenshot(str(png))
                    driver.set_window_size(1400, 1000)
                bad = overlaps(driver.execute_script(LABELS_JS)) if drawn == "yes" else []
                ok = drawn == "yes" and svg and not bad
                failed += not ok
                print(f"{md}: {'ok' if ok else 'FAILED'} ({drawn}); {png if svg else 'no diagram'}"
                      + (f"; overlapping labels: {bad}" if bad else ""))
        finally:
            driver.quit()
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
