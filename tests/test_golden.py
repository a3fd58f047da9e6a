"""Golden record: output/<name>/ holds exactly what `derive build` writes for each bundled example.

The generated text files (.tex, .md and the NumPy module) are regenerated here with the same code
path as `derive build` (`derive.cli.build.artifacts`) and compared byte for byte with the
committed copies.  PDFs are not committed (they depend on the TeX installation; .gitignore has
output/**/*.pdf); tests/test_pdf.py compiles every .tex instead.

After an intended change, regenerate output/ from the repository root with

    for f in examples/*.toml; do derive build "$f"; done
"""

from __future__ import annotations

from pathlib import Path

import pytest

import derive
from derive.cli.build import artifacts

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = sorted((ROOT / "examples").glob("*.toml"))
REGENERATE = 'for f in examples/*.toml; do derive build "$f"; done'


@pytest.mark.parametrize("spec", EXAMPLES, ids=lambda p: p.stem)
def test_generated_files_match_output_byte_for_byte(spec):
    d = derive.derive(derive.load(spec))
    folder = ROOT / "output" / d.spec.name
    files = artifacts(d)
    committed = {p.name for p in folder.iterdir() if p.is_file() and p.suffix != ".pdf"} if folder.is_dir() else set()
    assert committed == set(files), f"output/{d.spec.name}/ is out of date: run {REGENERATE}"
    for name, text in files.items():
        assert (folder / name).read_bytes() == text.encode("utf-8"), (
            f"output/{d.spec.name}/{name} differs from what derive build writes: run {REGENERATE}")


def test_every_output_folder_belongs_to_an_example():
    """Every folder of output/ that git holds is an example's (a user's own `derive codegen my.toml`
    writes output/my/, untracked, which is theirs and no failure here)."""
    import shutil
    import subprocess

    names = {derive.load(p).name for p in EXAMPLES}
    folders = {p.name for p in (ROOT / "output").iterdir() if p.is_dir()}
    if shutil.which("git") and (ROOT / ".git").exists():
        listed = subprocess.run(["git", "ls-files", "output"], cwd=ROOT, capture_output=True, text=True,
                                check=True).stdout.split()
        folders = {Path(f).parts[1] for f in listed if len(Path(f).parts) > 2}
    assert folders == names
