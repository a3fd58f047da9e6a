"""The package's shape: stages import one way (core ← printing ← {explain, codegen, check} ← cli),
explain may use check, and no module imports itself round a cycle.

Every `import` and `from ... import` is read from the source, at module level and inside
functions alike: an import hidden in a function is still a dependency.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "derive"

# What each stage may import besides itself.  The top-level package (derive/__init__.py, the
# public API) sits above every stage and is imported by none.
ALLOWED = {
    "core": set(),
    "printing": {"core"},
    "explain": {"core", "printing", "check"},
    "codegen": {"core", "printing"},
    "check": {"core", "printing"},
    "cli": {"core", "printing", "explain", "codegen", "check"},
}


def modules() -> dict[str, Path]:
    out = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = list(path.relative_to(ROOT).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        out[".".join(parts)] = path
    return out


def imports(name: str, path: Path) -> set[str]:
    """The derive modules that `name` imports, resolved to dotted names."""
    is_package = path.name == "__init__.py"
    package = name.split(".") if is_package else name.split(".")[:-1]
    known = modules()
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - (node.level - 1)]
                stem = ".".join(base + ([node.module] if node.module else []))
            else:
                stem = node.module or ""
            # `from . import matrix` imports the module derive.codegen.matrix
            targets = [f"{stem}.{a.name}" if f"{stem}.{a.name}" in known else stem for a in node.names]
        else:
            continue
        found |= {t for t in targets if t == "derive" or t.startswith("derive.")}
    return found - {name}


def stage(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "api"


GRAPH = {m: imports(m, p) for m, p in modules().items()}


def test_every_module_belongs_to_a_stage():
    assert {stage(m) for m in GRAPH} == set(ALLOWED) | {"api"}
    for m in GRAPH:
        assert stage(m) == "api" or len(m.split(".")) >= 2


@pytest.mark.parametrize("module", sorted(GRAPH))
def test_imports_point_down_the_pipeline(module):
    own = stage(module)
    if own == "api":
        return
    for target in sorted(GRAPH[module]):
        there = stage(target)
        assert there != "api", f"{module} imports the top-level package derive (upwards)"
        assert there == own or there in ALLOWED[own], f"{module} ({own}) imports {target} ({there}): upwards"


def test_no_import_cycles():
    state: dict[str, int] = {}  # 1 on the stack, 2 done
    trail: list[str] = []

    def visit(m):
        state[m] = 1
        trail.append(m)
        for t in sorted(GRAPH[m]):
            if t not in GRAPH:
                continue
            assert state.get(t) != 1, "import cycle: " + " -> ".join(trail[trail.index(t):] + [t])
            if t not in state:
                visit(t)
        trail.pop()
        state[m] = 2

    for m in sorted(GRAPH):
        if m not in state:
            visit(m)


def test_the_derivation_imports_nothing_from_printing_explain_or_check():
    reached, todo = set(), ["derive.core.derivation"]
    while todo:
        m = todo.pop()
        if m not in reached:
            reached.add(m)
            todo += [t for t in GRAPH.get(m, ()) if t in GRAPH]
    assert {stage(m) for m in reached} == {"core"}


def test_the_checker_catches_an_upward_import(tmp_path):
    """The scan itself: a planted upward import inside a function is found."""
    fake = tmp_path / "derive" / "core"
    fake.mkdir(parents=True)
    (fake / "x.py").write_text("def f():\n    from ..explain import render\n")
    found = imports("derive.core.x", fake / "x.py")
    assert found == {"derive.explain.render"} and stage("derive.explain.render") not in ALLOWED["core"]
