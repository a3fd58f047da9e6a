"""Screenshots of the web page of every bundled example at 1400×1000, for a person to look at.

    PYTHONPATH=. python tools/screenshots.py [OUT_DIR]   (default /tmp/derive-screens)

For each example it writes <name>.png (the page as opened), <name>-param.png (after a click on
the parameter with the most listed paths) <name>-check.png (the section with "check yourself", opened, if any)
and <name>-step.png (a few steps into the backward pass), rendered by headless Chromium through selenium.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path

from selenium import webdriver
from selenium.webdriver.common.by import By

import derive
from derive.explain.web import render_page

ROOT = Path(__file__).resolve().parent.parent


def driver() -> webdriver.Chrome:
    opts = webdriver.ChromeOptions()
    for a in ("--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=1400,1000", "--force-device-scale-factor=1"):
        opts.add_argument(a)
    return webdriver.Chrome(options=opts, service=webdriver.ChromeService(executable_path=shutil.which("chromedriver")))


def main(out: Path, specs) -> None:
    out.mkdir(parents=True, exist_ok=True)
    drv = driver()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            for spec in specs:
                d = derive.derive(derive.load(spec))
                page = Path(tmp) / f"{d.spec.name}.html"
                page.write_text(render_page(d), encoding="utf-8")
                drv.get(page.as_uri())
                drv.save_screenshot(str(out / f"{d.spec.name}.png"))
                best = max(d.parameters, key=lambda p: (min(d.path_count(p), 6), -d.parameters.index(p)))
                drv.find_element(By.CSS_SELECTOR, f'button[data-param="{best}"]').click()
                drv.save_screenshot(str(out / f"{d.spec.name}-param.png"))
                checks = drv.find_elements(By.CSS_SELECTOR, "details.checks")
                if checks:  # the section with the seed Q&A's note and "check yourself", opened
                    section = checks[0].find_element(By.XPATH, "./ancestor::section")
                    name = section.get_attribute("data-section")
                    drv.find_element(By.CSS_SELECTOR, f'button[data-param="{name}"]').click()
                    drv.execute_script("arguments[0].open = true; arguments[0].scrollIntoView()", checks[0])
                    drv.save_screenshot(str(out / f"{d.spec.name}-check.png"))
                for _ in range(3):
                    drv.find_element(By.CSS_SELECTOR, ".stepper .next").click()
                drv.execute_script("window.scrollTo(0, 0)")
                drv.save_screenshot(str(out / f"{d.spec.name}-step.png"))
                print(out / f"{d.spec.name}.png")
    finally:
        drv.quit()


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path("/tmp/derive-screens"),
         sys.argv[2:] or sorted((ROOT / "examples").glob("*.toml")))
