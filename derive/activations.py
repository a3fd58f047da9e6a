"""The activation and loss registries: one entry per kind, everything derive knows about it.

An activation is one `Activation`: its SymPy form f(z) (the truth, used by the tests'
independent `sympy.diff`), its derivative written the way a person writes it (σ(z)(1−σ(z)) as
a(1−a), softplus' as e^z/(1+e^z)), its LaTeX and plain names, and its numerically stable NumPy
forms for generated code.  Adding an activation means adding one entry here; nothing else
branches on activation names.

A loss is one `Loss`: the per-sample expression over (output, target) pairs, the readable
derivative ∂L/∂y with its constant made explicit, and how samples are combined.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import sympy as sp

__all__ = ["ACTIVATIONS", "LOSSES", "Activation", "LossKind"]


@dataclass(frozen=True)
class Activation:
    name: str
    text: str  # plain name for the terminal: "σ"
    latex: str  # LaTeX operator: r"\sigma"; "" for identity
    function: Callable[[sp.Expr], sp.Expr]  # f(z), elementary SymPy
    derivative: Callable[[sp.Expr, sp.Expr], sp.Expr]  # f'(z) from z and a = f(z), readable
    derivative_note: str  # the derivative in words, for documents
    numpy: str  # stable NumPy expression of f, with {z}
    numpy_derivative: str  # stable NumPy expression of f', with {z} (net) and {a} (output)


def _leaky(z):
    return sp.Piecewise((z, z > 0), (sp.Rational(1, 100) * z, True))


def _leaky_prime(z, a):
    return sp.Piecewise((sp.Integer(1), z > 0), (sp.Rational(1, 100), True))


# The logistic function as e^min(z,0) / (1 + e^-|z|): both exponents are <= 0, so nothing
# overflows, and both tails keep full relative precision (σ(-40) = 4.2e-18, where the form
# 0.5*(1 + tanh(z/2)) loses every digit below about z = -20 and gives 0).
_NP_SIGMOID = "np.exp(np.minimum({z}, 0.0)) / (1.0 + np.exp(-np.abs({z})))"

ACTIVATIONS: dict[str, Activation] = {
    a.name: a
    for a in (
        Activation(
            "identity", "", "", lambda z: z, lambda z, a: sp.Integer(1),
            "the identity passes its input through: derivative 1",
            "{z}", "np.ones_like({z})",
        ),
        Activation(
            "sigmoid", "σ", r"\sigma", lambda z: 1 / (1 + sp.exp(-z)), lambda z, a: a * (1 - a),
            "σ'(z) = σ(z)(1 − σ(z)): the output times one minus the output",
            _NP_SIGMOID, "{a} * (1.0 - {a})",
        ),
        Activation(
            "tanh", "tanh", r"\tanh", sp.tanh, lambda z, a: 1 - a**2,
            "tanh'(z) = 1 − tanh²(z): one minus the output squared",
            "np.tanh({z})", "1.0 - {a} * {a}",
        ),
        Activation(
            "softplus", "softplus", r"\operatorname{softplus}",
            lambda z: sp.log(1 + sp.exp(z)), lambda z, a: sp.exp(z) / (1 + sp.exp(z)),
            "softplus'(z) = e^z/(1 + e^z), the logistic sigmoid of z",
            "np.logaddexp(0.0, {z})", _NP_SIGMOID,
        ),
        Activation(
            "relu", "relu", r"\operatorname{ReLU}", lambda z: sp.Max(0, z),
            lambda z, a: sp.Heaviside(z, 0),
            "ReLU'(z) = 1 for z > 0 and 0 otherwise (0 at z = 0, as in PyTorch)",
            "np.maximum({z}, 0.0)", "np.where({z} > 0.0, 1.0, 0.0)",
        ),
        Activation(
            "leaky_relu", "leaky_relu", r"\operatorname{LeakyReLU}", _leaky, _leaky_prime,
            "LeakyReLU'(z) = 1 for z > 0 and 0.01 otherwise",
            "np.where({z} > 0.0, {z}, 0.01 * {z})", "np.where({z} > 0.0, 1.0, 0.01)",
        ),
        Activation(
            "exp", "exp", r"\exp", sp.exp, lambda z, a: a,
            "exp'(z) = e^z: the output itself",
            # e^709 is the largest power of e a float holds: saturate there instead of inf.
            "np.exp(np.minimum({z}, 709.0))", "{a}",
        ),
    )
}


@dataclass(frozen=True)
class LossKind:
    name: str
    description: str  # for documents: "half the sum of squared errors"
    per_sample: Callable[[tuple], sp.Expr]  # pairs (y, t) -> per-sample loss
    derivative: Callable[[sp.Expr, sp.Expr, int], sp.Expr]  # (y, t, K outputs) -> ∂L/∂y, readable
    derivative_note: str
    reduction: str  # how samples combine: "sum" or "mean"


def _neg(coefficient, t, y):
    # -(t - y) written as a person writes it; the printers keep t before y.
    return sp.Mul(coefficient, t - y, evaluate=False)


LOSSES: dict[str, LossKind] = {
    k.name: k
    for k in (
        LossKind(
            "half_sse", "half the sum of squared errors, ½Σ(t − y)²",
            lambda pairs: sp.Rational(1, 2) * sp.Add(*[(t - y) ** 2 for y, t in pairs]),
            lambda y, t, k: _neg(-1, t, y),
            "the ½ cancels the 2 from the square, so ∂L/∂y = −(t − y)",
            "sum",
        ),
        LossKind(
            "sse", "the sum of squared errors, Σ(t − y)²",
            lambda pairs: sp.Add(*[(t - y) ** 2 for y, t in pairs]),
            lambda y, t, k: _neg(-2, t, y),
            "the square brings down a 2, so ∂L/∂y = −2(t − y)",
            "sum",
        ),
        LossKind(
            "mse", "the mean of squared errors over outputs and samples",
            lambda pairs: sp.Rational(1, len(pairs)) * sp.Add(*[(t - y) ** 2 for y, t in pairs]),
            lambda y, t, k: _neg(sp.Rational(-2, k), t, y),
            "the square brings down a 2 and the mean over K outputs divides by K: ∂L/∂y = −(2/K)(t − y)",
            "mean",
        ),
    )
}
