"""printing.py: the user's names typeset as the math is written; sums read t − y."""

from __future__ import annotations

import sympy as sp

from derive.core.graph import symbol
from derive.printing import LatexPrinter, default_latex_name, latex, text


def test_default_names():
    assert default_latex_name("w1") == "w_{1}"
    assert default_latex_name("net_h1") == r"\mathit{net}_{h1}"
    assert default_latex_name("E_total") == r"E_{\mathrm{total}}"
    assert default_latex_name("h1_2") == "h_{1}_{2}" or default_latex_name("h1_2") == r"h1_{2}"
    assert default_latex_name("beta") == r"\beta"
    assert default_latex_name("lambda") == r"\lambda"
    assert default_latex_name("x") == "x"
    assert default_latex_name("δ_net_h1") == r"\delta_{\mathit{net}_{h1}}"


def test_overrides_from_the_spec_win():
    p = LatexPrinter({"yp": "y'"})
    assert p.doprint(symbol("yp") * (1 - symbol("yp"))) == "y' \\left(1 - y'\\right)"
    assert p.name("δ_yp") == r"\delta_{y'}"


def test_sums_put_positive_terms_first():
    t1, o1 = symbol("t1"), symbol("o1")
    assert latex(sp.Mul(-1, t1 - o1, evaluate=False)) == "- (t_{1} - o_{1})"
    assert latex(sp.Mul(-2, t1 - o1, evaluate=False)) == r"- 2 \left(t_{1} - o_{1}\right)"
    assert text(sp.Mul(-1, t1 - o1, evaluate=False)) == "-(t1 - o1)"


def test_user_names_are_never_parsed():
    # names SymPy's parser would treat specially stay plain symbols in print
    assert latex(symbol("E") + symbol("I") + symbol("S")) == "E + I + S"
    assert text(symbol("lambda") * symbol("Q")) == "Q·lambda"


def test_relu_derivative_reads_as_an_indicator():
    z = symbol("z_h")
    assert latex(sp.Heaviside(z, 0)) == r"\mathbf{1}\left[z_{h} > 0\right]"
    assert text(sp.Heaviside(z, 0) * symbol("w")) == "w·[z_h > 0]"
