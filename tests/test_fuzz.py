"""Property-based fuzzing of everything a user hands derive (issue 12): spec files and Python
specs, chain-rule equations, and the generated modules' arguments.

Bounded and seeded (`derandomize`): the same examples every run, well under two minutes in all.
The properties: a bad spec is a `SpecError` (one line per problem, never another exception); a
good one derives, prints, explains and generates a module that imports; an equation gets a
verdict or one `EquationError`; a generated module returns finite numbers or raises ValueError.
"""

from __future__ import annotations

import contextlib
import copy
import io
import math
import tomllib
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import derive
from derive.check import check
from derive.check.parse import EquationError
from derive.cli import main
from derive.codegen import load_module, module_source
from derive.explain.document import build
from derive.explain.render import render

ROOT = Path(__file__).parent.parent
EXAMPLES = sorted((ROOT / "examples").glob("*.toml"))
DOCS = [tomllib.loads(p.read_text()) for p in EXAMPLES]

FUZZ = settings(max_examples=120, deadline=None, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

# Values a careless user or an attacker puts where a name, number or table belongs.
NASTY = st.one_of(
    st.none(), st.booleans(), st.integers(-10**6, 10**6), st.just(10**310), st.just(-(10**400)),
    st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=12),
    st.sampled_from(["", "x", "h1", "w1", "o1", "sigmoid", "softmax", "identity", "sse", "__debug__", "lambda",
                     "\x00", "\x1b[31m", "<script>", "a b", "1x", "_w", "E", "L", r"\input{/etc/hostname}",
                     r"\hat{w}", "w^{(1)}", "{", "}", "%", "\\def\\x{\\x}\\x"]),
    st.lists(st.sampled_from(["x", "tanh", 1, 2.5, None]), max_size=3),
    st.dictionaries(st.sampled_from(["a", "x", "h1", "w1"]), st.sampled_from([1, "w9", "x", None]), max_size=2),
)


def paths(doc, prefix=()):
    """Every (path, value) in a nested spec document, tables and lists included."""
    yield prefix, doc
    if isinstance(doc, dict):
        for k, v in doc.items():
            yield from paths(v, prefix + (k,))
    elif isinstance(doc, list):
        for i, v in enumerate(doc):
            yield from paths(v, prefix + (i,))


def mutate(doc, where, value):
    out = copy.deepcopy(doc)
    if not where:
        return value
    node = out
    for k in where[:-1]:
        node = node[k]
    node[where[-1]] = value
    return out


@st.composite
def mutated_specs(draw):
    doc = draw(st.sampled_from(DOCS))
    for _ in range(draw(st.integers(1, 3))):
        spots = list(paths(doc))
        where, _ = draw(st.sampled_from(spots))
        doc = mutate(doc, where, draw(NASTY))
    return doc


def use(spec: derive.NetSpec) -> None:
    """Everything a user can do with a spec that was accepted: none of it may raise."""
    d = derive.derive(spec)
    derive.pretty(d)
    for fmt in ("tex", "md"):
        render(fmt, build(d))
    m = load_module(d)
    assert callable(m.gradients) and module_source(d) == module_source(d)


@FUZZ
@given(mutated_specs())
def test_a_mutated_spec_is_read_or_refused_in_plain_words(doc):
    try:
        spec = derive.from_dict(doc, "fuzz.toml")
    except derive.SpecError as e:
        assert e.problems and all("\n" not in line and line.startswith("fuzz.toml") for line in e.lines())
        return
    use(spec)


@FUZZ
@given(st.sampled_from(EXAMPLES), st.data())
def test_mutated_toml_text_is_read_or_refused_in_plain_words(path, data):
    text = path.read_text()
    for _ in range(data.draw(st.integers(1, 4))):
        i = data.draw(st.integers(0, len(text)))
        j = data.draw(st.integers(i, min(len(text), i + 12)))
        text = text[:i] + data.draw(st.sampled_from(["", "=", "[", "]", '"', "{", "\n", "x", "9" * 400,
                                                     "\ufeff", "\x00", "[[neuron]]\n", "é"])) + text[j:]
    try:
        spec = derive.loads(text, "fuzz.toml")
    except derive.SpecError as e:
        assert all("\n" not in line for line in e.lines())
        return
    use(spec)


@FUZZ
@given(mutated_specs())
def test_the_cli_answers_a_mutated_spec_with_exit_0_or_lines_and_2(tmp_path_factory, doc):
    if not isinstance(doc, dict):
        return
    folder = tmp_path_factory.mktemp("cli")
    path = folder / "fuzz.toml"
    try:
        path.write_text(_toml(doc))
    except ValueError:
        return  # a value TOML cannot hold (None): nothing a user could write
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        status = main(["codegen", str(path), "-o", str(folder / "out")])
    written = sorted(p.name for p in (folder / "out").glob("*")) if (folder / "out").exists() else []
    if status == 0:
        assert len(written) == 1 and not err.getvalue()
    else:
        assert status == 2 and written == []
        assert all(line.startswith(f"derive: {path}") for line in err.getvalue().splitlines())


def _toml(value, key=None) -> str:
    """A tiny TOML writer for the fuzzed documents (inline tables and arrays only)."""
    if key is None:
        lines = []
        for k, v in value.items():
            lines.append(f"{_key(k)} = {_toml(v, k)}")
        return "\n".join(lines) + "\n"
    if value is None:
        raise ValueError("TOML has no null")
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value) if abs(value) < 10**4000 else "1"
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        return "inf" if value == math.inf else "-inf" if value == -math.inf else repr(value)
    if isinstance(value, str):
        return '"' + "".join(c if c.isprintable() and c not in '"\\' else f"\\u{ord(c):04x}" for c in value) + '"'
    if isinstance(value, list):
        return "[" + ", ".join(_toml(v, "") for v in value) + "]"
    return "{ " + ", ".join(f"{_key(k)} = {_toml(v, k)}" for k, v in value.items()) + " }"


def _key(k) -> str:
    return '"' + str(k).replace("\\", "\\\\").replace('"', '\\"') + '"'


# -- equations ------------------------------------------------------------------------------------

TOKENS = [r"\frac", "{", "}", "(", ")", r"\partial", "d", "L", "E", "w_1", "w_{1}", "h_1", "h1", "o_1",
          "net_{h1}", "=", "+", "-", r"\cdot", "2", "0.5", r"\sigma", r"\sigma'", r"\tanh", "^", "_", "/",
          r"\left(", r"\right)", "x²", "٣", "9" * 500, r"\partail", r"\sigma^\prime", "out_{o1}", "target_{o1}",
          r"\sum", "'", " ", "∂", "·"]


@FUZZ
@given(st.lists(st.sampled_from(TOKENS), max_size=40))
def test_an_equation_gets_a_verdict_or_one_line(tokens):
    d = _mazur()
    text = " ".join(tokens)
    try:
        v = check(d, text)
    except EquationError as e:
        assert "\n" not in str(e).strip("\n") or str(e).count("\n") <= 2
        return
    assert isinstance(v.correct, bool) and str(v)


def test_an_equation_from_the_answer_with_noise_gets_a_verdict_or_one_line():
    d = _mazur()
    base = (r"\frac{\partial L}{\partial w_1} = \frac{\partial h_1}{\partial w_1}\frac{\partial o_1}{\partial h_1}"
            r"\frac{\partial L}{\partial o_1}")
    rng = np.random.default_rng(5)
    for _ in range(300):
        i = int(rng.integers(0, len(base)))
        text = base[:i] + str(rng.choice(TOKENS)) + base[i + int(rng.integers(0, 4)):]
        try:
            check(d, text)
        except EquationError:
            pass


_MAZUR = []


def _mazur():
    if not _MAZUR:
        _MAZUR.append(derive.derive(derive.load(ROOT / "examples" / "mazur.toml")))
    return _MAZUR[0]


# -- generated modules' arguments -----------------------------------------------------------------

ARG = st.one_of(st.none(), st.floats(allow_nan=True, allow_infinity=True, width=64), st.integers(-5, 5),
                st.text(max_size=3), st.lists(st.floats(-3, 3), max_size=3),
                st.just(np.ones((2, 2))), st.just(np.array([1.0, np.nan])))


@pytest.fixture(scope="module")
def mazur_module():
    return load_module(_mazur())


@FUZZ
@given(st.dictionaries(st.sampled_from(["w1", "w5", "b1", "b2", "zz"]), ARG, max_size=3),
       st.dictionaries(st.sampled_from(["i1", "i2", "t1", "t2", "zz"]), ARG, max_size=3))
def test_a_generated_module_returns_finite_numbers_or_a_value_error(mazur_module, changes, data_changes):
    m = mazur_module
    params = {**m.INITIAL, **changes}
    data = {**m.DATA, **data_changes}
    for fn in (m.loss, m.gradients):
        try:
            out = fn(params, data)
        except ValueError as e:
            assert str(e) and "\n" not in str(e)
            continue
        values = [out] if isinstance(out, float) else list(out.values())
        assert all(math.isfinite(v) for v in values)
