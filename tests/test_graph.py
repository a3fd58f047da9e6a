"""graph.py: one equation per named quantity, topological, names as Symbols; no user text parsed."""

from __future__ import annotations

import ast
from pathlib import Path

import sympy as sp

import derive
from derive.core.graph import equations, symbol

ROOT = Path(__file__).parent.parent


def test_equations_of_the_seed_article():
    eqs = equations(derive.load("examples/softplus.toml"))
    assert [(e.name, e.kind) for e in eqs] == [
        ("x1", "net"), ("y1", "act"), ("x2", "net"), ("y2", "act"), ("predicted", "net"), ("SSR", "loss")]
    x1, y1 = eqs[0], eqs[1]
    assert x1.terms == (("w1", "input"),) and x1.bias == "b1"
    assert x1.expr == symbol("w1") * symbol("input") + symbol("b1")
    assert y1.expr == sp.log(1 + sp.exp(symbol("x1")))
    assert eqs[-1].expr == (symbol("observed") - symbol("predicted")) ** 2
    assert eqs[-1].args == ("predicted", "observed")


def test_each_name_assigned_once_and_used_after_definition():
    for spec_file in sorted(ROOT.glob("examples/*.toml")):
        spec = derive.load(spec_file)
        defined = set(spec.inputs) | set(spec.targets) | set(spec.parameters)
        for eq in equations(spec):
            assert eq.name not in defined
            assert set(eq.args) <= defined
            assert {s.name for s in eq.expr.free_symbols} == set(eq.args)
            defined.add(eq.name)


def test_no_user_text_reaches_a_parser_or_eval():
    """derive never calls eval, exec, sympify, S(...) on text, or parse_expr (a static scan)."""
    banned = {"eval", "exec", "sympify", "parse_expr", "parse_latex", "compile", "__import__"}
    # The one exception: derive.codegen.load_module runs derive's own generated module, in which the
    # spec's names appear only as checked identifiers and escaped string literals (tested in
    # test_codegen), never as code.
    allowed = {("load.py", "load_module")}
    for path in sorted((ROOT / "derive").rglob("*.py")):
        tree = ast.parse(path.read_text(), filename=str(path))
        exempt = [range(f.lineno, f.end_lineno + 1) for f in ast.walk(tree)
                  if isinstance(f, ast.FunctionDef) and (path.name, f.name) in allowed]
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and not any(node.lineno in r for r in exempt):
                f = node.func
                if isinstance(f, ast.Name):  # eval(...), compile(...), sympify(...)
                    assert f.id not in banned, f"{path.name}:{node.lineno} calls {f.id}"
                elif isinstance(f, ast.Attribute):  # sp.sympify(...), builtins.eval(...); re.compile is fine
                    assert f.attr not in banned - {"compile"}, f"{path.name}:{node.lineno} calls {f.attr}"
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                names = {a.name for a in node.names}
                assert not names & banned, f"{path.name}:{node.lineno} imports {names & banned}"
