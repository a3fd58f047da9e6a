"""The op registry: one entry per op, everything derive knows about it (autodidax's `jvp_rules`).

An equation of the network (graph.py) is one op applied to its arguments: the weighted sum
(`WEIGHTED_SUM`), an activation (`ACTIVATIONS`) or a loss (`LOSSES`).  Each entry answers, with
keyword fields and a few methods, every question a stage asks about it:

- its SymPy forward form (the truth, used by the tests' independent `sympy.diff`);
- its local partials ∂eq/∂arg, also as a person writes them (σ(z)(1−σ(z)) as a(1−a));
- how the equation reads (`readable`), its stable NumPy forms, its LaTeX and plain names;
- for a loss, how samples combine and the classic wrong constant the checker shows; for an
  activation, how a learner writes it (`spellings`).

Adding an op means adding one entry here; no other module tests an op's name.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction

import sympy as sp

from .naming import py_partial
from .naming import symbol as _sym

__all__ = ["ACTIVATIONS", "GROUPS", "LOSSES", "NEURON_ACTIVATIONS", "SOFTMAX", "WEIGHTED_SUM", "Activation", "AppliedBase", "LossKind", "Op", "WeightedSum"]


class AppliedBase(sp.Function):
    """f(z) for an activation, unevaluated, for display: the printers write it with the op's name
    (`_print_AppliedBase`), σ(net_h1) rather than the formula.  (SymPy's printers look past a
    Function subclass's own name unless it ends in "Base": hence the name.)"""

    op: Activation


@dataclass(frozen=True)
class Op:
    """What every op answers; the three kinds below fill it in."""

    name: str

    kind = ""  # the equation's role in the IR: "net", "act" or "loss"
    couples = False  # an activation whose every output reads every net of its group (a Jacobian, not f′ ⊙)
    reads_one_net = False  # an activation of one weighted sum: ∂a/∂w skips the sum (h1 = σ(w1·i1 + ...))
    evaluated_form = False  # its readable form is an evaluated SymPy expression (printed in SymPy's order)

    def partials(self, eq, params, outputs):
        """(arg, edge kind, ∂eq/∂arg, the same as a person writes it), one per argument."""
        raise NotImplementedError

    def readable(self, eq) -> list[sp.Expr]:
        """How the equation reads, as unevaluated expressions: each is a form of its right side."""
        raise NotImplementedError

    def text(self, eq, print_text) -> str:
        """The right side for the terminal; `print_text` prints a SymPy expression."""
        raise NotImplementedError

    def numpy_terms(self, eq, py: dict, code) -> list[str]:
        """The right side in NumPy, as terms of a sum (one term for anything but a weighted sum)."""
        raise NotImplementedError

    def numpy_slope(self, eq, py: dict) -> tuple[str, str] | None:
        """For an activation: (name, NumPy code) of the slope ∂eq/∂net; None when the slope is 1
        or the op has no slope of its own (its partials are printed from SymPy)."""
        return None


@dataclass(frozen=True)
class WeightedSum(Op):
    """net = Σ weight·source (+ bias): the partials are the source, the weight and 1."""

    kind = "net"
    derivative_note = ""  # nothing to say: the partials are the source, the weight and 1
    derivative_tex = ""

    def partials(self, eq, params, outputs):
        # ∂(Σ w·s + b)/∂arg: the source of each term arg weighs, the weight of each term it feeds,
        # 1 for the bias.  Collected in one pass, so a neuron's partials cost its number of terms.
        parts: dict[str, list[sp.Expr]] = {arg: [] for arg in eq.args}
        for w, s in eq.terms:
            parts[w].append(_sym(s))
            parts[s].append(_sym(w))
        if eq.bias:
            parts[eq.bias].append(sp.Integer(1))
        for arg in eq.args:
            partial = sp.Add(*parts[arg])
            yield arg, ("parameter" if arg in params else "source"), partial, partial

    def readable(self, eq) -> list[sp.Expr]:
        parts = [sp.Mul(_sym(w), _sym(src), evaluate=False) for w, src in eq.terms]
        if eq.bias:
            parts.append(_sym(eq.bias))
        return [sp.Add(*parts, evaluate=False) if len(parts) > 1 else parts[0]]

    def text(self, eq, print_text) -> str:
        return " + ".join([f"{w}·{src}" for w, src in eq.terms] + ([eq.bias] if eq.bias else []))

    def numpy_terms(self, eq, py, code) -> list[str]:
        return [code(sp.Mul(_sym(w), _sym(src), evaluate=False)) for w, src in eq.terms] + (
            [py[eq.bias]] if eq.bias else [])


WEIGHTED_SUM = WeightedSum("weighted_sum")


@dataclass(frozen=True)
class Activation(Op):
    label: str  # plain name for the terminal: "σ"
    latex: str  # LaTeX operator: r"\sigma"; "" for identity
    function: Callable[[sp.Expr], sp.Expr]  # f(z), elementary SymPy
    derivative: Callable[[sp.Expr, sp.Expr], sp.Expr]  # f'(z) from z and a = f(z), readable
    derivative_note: str  # the derivative in words, for the terminal and generated code
    derivative_tex: str  # the same for documents: text with $…$ math (derive's own LaTeX)
    # stable array expressions of f, with {z}, and of f', with {z} (net) and {a} (output); {xp} is the
    # namespace ("np" in NumPy code, "xp" in array-API code), and only functions of the array API
    # standard appear, so that one form serves both
    numpy: str
    numpy_derivative: str
    spellings: tuple[str, ...] = ()  # how a learner writes f in an equation: \sigma, \tanh, softplus
    title: str = ""  # its name in running text when not the spec's: "ReLU" for relu
    # δ from ∂L/∂a {dA} where it is cheaper than ∂L/∂a ⊙ f' (ReLU's gate: one pass and no array of 0s and 1s)
    numpy_delta: str = ""

    kind = "act"
    reads_one_net = True

    @property
    def unit_slope(self) -> bool:
        """Whether f' is 1 everywhere (the identity): code then needs no slope line."""
        return self.derivative(_sym("z"), _sym("a")) == 1

    def partials(self, eq, params, outputs):
        (net,) = eq.args
        value = self.derivative(_sym(net), _sym(eq.name))
        yield net, "activation", value, value

    def readable(self, eq) -> list[sp.Expr]:
        """[σ(net), 1/(1 + e^{−net})]; just [tanh(z)] when the formula is the function itself,
        and [net] for the identity."""
        z = _sym(eq.args[0])
        if eq.expr == z:
            return [z]
        applied = _APPLIED[self.name](z)
        if isinstance(eq.expr, sp.Function) and eq.expr.args == (z,):
            return [applied]
        return [applied, eq.expr]

    def text(self, eq, print_text) -> str:
        return f"{self.label}({eq.args[0]})"

    def numpy_terms(self, eq, py, code) -> list[str]:
        return [self.numpy.format(z=py[eq.args[0]], xp="np")]

    def numpy_matrix(self, Z: str, A: str, temp: str, xp: str = "np") -> list[tuple[str, str]]:
        """A layer's outputs from its matrix of nets (samples are rows), as (target, code) lines;
        `xp` names the array namespace."""
        return [(A, self.numpy.format(z=Z, xp=xp))]

    def numpy_backward(self, dA: str, Z: str, A: str, xp: str = "np") -> tuple[str, str]:
        """δ of a layer's nets from ∂L/∂a, as matrices (samples are rows), and the formula ({l}: the layer)."""
        formula = "∂L/∂a{l} ⊙ " + self.name + "'(z{l})"
        if self.numpy_delta:
            return self.numpy_delta.format(dA=dA, z=Z, a=A, xp=xp), formula
        return f"{dA} * ({self.numpy_derivative.format(z=Z, a=A, xp=xp)})", formula

    def numpy_slope(self, eq, py) -> tuple[str, str] | None:
        if self.unit_slope:
            return None
        net = eq.args[0]
        return py_partial(py[eq.name], py[net]), self.numpy_derivative.format(z=py[net], a=py[eq.name], xp="np")


# The logistic function as 1 / (1 + e^(−max(z, −709))): e^709 is the largest power of e a float
# holds, so nothing overflows; both tails keep full relative precision down to z = −709
# (σ(−40) = 4.2e-18, where 0.5*(1 + tanh(z/2)) loses every digit below about z = −20), and
# below it the value is 1.2e-308 instead of a smaller subnormal or 0.  One exponential: at a
# 10⁴ × 128 layer it takes 2.9 ms where e^min(z,0) / (1 + e^−|z|) takes 6.6 ms (bench/README.md).
_NP_SIGMOID = "1.0 / (1.0 + {xp}.exp(-{xp}.maximum({z}, -709.0)))"

ACTIVATIONS: dict[str, Activation] = {
    a.name: a
    for a in (
        Activation(
            "identity", label="", latex="", function=lambda z: z, derivative=lambda z, a: sp.Integer(1),
            derivative_note="the identity passes its input through: derivative 1",
            derivative_tex=r"the identity passes its input through: derivative $1$",
            numpy="{z}", numpy_derivative="{xp}.ones_like({z})",
        ),
        Activation(
            "sigmoid", label="σ", latex=r"\sigma", function=lambda z: 1 / (1 + sp.exp(-z)),
            derivative=lambda z, a: a * (1 - a),
            derivative_note="σ'(z) = σ(z)(1 − σ(z)): the output times one minus the output",
            derivative_tex=r"$\sigma'(z) = \sigma(z)\,(1 - \sigma(z))$: the output times one minus the output",
            numpy=_NP_SIGMOID, numpy_derivative="{a} * (1.0 - {a})", spellings=("sigma",),
        ),
        Activation(
            "tanh", label="tanh", latex=r"\tanh", function=sp.tanh, derivative=lambda z, a: 1 - a**2,
            derivative_note="tanh'(z) = 1 − tanh²(z): one minus the output squared",
            derivative_tex=r"$\tanh'(z) = 1 - \tanh^{2}(z)$: one minus the output squared",
            numpy="{xp}.tanh({z})", numpy_derivative="1.0 - {a} * {a}", spellings=("tanh",),
        ),
        Activation(
            "softplus", label="softplus", latex=r"\operatorname{softplus}",
            function=lambda z: sp.log(1 + sp.exp(z)), derivative=lambda z, a: sp.exp(z) / (1 + sp.exp(z)),
            derivative_note="softplus'(z) = e^z/(1 + e^z), the logistic sigmoid of z",
            derivative_tex=r"$\operatorname{softplus}'(z) = e^{z}/(1 + e^{z})$, the logistic sigmoid of $z$",
            numpy="{xp}.logaddexp(0.0, {z})", numpy_derivative=_NP_SIGMOID, spellings=("softplus",),
        ),
        Activation(
            "relu", label="relu", latex=r"\operatorname{ReLU}", title="ReLU", function=lambda z: sp.Max(0, z),
            derivative=lambda z, a: sp.Heaviside(z, 0),
            derivative_note="ReLU'(z) = 1 for z > 0 and 0 otherwise (0 at z = 0, as in PyTorch)",
            derivative_tex=r"$\operatorname{ReLU}'(z) = 1$ for $z > 0$ and $0$ otherwise ($0$ at $z = 0$, as in PyTorch)",
            numpy="{xp}.maximum({z}, 0.0)", numpy_derivative="{xp}.where({z} > 0.0, 1.0, 0.0)",
            numpy_delta="{xp}.where({z} > 0.0, {dA}, 0.0)",
        ),
        Activation(
            "leaky_relu", label="leaky_relu", latex=r"\operatorname{LeakyReLU}", title="LeakyReLU",
            function=lambda z: sp.Piecewise((z, z > 0), (sp.Rational(1, 100) * z, True)),
            derivative=lambda z, a: sp.Piecewise((sp.Integer(1), z > 0), (sp.Rational(1, 100), True)),
            derivative_note="LeakyReLU'(z) = 1 for z > 0 and 0.01 otherwise",
            derivative_tex=r"$\operatorname{LeakyReLU}'(z) = 1$ for $z > 0$ and $0.01$ otherwise",
            numpy="{xp}.where({z} > 0.0, {z}, 0.01 * {z})", numpy_derivative="{xp}.where({z} > 0.0, 1.0, 0.01)",
            numpy_delta="{xp}.where({z} > 0.0, {dA}, 0.01 * {dA})",
        ),
        Activation(
            "exp", label="exp", latex=r"\exp", function=sp.exp, derivative=lambda z, a: a,
            derivative_note="exp'(z) = e^z: the output itself",
            derivative_tex=r"$\exp'(z) = e^{z}$: the output itself",
            # e^709 is the largest power of e a float holds: saturate there instead of inf.
            numpy="{xp}.exp({xp}.minimum({z}, 709.0))", numpy_derivative="{a}", spellings=("exp",),
        ),
    )
}

_APPLIED = {k: type(f"Applied_{k}", (AppliedBase,), {"op": a}) for k, a in ACTIVATIONS.items()}


@dataclass(frozen=True)
class Softmax(Op):
    """o_k = e^{z_k} / Σ_j e^{z_j} over a group of output neurons: each output reads every net of
    the group (`eq.args`, aligned with the group's outputs `eq.group`), so ∂o_k/∂z_j =
    o_k(δ_kj − o_j): o_k(1 − o_k) on the diagonal, −o_k·o_j off it."""

    label: str = "softmax"
    latex: str = r"\operatorname{softmax}"
    derivative_note: str = ("∂o_k/∂z_j = o_k(1 − o_k) for j = k and −o_k·o_j otherwise: every output of a "
                            "softmax depends on every net of its group")
    derivative_tex: str = (r"$\partial o_k/\partial z_j = o_k(1 - o_k)$ for $j = k$ and $-o_k o_j$ otherwise: every "
                           "output of a softmax depends on every net of its group")

    kind = "act"
    unit_slope = False
    couples = True
    jacobian_note: str = ("Each output of a softmax depends on every net of its layer, so the sum runs over all "
                          "outputs $k$.")

    @staticmethod
    def jacobian_latex(ak: str, aj: str) -> str:
        """∂a_k/∂z_j in LaTeX, from the typeset a_k and a_j."""
        return rf"{ak} \left(\delta_{{kj}} - {aj}\right)"

    def numpy_matrix(self, Z: str, A: str, temp: str, xp: str = "np") -> list[tuple[str, str]]:
        # each row shifted by its maximum, so every exponent is ≤ 0 (3× quicker than through
        # np.logaddexp.reduce, measured in bench/bench_layers.py)
        return [(temp, f"{xp}.exp({Z} - {xp}.max({Z}, axis=1, keepdims=True))"),
                (A, f"{temp} / {xp}.sum({temp}, axis=1, keepdims=True)")]

    @staticmethod
    def expr(k: int, nets) -> sp.Expr:
        return sp.exp(_sym(nets[k])) / sp.Add(*[sp.exp(_sym(z)) for z in nets])

    def partials(self, eq, params, outputs):
        k = eq.group.index(eq.name)  # the output's own net is eq.args[k]
        o = _sym(eq.name)
        for j, z in enumerate(eq.args):
            value = o * (1 - o) if j == k else -o * _sym(eq.group[j])
            yield z, "activation", value, value

    def readable(self, eq) -> list[sp.Expr]:
        return [eq.expr]

    def text(self, eq, print_text) -> str:
        return print_text(eq.expr)

    def numpy_backward(self, dA: str, Z: str, A: str, xp: str = "np") -> tuple[str, str]:
        # the Jacobian diag(a) − a aᵀ times ∂L/∂a, row by row, without forming the Jacobian
        return f"{A} * ({dA} - {xp}.sum({dA} * {A}, axis=1, keepdims=True))", "(diag(a{l}) − a{l} a{l}ᵀ) ∂L/∂a{l}"

    def numpy_terms(self, eq, py, code) -> list[str]:
        # e^{z_k − logsumexp(z)}: the exponent is ≤ 0, so nothing overflows at any logits
        own = py[eq.args[eq.group.index(eq.name)]]
        return [f"np.exp({own} - np.logaddexp.reduce([{', '.join(py[z] for z in eq.args)}], axis=0))"]


SOFTMAX = Softmax("softmax")
GROUPS: dict[str, Softmax] = {"softmax": SOFTMAX}  # activations of a group of neurons, not of one
NEURON_ACTIVATIONS: dict[str, Op] = {**ACTIVATIONS, **GROUPS}  # what a spec's neuron may name


@dataclass(frozen=True)
class LossKind(Op):
    description: str  # for documents: "half the sum of squared errors" (no formula: the spec's names differ)
    per_sample: Callable[[tuple], sp.Expr]  # pairs (y, t) -> per-sample loss
    derivative: Callable[[sp.Expr, sp.Expr, int], sp.Expr]  # (y, t, K outputs) -> ∂L/∂y, readable
    derivative_note: str  # why ∂L/∂y is what it is, in words, after the formula (derive check)
    # for documents: text with $…$ math, §L §y §t §K standing for the loss, an output, its target, K
    derivative_tex: str
    reduction: str  # how samples combine: "sum" or "mean"
    # the checker's classic wrong form of ∂L/∂y for K outputs: (title, wrong coefficient of (t − y))
    wrong_constant: Callable[[int], tuple[str, str]] | None = None
    # whether a product off by the constant c is explained by this loss's derivative (K outputs)
    explains: Callable[[Fraction, int], bool] = lambda c, k: abs(c) in (2, Fraction(1, 2))
    requires: str = ""  # the activation every output must have ("softmax" for cross-entropy), if any
    # a stable NumPy form of the per-sample loss from (target, output's net) pairs and the nets of
    # the outputs' group, when the loss of the outputs themselves would take log(0) (None: print it)
    numpy_loss: Callable[[list, list], str] | None = None
    # with numpy_loss: the output nets' δ as matrices, from {A} outputs, {T} targets ({xp}: as in Activation)
    numpy_net_delta: str = ""
    net_delta: str = ""  # the same in words, with {a} the outputs: "{a} Σt − t"
    numpy_matrix_loss: str = ""  # the data-set loss from matrices {A} (outputs), {Z} (their nets), {T} (targets), {xp}
    latex_vector: str = ""  # the per-sample loss in vector notation, LaTeX with {a} (outputs), {t}, {K}
    latex_net_delta: str = ""  # with a net delta: it in LaTeX, {a} the outputs
    # with a net delta: why it is so simple, in words with $…$ math, from the typeset output a
    cancels: Callable[[str], str] = lambda a: ""
    log_sum_exp: bool = False  # numpy_matrix_loss reads {LSE}, each row's log-sum-exp of the nets

    kind = "loss"
    evaluated_form = True

    def scale(self, samples: int) -> float:
        """Data-set loss = scale × Σ per-sample losses."""
        return 1.0 / samples if self.reduction == "mean" else 1.0

    def partials(self, eq, params, outputs):
        for arg in eq.args:
            partial = sp.diff(eq.expr, _sym(arg))
            if arg in outputs:
                shown = self.derivative(_sym(arg), _sym(outputs[arg]), len(outputs))
                # a loss of logs: the readable form is the partial, so that δ of the nets cancels
                # the outputs' own factors (−t/o · o(1 − o) = −t(1 − o), no division by o)
                yield arg, "loss", (shown if self.numpy_loss else partial), shown
            else:
                yield arg, "target", partial, partial

    def readable(self, eq) -> list[sp.Expr]:
        return [eq.expr]

    def text(self, eq, print_text) -> str:
        return print_text(eq.expr)

    def numpy_terms(self, eq, py, code) -> list[str]:
        return [code(eq.expr)]


def _neg(coefficient, t, y):
    # -(t - y) written as a person writes it; the printers keep t before y.
    return sp.Mul(coefficient, t - y, evaluate=False)


LOSSES: dict[str, LossKind] = {
    k.name: k
    for k in (
        LossKind(
            "half_sse", description="half the sum of squared errors",
            per_sample=lambda pairs: sp.Rational(1, 2) * sp.Add(*[(t - y) ** 2 for y, t in pairs]),
            derivative=lambda y, t, k: _neg(-1, t, y),
            derivative_note="the ½ cancels the 2 from the square",
            derivative_tex=r"the $\tfrac{1}{2}$ cancels the $2$ from the square, so $\partial §L/\partial §y = -(§t - §y)$",
            reduction="sum", wrong_constant=lambda k: ("a factor of 2 in the loss derivative", "-2"),
            numpy_matrix_loss="0.5 * {xp}.sum(({T} - {A}) ** 2)",
            latex_vector=r"\tfrac{{1}}{{2}} \lVert {t} - {a} \rVert^{{2}}",
        ),
        LossKind(
            "sse", description="the sum of squared errors",
            per_sample=lambda pairs: sp.Add(*[(t - y) ** 2 for y, t in pairs]),
            derivative=lambda y, t, k: _neg(-2, t, y),
            derivative_note="the square brings down a 2",
            derivative_tex=r"the square brings down a $2$, so $\partial §L/\partial §y = -2(§t - §y)$",
            reduction="sum", wrong_constant=lambda k: ("the 2 from the square forgotten", "-"),
            numpy_matrix_loss="{xp}.sum(({T} - {A}) ** 2)",
            latex_vector=r"\lVert {t} - {a} \rVert^{{2}}",
        ),
        LossKind(
            "mse", description="the mean of squared errors over the outputs",
            per_sample=lambda pairs: sp.Rational(1, len(pairs)) * sp.Add(*[(t - y) ** 2 for y, t in pairs]),
            derivative=lambda y, t, k: _neg(sp.Rational(-2, k), t, y),
            derivative_note="the square brings down a 2 and the mean over the outputs divides by their number",
            # §M: " and the mean over the K outputs divides by K" (nothing for one output); §c: −2/K as a factor
            derivative_tex=r"the square brings down a $2$§M: $\partial §L/\partial §y = §c(§t - §y)$",
            reduction="mean", numpy_matrix_loss="{xp}.mean(({T} - {A}) ** 2)",
            latex_vector=r"\tfrac{{1}}{{{K}}} \lVert {t} - {a} \rVert^{{2}}",
            wrong_constant=lambda k: ((f"the mean's 1/{k} forgotten", "-2") if k > 1
                                      else ("the 2 from the square forgotten", "-")),
            explains=lambda c, k: True,
        ),
        LossKind(
            "cross_entropy", description="the cross-entropy of softmax outputs",
            per_sample=lambda pairs: -sp.Add(*[t * sp.log(y) for y, t in pairs]),
            derivative=lambda y, t, k: -t / y,
            derivative_note="the log's derivative is one over its argument; through the softmax the δ of each net "
                            "sums to its output minus its target (for targets that sum to 1)",
            derivative_tex=r"the log's derivative is $1/§y$, so $\partial §L/\partial §y = -§t/§y$; through the "
                           r"softmax the $\delta$ of each net sums to $§y - §t$ (for targets that sum to $1$)",
            reduction="sum", requires="softmax", numpy_net_delta="{A} * {xp}.sum({T}, axis=1, keepdims=True) - {T}",
            net_delta="{a} Σ_k t_k − t (that is {a} − t for targets that sum to 1)",
            numpy_matrix_loss="-{xp}.sum({T} * ({Z} - {LSE}))", log_sum_exp=True,
            cancels=lambda a: f"The cross-entropy's $1/{a}$ cancels against the softmax Jacobian's factor ${a}$.",
            latex_vector=r"- \sum_{{k}} {t}_{{k}} \log {a}_{{k}}",
            latex_net_delta=r"{a} \textstyle\sum_{{k}} t_{{k}} - t",
            # −Σ t_k (z_k − logsumexp(z)): log of a softmax output without computing the output
            numpy_loss=lambda pairs, nets: "-(" + " + ".join(
                f"{t} * ({z} - np.logaddexp.reduce([{', '.join(nets)}], axis=0))" for t, z in pairs) + ")",
        ),
        LossKind(
            "binary_cross_entropy", description="the binary cross-entropy of sigmoid outputs",
            per_sample=lambda pairs: -sp.Add(*[t * sp.log(y) + (1 - t) * sp.log(1 - y) for y, t in pairs]),
            derivative=lambda y, t, k: (y - t) / (y * (1 - y)),
            derivative_note="the logs' derivatives over the output and one minus it; times the sigmoid's "
                            "derivative the net's δ is the output minus its target",
            derivative_tex=r"$\partial §L/\partial §y = -§t/§y + (1 - §t)/(1 - §y) = (§y - §t)/(§y(1 - §y))$; times "
                           r"the sigmoid's $§y(1 - §y)$, the net's $\delta$ is $§y - §t$",
            reduction="sum", requires="sigmoid", numpy_net_delta="{A} - {T}", net_delta="{a} − t",
            numpy_matrix_loss="{xp}.sum({xp}.logaddexp(0.0, {Z}) - {T} * {Z})",
            latex_vector=r"- \sum_{{k}} \left[{t}_{{k}} \log {a}_{{k}} + (1 - {t}_{{k}}) \log (1 - {a}_{{k}})\right]",
            latex_net_delta=r"{a} - t",
            cancels=lambda a: f"The sigmoid's ${a}(1 - {a})$ cancels the binary cross-entropy's denominator.",
            # softplus(z) − t·z = −[t log σ(z) + (1 − t) log(1 − σ(z))], finite at any z
            numpy_loss=lambda pairs, nets: " + ".join(f"(np.logaddexp(0.0, {z}) - {t} * {z})" for t, z in pairs),
        ),
    )
}
