r"""The layer-kind registry: one entry per kind of layer, everything any stage needs about it.

A layer of the layer IR (`Layer`) is a kind applied to the layer below's outputs a⁽ˡ⁻¹⁾, with
parameters of its own, followed by an activation from the op registry (ops.py).  Its entry
(`LayerKind`) answers, with keyword fields, every question a stage asks about the kind:

- how a `[[layer]]` table of it reads (`keys`, `read`): its settings, checked, and the shape of
  what it outputs;
- how it expands into scalar neurons for the per-weight view (`expand`);
- its parameters and their shapes (`shapes`);
- its forward and backward rules in SymPy (`forward`, `backward`: the truth, which
  `LayerForm.validate` checks against the per-weight derivation entry by entry) and as array
  forms in one placeholder dialect (`str.format` fields: {xp} the array namespace, {A} the
  layer's input, {W} {b} its parameters, {Z} its nets, {dZ} their δ; samples are rows);
- its equations for documents and the terminal (`latex`, `text`) and its words (`title`,
  `bias_words`).

Adding a layer kind means adding one entry here; no other module tests a kind's name.

>>> DENSE.shapes(Layer(1, DENSE, None, ("i1", "i2"), ("h1",), ("z_h1",), (("w1", "w2"),), ("b1",), "per_layer"))
{'W1': (1, 2), 'b1': ()}
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import sympy as sp

from .ops import ACTIVATIONS

__all__ = ["BIAS_MODES", "DENSE", "LAYER_KINDS", "Layer", "LayerKind"]

# How a layer's neurons get their biases: one each, one shared by the layer, or none.
BIAS_MODES = ("per_neuron", "per_layer", "none")


@dataclass(frozen=True)
class Layer:
    """One layer of the layer IR: entry (j, i) of W⁽ˡ⁾ is the scalar weight `weights[j][i]`."""

    index: int  # l, from 1
    kind: LayerKind  # the registry entry
    activation: object  # the op registry's entry (ops.Op)
    sources: tuple[str, ...]  # the scalar names of a⁽ˡ⁻¹⁾'s entries (the inputs, or the layer below's outputs)
    outputs: tuple[str, ...]  # the scalar names of a⁽ˡ⁾'s entries
    nets: tuple[str, ...]  # the scalar names of z⁽ˡ⁾'s entries (equal to outputs for identity units that are their own sums)
    weights: tuple[tuple[str, ...], ...]  # weights[j][i]: the scalar name of W⁽ˡ⁾[j, i]
    biases: tuple[str, ...]  # one name per neuron (per_neuron), one shared (per_layer), or () (none)
    bias: str = "per_neuron"  # one of BIAS_MODES

    @property
    def shape(self) -> tuple[int, int]:
        return len(self.outputs), len(self.sources)

    @property
    def shared_bias(self) -> bool:
        """One bias for the whole layer (per_layer), even when the layer has one neuron."""
        return self.bias == "per_layer"

    @property
    def bias_shape(self) -> tuple[int, ...] | None:
        return None if not self.biases else () if self.shared_bias else (len(self.outputs),)

    @property
    def own_sums(self) -> bool:
        """Identity units that are their own weighted sums: a⁽ˡ⁾ is z⁽ˡ⁾, one array."""
        return self.nets == self.outputs


@dataclass(frozen=True)
class LayerKind:
    name: str  # as a [[layer]] table's kind says it
    title: str  # in running text: "fully connected (dense)"
    keys: tuple[str, ...]  # the keys a [[layer]] table of this kind takes besides kind
    # read(reader, doc, where, shape) -> (settings, output shape), or None after reporting the problem
    # through reader.err(field, message); shape is what the layer below outputs
    read: Callable
    # expand(settings, sources, names) -> the layer's scalar neurons as (name, net, activation, ((source,
    # weight), ...), bias) tuples, names: a per-network namer (unit(j), weight(), bias())
    expand: Callable
    shapes: Callable  # (layer) -> {parameter: shape}, a layer's weights before its bias
    # SymPy rules on one sample, column vectors: z = forward(W, a, b); (∂L/∂a, ∂L/∂W, ∂L/∂b) = backward(W, a, δ)
    forward: Callable
    backward: Callable
    # array forms (samples are rows), in the one dialect above
    array_forward: str  # Z without its bias
    array_bias: str  # Z with its bias added
    array_grad_weights: str  # Σ over the block's samples of δ a⁽ˡ⁻¹⁾ᵀ
    array_grad_bias: str  # Σ over the block's samples of δ, per neuron
    array_grad_shared_bias: str  # the same for one bias shared by the layer
    array_back: str  # ∂L/∂a⁽ˡ⁻¹⁾
    array_back_one: str  # the same for a layer of one neuron (an outer product, cheaper broadcast)
    latex: Callable  # (l, biased) -> the right side of z⁽ˡ⁾ = …, LaTeX
    text: Callable  # (l, biased) -> the same for the terminal
    latex_back: Callable  # (l) -> ∂L/∂a⁽ˡ⁻¹⁾ from δ⁽ˡ⁾, LaTeX: (W^{(l)})^T δ^{(l)}
    text_back: Callable  # (l) -> the same for the terminal
    latex_grad_weights: Callable  # (l) -> δ⁽ˡ⁾ a⁽ˡ⁻¹⁾ᵀ, one sample, LaTeX
    text_grad_weights: Callable  # (l) -> the same for the terminal
    grad_weights_words: str  # why the weight gradient is what it is, for documents (text with $…$ math)

    def bias_words(self, layer: Layer) -> str:
        return {"per_neuron": "one per neuron", "per_layer": "one shared by the layer", "none": "none"}[layer.bias]


def _read_dense(reader, doc: dict, where: str, shape: tuple[int, ...]):
    size = doc.get("size")
    ok = True
    if isinstance(size, bool) or not isinstance(size, int) or size < 1:
        reader.err(f"{where}.size", f"expected a positive number of neurons, got {reader.show(size)}")
        ok = False
    act = reader.activation(doc.get("activation", "identity"), f"{where}.activation")
    bias = doc.get("bias", "per_neuron")
    if bias not in BIAS_MODES:
        reader.err(f"{where}.bias", f"expected {', '.join(BIAS_MODES)}; got {reader.show(bias)}")
        ok = False
    if len(shape) != 1:
        reader.err(f"{where}.kind", f"a dense layer takes a vector, and what comes in has shape {list(shape)}: "
                                    "give input = [n]")
        ok = False
    if not ok or act is None:
        return None
    return {"size": size, "activation": act, "bias": bias}, (size,)


def _expand_dense(settings: dict, sources, names):
    act, bias = settings["activation"], settings["bias"]
    own_sum = act in ACTIVATIONS and ACTIVATIONS[act].unit_slope  # an identity unit is its own weighted sum
    shared = names.bias() if bias == "per_layer" else None
    out = []
    for j in range(settings["size"]):
        name, net = names.unit(j, own_sum)
        pairs = tuple((s, names.weight()) for s in sources)
        out.append((name, net, act, pairs, shared if bias == "per_layer" else names.bias() if bias == "per_neuron"
                    else None))
    return tuple(out)


def _dense_shapes(layer: Layer) -> dict:
    out = {f"W{layer.index}": layer.shape}
    if layer.biases:
        out[f"b{layer.index}"] = layer.bias_shape
    return out


def _dense_back(W, a, delta, shared):
    return W.T * delta, delta * a.T, (sp.Matrix([[sum(delta)]]) if shared else delta)


DENSE = LayerKind(
    "dense", title="fully connected (dense)", keys=("size", "activation", "bias"),
    read=_read_dense, expand=_expand_dense, shapes=_dense_shapes,
    forward=lambda W, a, b: W * a + b, backward=_dense_back,
    # (W Aᵀ)ᵀ rather than A Wᵀ: the same product, which OpenBLAS runs about twice as fast for a tall A
    # (784-128-10 at N = 10⁴: 27 against 53 ms, bench/README.md)
    array_forward="({W} @ {A}.T).T", array_bias="({W} @ {A}.T).T + {b}",
    array_grad_weights="{dZ}.T @ {A}",
    # Σ_n as a product with a vector of ones: in NumPy 12 µs against sum(axis=0)'s 31 at 10³ × 128
    array_grad_bias="ones @ {dZ}", array_grad_shared_bias="{xp}.sum({dZ})",
    array_back="{dZ} @ {W}",
    # one neuron: (N, 1) times (1, n) is an outer product, 3× quicker broadcast than through matmul
    array_back_one="{dZ} * {W}",
    latex=lambda l, biased: rf"W^{{({l})}} a^{{({l - 1})}}" + (rf" + b^{{({l})}}" if biased else ""),
    text=lambda l, biased: f"W{l} a{l - 1}" + (f" + b{l}" if biased else ""),
    latex_back=lambda l: rf"\left(W^{{({l})}}\right)^{{\top}} \delta^{{({l})}}",
    text_back=lambda l: f"W{l}ᵀ δ{l}",
    latex_grad_weights=lambda l: rf"\delta^{{({l})}} \left(a^{{({l - 1})}}\right)^{{\top}}",
    text_grad_weights=lambda l: f"δ{l} a{l - 1}ᵀ",
    grad_weights_words=(r"A weight $W^{(l)}_{j,i}$ multiplies $a^{(l-1)}_{i}$ into $z^{(l)}_{j}$, so its gradient "
                        r"is $\delta^{(l)}_{j} a^{(l-1)}_{i}$, summed over the samples"),
)

LAYER_KINDS: dict[str, LayerKind] = {k.name: k for k in (DENSE,)}
