"""files.py: whole files or none, with the permissions any other written file gets."""

from __future__ import annotations

import os
import stat

import pytest

from derive.cli.files import write_atomic


def test_write_atomic_writes_whole_files_with_the_usual_mode(tmp_path):
    target = write_atomic(tmp_path / "sub" / "a.txt", "δ ok\n")
    assert target.read_text(encoding="utf-8") == "δ ok\n"
    mask = os.umask(0)
    os.umask(mask)
    assert stat.S_IMODE(target.stat().st_mode) == 0o666 & ~mask
    assert [p.name for p in target.parent.iterdir()] == ["a.txt"]  # no temporary left behind


def test_a_failed_write_leaves_no_file(tmp_path):
    with pytest.raises(TypeError):
        write_atomic(tmp_path / "b.txt", 42)  # neither text nor bytes
    assert list(tmp_path.iterdir()) == []
