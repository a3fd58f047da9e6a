"""Every naming convention of derive, spelled once (tangent's naming.py).

The user's own names are used wherever a user sees them; derive makes up names only here:

>>> net_name("h1"), delta_name("net_o1"), factor_text("o1", "w5")
('z_h1', 'δ_net_o1', '∂o1/∂w5')
>>> py_delta("h1"), py_gradient("w1"), py_partial("h1", "z_h1"), py_layer("W", 2)
('delta_h1', 'dL_dw1', 'dh1_dz_h1', 'W_2')
"""

from __future__ import annotations

import re

import sympy as sp

__all__ = ["DELTA", "GREEK", "LayerNames", "default_latex_name", "delta_name", "factor_text", "latex_name", "leibniz",
           "net_name", "py_delta", "py_gradient", "py_layer", "py_partial", "symbol"]


def symbol(name: str) -> sp.Symbol:
    """The Symbol for a user's name: the name itself, never parsed (E, I, S, lambda are fine)."""
    return sp.Symbol(name, real=True)


# δ_v names the error signal ∂L/∂v; "δ_" cannot begin a user's name (names are ASCII identifiers).
DELTA = "δ_"


def net_name(neuron: str) -> str:
    """The weighted sum of a neuron that the spec does not name: z_h for neuron h."""
    return f"z_{neuron}"


class LayerNames:
    """The names a layered spec ([dense] or [[layer]] tables) gives its scalar quantities: inputs
    i1, i2, …; with one hidden layer, hidden units h1, h2, …, with more, h1_1, h1_2, … (layer,
    unit); outputs o1, o2, …; net sums z_ + the unit's name (none for a unit that is its own sum);
    weights w1, w2, … and biases b1, b2, … numbered in order of use; targets t1, t2, ….

    >>> names = LayerNames(3)
    >>> names.start(1); names.unit(0, own_sum=False), names.weight(), names.bias()
    (('h1_1', 'z_h1_1'), 'w1', 'b1')
    """

    def __init__(self, layers: int):
        self.layers, self.layer = layers, 0
        self.weights = self.biases = 0

    @staticmethod
    def input(j: int) -> str:
        return f"i{j + 1}"

    @staticmethod
    def target(j: int) -> str:
        return f"t{j + 1}"

    def start(self, layer: int) -> None:
        """Layer `layer` (from 1) is next."""
        self.layer = layer

    def unit(self, j: int, own_sum: bool) -> tuple[str, str]:
        """(name, net) of unit j (from 0) of the current layer."""
        prefix = "o" if self.layer == self.layers else "h" if self.layers == 2 else f"h{self.layer}_"
        name = f"{prefix}{j + 1}"
        return name, name if own_sum else net_name(name)

    def weight(self) -> str:
        self.weights += 1
        return f"w{self.weights}"

    def bias(self) -> str:
        self.biases += 1
        return f"b{self.biases}"


def delta_name(node: str) -> str:
    return DELTA + node


def factor_text(num: str, den: str) -> str:
    return f"∂{num}/∂{den}"


# Names in generated code: they follow the math (δ_h1 is delta_h1, ∂L/∂w1 is dL_dw1).
def py_delta(node: str) -> str:
    return "delta_" + node


def py_gradient(param: str) -> str:
    return "dL_d" + param


def py_partial(dst: str, src: str) -> str:
    """An activation's slope ∂dst/∂src: dh1_dz_h1."""
    return f"d{dst}_d{src}"


def py_layer(role: str, k: int) -> str:
    """A layer's array in matrix code: W_1, Z_1, dZ_1, ... for layer k (1-based)."""
    return f"{role}_{k}"


# How a name is typeset when the spec's [latex] table does not say: w1 as w_{1}, net_h1 as
# \mathit{net}_{h1}, beta as \beta, δ_h1 as \delta_{h_{1}}.
GREEK = frozenset({
    "alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta", "iota", "kappa", "lambda",
    "mu", "nu", "xi", "pi", "rho", "sigma", "tau", "upsilon", "phi", "chi", "psi", "omega",
    "Gamma", "Delta", "Theta", "Lambda", "Xi", "Pi", "Sigma", "Upsilon", "Phi", "Psi", "Omega",
})
_WORD_DIGITS = re.compile(r"([A-Za-z]+)(\d+)\Z")


def _word(word: str, subscript: bool = False) -> str:
    if word in GREEK:
        return "\\" + word
    if len(word) > 1 and word.isalpha():
        return rf"\mathrm{{{word}}}" if subscript else rf"\mathit{{{word}}}"
    return word


def default_latex_name(name: str) -> str:
    r"""How a user's name is typeset when the spec does not say: the first underscore starts the subscript.

    >>> default_latex_name("net_h1"), default_latex_name("w1"), default_latex_name("δ_h1")
    ('\\mathit{net}_{h1}', 'w_{1}', '\\delta_{h_{1}}')
    """
    if name.startswith(DELTA):
        return rf"\delta_{{{default_latex_name(name[len(DELTA):])}}}"
    head, _, rest = name.partition("_")
    if not rest:  # no underscore: w1 -> w_{1}, beta2 -> \beta_{2}, x -> x
        m = _WORD_DIGITS.match(name)
        return f"{_word(m.group(1))}_{{{m.group(2)}}}" if m else _word(name)
    parts = [p for p in rest.split("_") if p]
    sub = ",".join(_word(p, subscript=True) for p in parts)
    return f"{_word(head)}_{{{sub}}}" if head else sub


def latex_name(name: str, names=None) -> str:
    """A name typeset: the spec's [latex] entry (`names`), else the default; δ of a named node follows it."""
    names = names or {}
    if name in names:  # a superscript of its own (w^{(1)}) is braced, so w^{(1)}^{new} cannot occur
        return f"{{{names[name]}}}" if "^" in names[name] else names[name]
    if name.startswith(DELTA) and name[len(DELTA):] in names:
        return rf"\delta_{{{names[name[len(DELTA):]]}}}"
    return default_latex_name(name)


def leibniz(num_tex: str, den_tex: str) -> str:
    """∂num/∂den as a LaTeX fraction of two typeset names."""
    return rf"\frac{{\partial {num_tex}}}{{\partial {den_tex}}}"
