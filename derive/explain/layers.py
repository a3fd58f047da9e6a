r"""The layer-form document as plain data: the derivation in matrix notation, every formula printed.

For `[dense]` networks whose per-weight document would run to hundreds of pages: the forward
pass z⁽ˡ⁾ = W⁽ˡ⁾a⁽ˡ⁻¹⁾ + b⁽ˡ⁾, a⁽ˡ⁾ = f(z⁽ˡ⁾) with the shape of every quantity, the loss, the
backward pass (the output layer's δ derived in the open: for softmax with cross-entropy the
Jacobian a_k(δ_kj − a_j) times −t_k/a_k, summed), δ⁽ˡ⁾ = (W⁽ˡ⁺¹⁾ᵀδ⁽ˡ⁺¹⁾) ⊙ f′(z⁽ˡ⁾), the
gradients, and a bridge: one scalar weight's entry of ∂L/∂W⁽¹⁾ as the per-weight chain rule
writes it, a sum over its paths.  templates/explain_layers.*.j2 lay it out.

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

from ..core.layers import layer_form
from ..printing.printers import LatexPrinter
from .texmath import Row

__all__ = ["Bridge", "LayerDocument", "LayerRow", "build_layers"]


@dataclass(frozen=True)
class LayerRow:
    index: int
    size: int
    activation: str  # plain name
    weight_shape: str  # LaTeX: 128 \times 784
    bias: str  # plain text: "one per neuron", "one shared by the layer", "none"


@dataclass(frozen=True)
class Bridge:
    """One scalar weight's gradient, as the matrix formula's entry and as the per-weight chain rule."""

    weight: str  # LaTeX of the scalar weight: w_{1}
    entry: str  # LaTeX: W^{(1)}_{1,1}
    source: str  # LaTeX of the input it weighs: i_{1}
    net: str  # LaTeX of the net it feeds: z_{h1}
    paths: int  # paths from the weight to the loss
    rows: tuple[Row, ...]


@dataclass(frozen=True)
class LayerDocument:
    name: str
    title: str
    source: str
    inputs: int
    layers: tuple[LayerRow, ...]
    forward: tuple[Row, ...]
    loss: tuple[Row, ...]
    loss_description: str
    reduction: str
    top: tuple[Row, ...]  # δ of the output layer, derived
    top_note: str  # text with $…$ math
    hidden: tuple[Row, ...]  # δ of each hidden layer
    gradients: tuple[Row, ...]
    penalty: str  # LaTeX, "" without L2
    bridge: Bridge
    parameters: int  # scalar parameters in all


def _a(l: int) -> str:
    return rf"a^{{({l})}}"


def build_layers(spec) -> LayerDocument:
    """The layer-form document of a `[dense]` spec (no per-weight derivation is needed)."""
    lf = layer_form(spec)
    if lf is None:
        raise ValueError(f"{spec.name} is not a [dense] network: the layer form needs its layer records")
    loss = lf.loss_op
    L = len(lf.layers)
    rows, forward = [], []
    for layer in lf.layers:
        l, (n, m) = layer.index, layer.shape
        rows.append(LayerRow(l, n, layer.activation.name, rf"{n} \times {m}",
                             "one per neuron" if layer.biases and not layer.shared_bias else
                             "one shared by the layer" if layer.biases else "none"))
        b = rf" + b^{{({l})}}" if layer.biases else ""
        forward.append(Row(rf"z^{{({l})}}", rf"= W^{{({l})}} {_a(l - 1)}{b} "
                                            rf"\qquad z^{{({l})}} \in \mathbb{{R}}^{{{n}}}"))
        f = layer.activation
        shown = rf"\operatorname{{{f.name}}}\left(z^{{({l})}}\right)" if f.name != "identity" else rf"z^{{({l})}}"
        forward.append(Row(_a(l), rf"= {shown} \qquad {_a(l)} \in \mathbb{{R}}^{{{n}}}"))
    K = len(lf.layers[-1].outputs)
    loss_rows = (Row("L", "= " + loss.latex_vector.format(a=_a(L), t="t", K=K) + r" \qquad \text{per sample}"),)
    top, note = _top(lf, loss, L)
    hidden = []
    for layer in reversed(lf.layers[:-1]):
        l = layer.index
        hidden.append(Row(rf"\delta^{{({l})}}", rf"= \left(W^{{({l + 1})}}\right)^{{\top}} \delta^{{({l + 1})}}"
                                               rf" \odot {_slope(layer, l)}"))
    lam = spec.loss.l2
    scale = r"\frac{1}{N} " if loss.reduction == "mean" else ""
    grads = []
    for layer in reversed(lf.layers):
        l, (n, m) = layer.index, layer.shape
        reg = rf" + \lambda W^{{({l})}}" if lam else ""
        grads.append(Row(rf"\frac{{\partial L}}{{\partial W^{{({l})}}}}",
                         rf"= {scale}\sum_{{n}} \delta^{{({l})}} \left({_a(l - 1)}\right)^{{\top}}{reg}"
                         rf" \qquad \text{{shape }} {n} \times {m}"))
        if layer.biases:
            inner = rf"\sum_{{j}} \delta^{{({l})}}_{{j}}" if layer.shared_bias else rf"\delta^{{({l})}}"
            grads.append(Row(rf"\frac{{\partial L}}{{\partial b^{{({l})}}}}", rf"= {scale}\sum_{{n}} {inner}"
                                                                             rf" \qquad \text{{shape }} {'1' if layer.shared_bias else n}"))
    printer = LatexPrinter(dict(spec.latex))
    first = lf.layers[0]
    w, src, net = first.weights[0][0], first.sources[0], first.nets[0]
    paths = math.prod(len(x.outputs) for x in lf.layers[1:]) * (K if lf.layers[-1].activation.name == "softmax" else 1)
    bridge_rows = (
        Row(r"\frac{\partial L}{\partial W^{(1)}_{1,1}}", r"= \delta^{(1)}_{1} \, a^{(0)}_{1}"
                                                                     r" \qquad \text{(one sample)}"),
        Row("", rf"= \frac{{\partial L}}{{\partial {printer.name(w)}}} = {printer.name(src)} \, "
                rf"\delta_{{{printer.name(net)}}}"),
    ) + ((Row(r"\text{over the data set}", rf"= {scale}\sum_{{n}} {printer.name(src)} \, \delta_{{{printer.name(net)}}}"
                                             rf" + \lambda {printer.name(w)}"),) if lam else ())
    return LayerDocument(
        spec.name, spec.title or spec.name, Path(spec.source).name, len(spec.inputs), tuple(rows), tuple(forward),
        loss_rows, loss.description, loss.reduction, top, note, tuple(hidden), tuple(grads),
        (rf"\frac{{\lambda}}{{2}} \sum w^{{2}}, \ \lambda = {lam:g}" if lam else ""),
        Bridge(printer.name(w), r"W^{(1)}_{1,1}", printer.name(src), printer.name(net), paths, bridge_rows),
        sum(len(row) for x in lf.layers for row in x.weights) + sum(len(x.biases) for x in lf.layers))


def _slope(layer, l: int) -> str:
    """f′(z⁽ˡ⁾) as the registry writes it, in the layer's output a⁽ˡ⁾ (elementwise)."""
    f = layer.activation
    if f.unit_slope:
        return "1"
    z, a = sp.Symbol(f"z^{{({l})}}"), sp.Symbol(f"a^{{({l})}}")
    return LatexPrinter({}).doprint(f.derivative(z, a)).join([r"\left(", r"\right)"])


def _top(lf, loss, L: int) -> tuple[tuple[Row, ...], str]:
    """δ of the output layer, derived in the open."""
    top = lf.layers[-1]
    a, t = sp.Symbol(f"a^{{({L})}}"), sp.Symbol("t")
    dL = LatexPrinter({}).doprint(loss.derivative(a, t, len(top.outputs)))
    lhs = rf"\delta^{{({L})}}"
    if top.activation.name == "softmax":  # every output depends on every net: the Jacobian
        ak, aj = rf"a^{{({L})}}_{{k}}", rf"a^{{({L})}}_{{j}}"
        dk = LatexPrinter({}).doprint(loss.derivative(sp.Symbol(ak), sp.Symbol("t_{k}"), len(top.outputs)))
        rows = [Row(rf"\delta^{{({L})}}_{{j}}", rf"= \sum_{{k}} \frac{{\partial L}}{{\partial {ak}}} "
                                                rf"\frac{{\partial {ak}}}{{\partial z^{{({L})}}_{{j}}}}"
                                                rf" = \sum_{{k}} \left({dk}\right) {ak} \left(\delta_{{kj}} - {aj}\right)")]
        if loss.latex_net_delta:
            rows.append(Row("", "= " + loss.latex_net_delta.format(a=aj).replace(" - t", " - t_{j}")))
        note = ("Each output of a softmax depends on every net of its layer, so the sum runs over all "
                rf"outputs $k$; the cross-entropy's $1/{ak}$ cancels against the softmax Jacobian's factor ${ak}$."
                if loss.latex_net_delta else "Each output of a softmax depends on every net of its layer.")
        return tuple(rows), note
    if top.activation.unit_slope:  # identity outputs: δ is ∂L/∂a itself
        rows = [Row(lhs, rf"= \frac{{\partial L}}{{\partial a^{{({L})}}}} = {dL}")]
        return tuple(rows), "The outputs are their nets (identity), so the error signal is the loss's derivative."
    rows = [Row(lhs, rf"= \frac{{\partial L}}{{\partial a^{{({L})}}}} \odot {_slope(top, L)}"
                     rf" = \left({dL}\right) \odot {_slope(top, L)}")]
    if loss.latex_net_delta:
        rows.append(Row("", "= " + loss.latex_net_delta.format(a=rf"a^{{({L})}}")))
    return tuple(rows), (rf"The sigmoid's $a^{{({L})}}(1 - a^{{({L})}})$ cancels the binary cross-entropy's denominator."
                         if loss.latex_net_delta else "Elementwise: each output depends on its own net only.")
