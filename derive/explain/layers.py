r"""The layer-form document as plain data: the derivation in matrix notation, every formula printed.

For any layered network (`[dense]`, `[[layer]]`, or `[[neuron]]` tables that fall into layers),
and the only document for those whose per-weight one would run to hundreds of pages: a diagram by
layer, the matrices in the spec's own names (for a network small enough to print them), the forward
pass z⁽ˡ⁾ = W⁽ˡ⁾a⁽ˡ⁻¹⁾ + b⁽ˡ⁾, a⁽ˡ⁾ = f(z⁽ˡ⁾) with the shape of every quantity, the loss, the
backward pass (the output layer's δ derived in the open: for softmax with cross-entropy the
Jacobian a_k(δ_kj − a_j) times −t_k/a_k, summed), δ⁽ˡ⁾ = (W⁽ˡ⁺¹⁾ᵀδ⁽ˡ⁺¹⁾) ⊙ f′(z⁽ˡ⁾), the
gradients, a bridge: one scalar weight's entry of ∂L/∂W⁽¹⁾ as the per-weight chain rule writes
it, a sum over its paths (written out for a small network), and a worked example with the spec's
numbers: one forward pass, δ per layer, the gradients and one update step, the same numbers
(`derive.evaluate`'s) as the per-weight document's.  What a layer kind or an op contributes comes
from its registry entry (kinds.py, ops.py).  templates/explain_layers.*.j2 lay it out.

>>> import derive
>>> spec = derive.loads('name = "c"\n[dense]\nsizes = [784, 128, 10]\nactivation = ["sigmoid", "softmax"]\n'
...                     '[loss]\nkind = "cross_entropy"\n')
>>> doc = build_layers(spec)
>>> doc.bridge.paths, doc.layers[0].weight_shape
(100, '128 \\times 784')
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import sympy as sp

from ..core.chain import derive
from ..core.derivation import Factor
from ..core.interpret import evaluate
from ..core.layers import layering
from ..printing.printers import LatexPrinter, latex_factor
from .texmath import Row, chain_rows, number

__all__ = ["Bridge", "LayerDocument", "LayerExample", "LayerRow", "build_layers"]

# A network is printed entry by entry (its matrices in the spec's names, the worked example's
# numbers, the paths of the bridge) when no layer is wider than this and it has at most
# SMALL_WEIGHTS weights: a matrix of 8 columns still fits the page's width.
SMALL_WIDTH = 8
SMALL_WEIGHTS = 200
PATHS_WRITTEN = 8  # the bridge writes out at most this many paths, one per line


@dataclass(frozen=True)
class LayerRow:
    index: int
    size: int
    activation: str  # LaTeX of the activation's operator, or its plain name in a text cell
    weight_shape: str  # LaTeX: 128 \times 784
    bias: str  # plain text: "one per neuron", "one shared by the layer", "none"
    kind: str  # plain text: the layer kind's title


@dataclass(frozen=True)
class Bridge:
    """One scalar weight's gradient, as the matrix formula's entry and as the per-weight chain rule."""

    weight: str  # LaTeX of the scalar weight: w_{1}
    entry: str  # LaTeX: W^{(1)}_{1,1}
    source: str  # LaTeX of the input it weighs: i_{1}
    net: str  # LaTeX of the net it feeds: z_{h1}
    paths: int  # paths from the weight to the loss
    rows: tuple[Row, ...]
    written: tuple[Row, ...] = ()  # the chain rule with every path written out (small networks)


@dataclass(frozen=True)
class LayerExample:
    """The worked example in matrix form: every number is `derive.evaluate`'s, as in the per-weight document."""

    parameters: tuple[Row, ...]  # W⁽ˡ⁾ and b⁽ˡ⁾ at the spec's values
    given: tuple[Row, ...]  # sample 1's inputs and targets
    forward: tuple[Row, ...]  # z⁽ˡ⁾ and a⁽ˡ⁾ at sample 1
    loss: tuple[Row, ...]  # sample 1's loss, and the data set's
    deltas: tuple[Row, ...]  # δ⁽ˡ⁾ at sample 1
    gradients: tuple[Row, ...]  # ∂L/∂W⁽ˡ⁾, ∂L/∂b⁽ˡ⁾ over the data set
    updates: tuple[Row, ...]  # one step of gradient descent
    samples: int
    learning_rate: str


@dataclass(frozen=True)
class LayerDocument:
    name: str
    title: str
    source: str
    inputs: int
    layers: tuple[LayerRow, ...]
    diagram: tuple[tuple[str, str], ...]  # the boxes by layer, left to right: (LaTeX label, LaTeX note)
    diagram_scale: str  # the TikZ picture's scale, so that it fits the page's width
    names: tuple[Row, ...]  # the vectors and matrices in the spec's own names (small networks)
    forward: tuple[Row, ...]
    loss: tuple[Row, ...]
    loss_name: str  # LaTeX of the loss's name
    loss_description: str
    reduction: str
    top: tuple[Row, ...]  # δ of the output layer, derived
    top_note: str  # text with $…$ math
    hidden: tuple[Row, ...]  # δ of each hidden layer
    gradient_note: str  # text with $…$ math
    gradients: tuple[Row, ...]
    penalty: str  # LaTeX, "" without L2
    bridge: Bridge
    parameters: int  # scalar parameters in all
    example: LayerExample | None = None


def _a(l: int) -> str:
    return rf"a^{{({l})}}"


def _vector(entries) -> str:
    """A column vector, written as a transposed row to save the page's height."""
    entries = list(entries)
    if len(entries) == 1:
        return entries[0]
    return r"\begin{bmatrix} " + " & ".join(entries) + r" \end{bmatrix}^{\top}"


def _matrix(rows) -> str:
    return r"\begin{bmatrix} " + r" \\ ".join(" & ".join(r) for r in rows) + r" \end{bmatrix}"


def _bias(layer, show) -> str:
    """b⁽ˡ⁾'s entries: one for a shared bias, a vector for one per neuron."""
    return show(layer.biases[0]) if layer.shared_bias else _vector(show(b) for b in layer.biases)


def _small(lf) -> bool:
    return (max(max(x.shape) for x in lf.layers) <= SMALL_WIDTH
            and sum(len(r) for x in lf.layers for r in x.weights) <= SMALL_WEIGHTS)


def build_layers(spec, numbers: bool = True) -> LayerDocument:
    """The layer-form document of a layered spec (no per-weight derivation is needed, except to
    write a small network's paths and numbers)."""
    lf = layering(spec)  # NotLayered (a ValueError) for a network that does not fall into layers
    loss = lf.loss_op
    L = len(lf.layers)
    printer = LatexPrinter(dict(spec.latex))
    Lname = printer.name(spec.loss.name)
    rows, forward = [], []
    for layer in lf.layers:
        l, (n, m) = layer.index, layer.shape
        f = layer.activation
        rows.append(LayerRow(l, n, rf"${f.latex}$" if f.latex else "identity", rf"{n} \times {m}",
                             layer.kind.bias_words(layer), layer.kind.title))
        forward.append(Row(rf"z^{{({l})}}", rf"= {layer.kind.latex(l, bool(layer.biases))} "
                                            rf"\qquad z^{{({l})}} \in \mathbb{{R}}^{{{n}}}"))
        shown = rf"{f.latex}\left(z^{{({l})}}\right)" if f.latex else rf"z^{{({l})}}"
        forward.append(Row(_a(l), rf"= {shown} \qquad {_a(l)} \in \mathbb{{R}}^{{{n}}}"))
    K = len(lf.layers[-1].outputs)
    loss_rows = (Row(Lname, "= " + loss.latex_vector.format(a=_a(L), t="t", K=K) + r" \qquad \text{per sample}"),)
    top, note = _top(lf, loss, L, Lname)
    hidden = []
    for layer in reversed(lf.layers[:-1]):
        l = layer.index
        hidden.append(Row(rf"\delta^{{({l})}}", rf"= {lf.layers[l].kind.latex_back(l + 1)} \odot {_slope(layer, l)}"))
    lam = spec.loss.l2
    scale = r"\frac{1}{N} " if loss.reduction == "mean" else ""
    grads = []
    for layer in reversed(lf.layers):
        l, (n, m) = layer.index, layer.shape
        reg = rf" + \lambda W^{{({l})}}" if lam else ""
        grads.append(Row(rf"\frac{{\partial {Lname}}}{{\partial W^{{({l})}}}}",
                         rf"= {scale}\sum_{{n}} {layer.kind.latex_grad_weights(l)}{reg}"
                         rf" \qquad \text{{shape }} {n} \times {m}"))
        if layer.biases:
            inner = rf"\sum_{{j}} \delta^{{({l})}}_{{j}}" if layer.shared_bias else rf"\delta^{{({l})}}"
            grads.append(Row(rf"\frac{{\partial {Lname}}}{{\partial b^{{({l})}}}}",
                             rf"= {scale}\sum_{{n}} {inner} \qquad "
                             + (r"\text{one number}" if layer.shared_bias else rf"\text{{shape }} {n}")))
    small = _small(lf)
    d = derive(spec) if small else None
    first = lf.layers[0]
    w, src, net = first.weights[0][0], first.sources[0], first.nets[0]
    paths = d.path_count(w) if d else math.prod(len(x.outputs) for x in lf.layers[1:]) * (
        K if lf.layers[-1].activation.couples else 1)
    bridge_rows = (
        Row(rf"\frac{{\partial {Lname}}}{{\partial W^{{(1)}}_{{1,1}}}}", r"= \delta^{(1)}_{1} \, a^{(0)}_{1}"
                                                                     r" \qquad \text{(one sample)}"),
        Row("", rf"= \frac{{\partial {Lname}}}{{\partial {printer.name(w)}}} = {printer.name(src)} \, "
                rf"\delta_{{{printer.name(net)}}}"),
    ) + ((Row(r"\text{over the data set}", rf"= {scale}\sum_{{n}} {printer.name(src)} \, \delta_{{{printer.name(net)}}}"
                                             rf" + \lambda {printer.name(w)}"),) if lam else ())
    written = ()
    if d is not None and paths <= PATHS_WRITTEN:
        chain = d.chain(w)
        products = [r" \, ".join(latex_factor(f, printer) for f in prod) for prod in chain.products]
        written = chain_rows(latex_factor(Factor(spec.loss.name, w), printer), [" + ".join(products)])
    shown = printer.name
    names = ()
    if small:  # the quantities in the spec's own names
        names = (Row(_a(0), "= " + _vector(shown(x) for x in first.sources)),)
        for layer in lf.layers:
            l = layer.index
            names += (Row(rf"W^{{({l})}}", "= " + _matrix([[shown(x) for x in r] for r in layer.weights])),)
            if layer.biases:
                names += (Row(rf"b^{{({l})}}", "= " + _bias(layer, shown)),)
            if not layer.own_sums:
                names += (Row(rf"z^{{({l})}}", "= " + _vector(shown(x) for x in layer.nets)),)
            names += (Row(_a(l), "= " + _vector(shown(x) for x in layer.outputs)),)
        names += (Row("t", "= " + _vector(shown(t) for t in lf.targets)),)
    example = _example(lf, d, Lname) if d is not None and numbers else None
    boxes = [(_a(0), rf"{len(spec.inputs)}\ \text{{inputs}}")]
    for layer in lf.layers:
        f = layer.activation
        boxes.append((_a(layer.index), rf"{layer.shape[0]},\ " + (f"{f.latex}" if f.latex else r"\text{identity}")))
    boxes.append((Lname, r"\text{" + loss.name.replace("_", r"\_") + "}"))
    return LayerDocument(
        spec.name, spec.title or spec.name, Path(spec.source).name, len(spec.inputs), tuple(rows), tuple(boxes),
        f"{min(1.0, 16.0 / (3.3 * len(boxes))):.2f}", names,
        tuple(forward), loss_rows, Lname, loss.description, loss.reduction, top, note, tuple(hidden),
        first.kind.grad_weights_words, tuple(grads),
        (rf"\frac{{\lambda}}{{2}} \sum w^{{2}}, \ \lambda = {lam:g}" if lam else ""),
        Bridge(printer.name(w), r"W^{(1)}_{1,1}", printer.name(src), printer.name(net), paths, bridge_rows, written),
        sum(len(row) for x in lf.layers for row in x.weights) + sum(len(x.biases) for x in lf.layers),
        example)


def _example(lf, d, Lname: str) -> LayerExample | None:
    """The worked example at the spec's [values] over its [data], at sample 1 and over the data set."""
    spec = d.spec
    if not spec.data or not set(dict(spec.values)) >= set(d.parameters):
        return None
    nums = evaluate(d)
    s = nums.samples[0]
    start = dict(spec.values)
    val = lambda x: number(x)  # noqa: E731 -- one formatter for every number, as the per-weight document's
    params, forward, deltas, grads, updates = [], [], [], [], []
    eta = number(nums.learning_rate)
    for layer in lf.layers:
        l = layer.index
        params.append(Row(rf"W^{{({l})}}", "= " + _matrix([[val(start[w]) for w in r] for r in layer.weights])))
        if layer.biases:
            params.append(Row(rf"b^{{({l})}}", "= " + _bias(layer, lambda b: val(start[b]))))
        if not layer.own_sums:
            forward.append(Row(rf"z^{{({l})}}", rf"= {layer.kind.latex(l, bool(layer.biases))} = "
                                                + _vector(val(s.values[z]) for z in layer.nets)))
        f = layer.activation
        rhs = rf"{f.latex}\left(z^{{({l})}}\right)" if f.latex else layer.kind.latex(l, bool(layer.biases))
        forward.append(Row(_a(l), f"= {rhs} = " + _vector(val(s.values[a]) for a in layer.outputs)))
    for layer in reversed(lf.layers):
        l = layer.index
        deltas.append(Row(rf"\delta^{{({l})}}", "= " + _vector(val(s.deltas[z]) for z in layer.nets)))
        g = nums.gradients
        grads.append(Row(rf"\frac{{\partial {Lname}}}{{\partial W^{{({l})}}}}",
                         "= " + _matrix([[val(g[w]) for w in r] for r in layer.weights])))
        if layer.biases:
            grads.append(Row(rf"\frac{{\partial {Lname}}}{{\partial b^{{({l})}}}}", "= " + _bias(layer, lambda b: val(g[b]))))
    for layer in lf.layers:
        l = layer.index
        new = nums.updated
        updates.append(Row(rf"W^{{({l})}}", rf"\leftarrow W^{{({l})}} - {eta} \, \frac{{\partial {Lname}}}"
                                             rf"{{\partial W^{{({l})}}}} = "
                                             + _matrix([[val(new[w]) for w in r] for r in layer.weights])))
        if layer.biases:
            updates.append(Row(rf"b^{{({l})}}", rf"\leftarrow b^{{({l})}} - {eta} \, \frac{{\partial {Lname}}}"
                                                 rf"{{\partial b^{{({l})}}}} = " + _bias(layer, lambda b: val(new[b]))))
    given = (Row(_a(0), "= " + _vector(val(s.values[x]) for x in spec.inputs)),
             Row("t", "= " + _vector(val(s.values[t]) for t in lf.targets)))
    loss_rows = (Row(Lname, rf"= {val(s.values[spec.loss.name])} \qquad \text{{sample 1}}"),)
    if len(nums.samples) > 1 or spec.penalized:
        loss_rows += (Row(Lname, rf"= {val(nums.loss)} \qquad \text{{the data set}}"),)
    return LayerExample(tuple(params), given, tuple(forward), loss_rows, tuple(deltas), tuple(grads), tuple(updates),
                        len(nums.samples), eta)


def _slope(layer, l: int) -> str:
    """f′(z⁽ˡ⁾) as the registry writes it, in the layer's output a⁽ˡ⁾ (elementwise)."""
    f = layer.activation
    if f.unit_slope:
        return "1"
    z, a = sp.Symbol(f"z^{{({l})}}"), sp.Symbol(f"a^{{({l})}}")
    return LatexPrinter({}).doprint(f.derivative(z, a)).join([r"\left(", r"\right)"])


def _top(lf, loss, L: int, Lname: str) -> tuple[tuple[Row, ...], str]:
    """δ of the output layer, derived in the open."""
    top = lf.layers[-1]
    a, t = sp.Symbol(f"a^{{({L})}}"), sp.Symbol("t")
    dL = LatexPrinter({}).doprint(loss.derivative(a, t, len(top.outputs)))
    lhs = rf"\delta^{{({L})}}"
    if top.activation.couples:  # every output depends on every net: the Jacobian
        ak, aj = rf"a^{{({L})}}_{{k}}", rf"a^{{({L})}}_{{j}}"
        dk = LatexPrinter({}).doprint(loss.derivative(sp.Symbol(ak), sp.Symbol("t_{k}"), len(top.outputs)))
        jac = top.activation.jacobian_latex(ak, aj)
        rows = [Row(rf"\delta^{{({L})}}_{{j}}", rf"= \sum_{{k}} \frac{{\partial {Lname}}}{{\partial {ak}}} "
                                                rf"\frac{{\partial {ak}}}{{\partial z^{{({L})}}_{{j}}}}"
                                                rf" = \sum_{{k}} \left({dk}\right) {jac}")]
        if loss.latex_net_delta:
            rows.append(Row("", "= " + loss.latex_net_delta.format(a=aj).replace(" - t", " - t_{j}")))
        note = top.activation.jacobian_note + (" " + loss.cancels(ak) if loss.latex_net_delta else "")
        return tuple(rows), note
    if top.activation.unit_slope:  # identity outputs: δ is ∂L/∂a itself
        rows = [Row(lhs, rf"= \frac{{\partial {Lname}}}{{\partial a^{{({L})}}}} = {dL}")]
        return tuple(rows), "The outputs are their nets (identity), so the error signal is the loss's derivative."
    rows = [Row(lhs, rf"= \frac{{\partial {Lname}}}{{\partial a^{{({L})}}}} \odot {_slope(top, L)}"
                     rf" = \left({dL}\right) \odot {_slope(top, L)}")]
    if loss.latex_net_delta:
        rows.append(Row("", "= " + loss.latex_net_delta.format(a=rf"a^{{({L})}}")))
    return tuple(rows), (loss.cancels(rf"a^{{({L})}}") if loss.latex_net_delta
                         else "Elementwise: each output depends on its own net only.")
