"""derive/latexparse.py: reading one chain-rule equation in LaTeX, and refusing what it cannot read."""

from __future__ import annotations

import builtins

import pytest
import sympy as sp

from derive.check.parse import (
    Derivative,
    EquationError,
    Name,
    Number,
    parse,
    parse_name,
    product_terms,
    to_sympy,
)


def derivs(text: str):
    """The right side's terms as lists of (numerator, denominator) or ('=', evaluated node)."""
    eq = parse(text)
    return [[(f.num.exact, f.den.exact) if isinstance(f, Derivative) else ("=", f) for f in t]
            for t in product_terms(eq.rhs, eq.text)]


def sym(name):
    return sp.Symbol(name, real=True)


def value(text: str) -> sp.Expr:
    """The evaluated right side of 'x = text' as SymPy, names taken verbatim."""
    eq = parse("x = " + text)
    (term,) = product_terms(eq.rhs, eq.text)
    return sp.Mul(*[to_sympy(f, lambda n: sym(n.exact)) for f in term])


@pytest.mark.parametrize("text", [
    r"\frac{\partial L}{\partial w_{1}} = \frac{\partial h_{1}}{\partial w_{1}} \frac{\partial L}{\partial h_{1}}",
    r"\partial L/\partial w_1 = \partial h_1/\partial w_1 \cdot \partial L/\partial h_1",
    r"\frac{dL}{dw_1} = \frac{dh_1}{dw_1} \times \frac{dL}{dh_1}",
    r"\frac{d L}{d w_{1}} = \frac{d h_{1}}{d w_{1}}\,\frac{d L}{d h_{1}}",
    r"$$\frac{\partial L}{\partial w_1}=\left(\frac{\partial h_1}{\partial w_1}\right)\frac{\partial L}{\partial h_1}$$",
    "∂L/∂w_1 = ∂h_1/∂w_1 · ∂L/∂h_1",
    "dL/dw_1 = dh_1/dw_1 * d(L)/d(h_1)",
])
def test_every_notation_reads_the_same_factors(text):
    eq = parse(text)
    assert (eq.lhs.num.exact, eq.lhs.den.exact) == ("L", "w_1")
    assert derivs(text) == [[("h_1", "w_1"), ("L", "h_1")]]


@pytest.mark.parametrize("written, exact", [
    ("w1", "w1"), ("w_1", "w_1"), ("w_{1}", "w_1"), (r"net_{h1}", "net_h1"), (r"\mathit{net}_{h1}", "net_h1"),
    (r"E_{\mathrm{total}}", "E_total"), (r"y^{\prime}", "y'"), ("y'", "y'"), (r"b_{h1,1}", "b_h1_1"),
    ("b_h1_1", "b_h1_1"), (r"net_{h_{1}}", "net_h_1"), (r"\beta_2", "beta_2"), (r"\mathit{input}", "input"),
])
def test_names_are_canonicalised(written, exact):
    assert parse_name(written) == Name(exact, 0)
    assert parse(rf"\frac{{\partial L}}{{\partial {written}}} = 1").lhs.den.exact == exact


def test_an_inline_d_that_is_not_a_derivative_is_read_as_names():
    terms = derivs("L = delta/2 + d_1 / 3")
    assert [[type(f[1]).__name__ for f in t] for t in terms] == [["Group"], ["Group"]]


def test_sums_and_parentheses_distribute_into_products():
    text = r"\partial L/\partial w = \partial h/\partial w (\partial o/\partial h \partial L/\partial o + \partial p/\partial h \partial L/\partial p)"
    assert derivs(text) == [[("h", "w"), ("o", "h"), ("L", "o")], [("h", "w"), ("p", "h"), ("L", "p")]]


def test_a_minus_sign_becomes_a_factor_and_evaluated_sums_stay_whole():
    terms = derivs(r"\partial L/\partial w = -\partial h/\partial w \, h(1 - h) + x - (t - o)")
    assert [len(t) for t in terms] == [4, 1, 1]
    assert isinstance(terms[0][0][1], Number) and terms[0][0][1].value == -1
    assert terms[0][3][1].op == "+" and terms[0][3][1].paren


@pytest.mark.parametrize("text, expected", [
    (r"h_1(1-h_1)", sym("h_1") * (1 - sym("h_1"))),
    (r"\sigma(net_{h1})(1 - \sigma(net_{h1}))", None),
    (r"-(t_1 - o_1)", -(sym("t_1") - sym("o_1"))),
    (r"-2 \left(t_{1} - o_{1}\right)", -2 * (sym("t_1") - sym("o_1"))),
    (r"\frac{e^{z}}{1 + e^{z}}", sp.exp(sym("z")) / (1 + sp.exp(sym("z")))),
    (r"\exp(-z) \cdot 0.5", sp.exp(-sym("z")) / 2),
    (r"\left(1 - \tanh^{2}(z)\right)", None),
    (r"\sigma'(z)", None),
    (r"x^2 / 3", sym("x") ** 2 / 3),
])
def test_evaluated_factors_become_sympy_built_from_symbols(text, expected):
    got = value(text)
    z = sym("z")
    if expected is None:  # compare with the function's own derivative at a few points
        sig = 1 / (1 + sp.exp(-sym("net_h1")))
        expected = {"σ": sig * (1 - sig), "tanh": 1 - sp.tanh(z) ** 2, "σ'": sp.diff(1 / (1 + sp.exp(-z)), z)}[
            "σ" if "net" in text else "tanh" if "tanh" in text else "σ'"]
    for x in (-0.7, 0.3, 1.9):
        point = {s: x + 0.1 * i for i, s in enumerate(sorted(expected.free_symbols | got.free_symbols, key=str))}
        assert abs(float((got - expected).subs(point))) < 1e-12


@pytest.mark.parametrize("text, fragment, where", [
    (r"\frac{\partial L}{\partial w_{1}} = \frac{\partial h_{1}}{\partial w_{1}", "unbalanced braces", None),
    (r"\partial L/\partial w = (\partial h/\partial w", "unbalanced parentheses", None),
    (r"\partial L/\partial w = \partial h/\partial w)", "closes nothing", 45),
    (r"\partial L/\partial w = ", "right side is empty", None),
    (r"\partial L/\partial w", "no '='", None),
    (r"\partial L/\partial w = a = b", "second '='", None),
    ("", "empty", None),
    ("   \n  ", "empty", None),
    ("L = #x", "unexpected character '#'", 4),
    ("L = __import__('os').system('true')", "unexpected character", None),
    (r"\partial L/\partial w = \frac{\partial h}{w}", "denominator is not", None),
    (r"\partial L/\partial w = (\partial h/\partial w)^2", "raised to a power", None),
    ("L = a +", "missing", None),
    ("L = a \\cdot", "ends where a factor should be", None),
])
def test_unreadable_input_is_one_line_saying_where_reading_stopped(text, fragment, where):
    with pytest.raises(EquationError) as info:
        eq = parse(text)
        product_terms(eq.rhs, eq.text)
    message = str(info.value)
    assert fragment in message
    assert "\n" not in message and "reading stopped at character" in message
    if where is not None:
        assert info.value.pos == where


def test_no_user_text_reaches_eval_exec_or_sympify(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("user text reached an evaluator")

    for name in ("eval", "exec"):
        monkeypatch.setattr(builtins, name, refuse)
    monkeypatch.setattr(sp, "sympify", refuse)
    monkeypatch.setattr(sp, "parse_expr", refuse, raising=False)
    from sympy.parsing import sympy_parser
    monkeypatch.setattr(sympy_parser, "parse_expr", refuse)
    got = value(r"\sigma(net_{h1})(1-\sigma(net_{h1})) \cdot w_5 \cdot -(t_1 - o_1) / 2")
    assert got.free_symbols == {sym("net_h1"), sym("w_5"), sym("t_1"), sym("o_1")}
