r"""The layer (matrix) form of a `[dense]` network: the same chain rule, one equation per layer.

For layers l = 1 … L with n_l neurons, a⁽⁰⁾ the inputs, every quantity a column per sample::

    z⁽ˡ⁾ = W⁽ˡ⁾ a⁽ˡ⁻¹⁾ + b⁽ˡ⁾            W⁽ˡ⁾: (n_l, n_{l−1}), row j the weights into neuron j
    a⁽ˡ⁾ = f_l(z⁽ˡ⁾)                      elementwise, or the softmax of the whole column
    δ⁽ᴸ⁾ = f_L′(z⁽ᴸ⁾)ᵀ ∂L/∂a⁽ᴸ⁾            (softmax: its Jacobian o_k(δ_kj − o_j); with cross-entropy y − t)
    δ⁽ˡ⁾ = (W⁽ˡ⁺¹⁾ᵀ δ⁽ˡ⁺¹⁾) ⊙ f_l′(z⁽ˡ⁾)
    ∂L/∂W⁽ˡ⁾ = Σ_n δ⁽ˡ⁾ a⁽ˡ⁻¹⁾ᵀ,   ∂L/∂b⁽ˡ⁾ = Σ_n δ⁽ˡ⁾   (one number per layer for a shared bias)

`layer_form(d)` reads the spec's own layer records (never guessed from neurons) and the op
registry; nothing here depends on the width, so a 784-512-512-10 network takes as long as a
4-8-8-4 one.  Entry (j, i) of W⁽ˡ⁾ is the scalar weight whose name `weights[j][i]` gives, so the
matrix formula for one weight is the scalar Derivation's δ form for it: `validate` checks that
numerically, entry by entry.

>>> import derive
>>> spec = derive.loads('name = "c"\n[dense]\nsizes = [2, 3, 2]\nactivation = ["tanh", "softmax"]\n'
...                     '[loss]\nkind = "cross_entropy"\n')
>>> lf = layer_form(spec)
>>> lf.validate(derive.derive(spec))  # entry by entry against the per-weight derivation
>>> print(lf.pretty().splitlines()[1])
  z1 = W1 a0 + b1        z1: (3,)  W1: (3, 2)  b1: ()
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from .interpret import COMPLEX, run
from .ops import LOSSES, NEURON_ACTIVATIONS, Op

__all__ = ["Layer", "LayerForm", "layer_form"]


@dataclass(frozen=True)
class Layer:
    index: int  # l, from 1
    activation: Op  # the registry entry
    sources: tuple[str, ...]  # the scalar names of a⁽ˡ⁻¹⁾'s entries (the inputs, or the previous layer's outputs)
    outputs: tuple[str, ...]  # the scalar names of a⁽ˡ⁾'s entries
    nets: tuple[str, ...]  # the scalar names of z⁽ˡ⁾'s entries
    weights: tuple[tuple[str, ...], ...]  # weights[j][i]: the scalar name of W⁽ˡ⁾[j, i]
    biases: tuple[str, ...]  # one name per neuron (per_neuron), one shared (per_layer), or ()
    shared: bool = False  # one bias for the whole layer (per_layer), even when the layer has one neuron

    @property
    def shape(self) -> tuple[int, int]:
        return len(self.outputs), len(self.sources)

    @property
    def shared_bias(self) -> bool:
        return self.shared

    @property
    def bias_shape(self) -> tuple[int, ...] | None:
        return None if not self.biases else () if self.shared_bias else (len(self.outputs),)


@dataclass(frozen=True)
class LayerForm:
    """A `[dense]` network as layers: the matrix form of its Derivation (`scalar`)."""

    spec: object  # the NetSpec ([dense]) it is the matrix form of
    layers: tuple[Layer, ...]

    @property
    def loss(self) -> str:
        return self.spec.loss.name

    @property
    def loss_op(self):
        return LOSSES[self.spec.loss.kind]

    @property
    def targets(self) -> tuple[str, ...]:
        """The targets in the output layer's order: column k of T is the target of output neuron k."""
        target_of = dict(self.spec.loss.outputs)
        return tuple(target_of[o] for o in self.layers[-1].outputs)

    @property
    def parameters(self) -> tuple[str, ...]:
        """W1, b1, W2, b2, …: the array parameters, a layer's weights before its bias."""
        return tuple(n for layer in self.layers for n in (f"W{layer.index}",) + ((f"b{layer.index}",)
                                                                                   if layer.biases else ()))

    def shapes(self) -> dict[str, tuple[int, ...]]:
        out: dict[str, tuple[int, ...]] = {}
        for layer in self.layers:
            out[f"W{layer.index}"] = layer.shape
            if layer.biases:
                out[f"b{layer.index}"] = layer.bias_shape
        return out

    def names(self) -> dict[str, object]:
        """Each array parameter's entries as the scalar names: W1 -> rows of names, b1 -> a name or a row."""
        out: dict[str, object] = {}
        for layer in self.layers:
            out[f"W{layer.index}"] = [list(row) for row in layer.weights]
            if layer.biases:
                out[f"b{layer.index}"] = layer.biases[0] if layer.shared_bias else list(layer.biases)
        return out

    def first_names(self) -> dict[str, str]:
        """The scalar name of each array parameter's first entry (the rest follow in row-major order)."""
        return {k: v[0][0] if isinstance(v, list) and isinstance(v[0], list) else v[0] if isinstance(v, list) else v
                for k, v in self.names().items()}

    def arrays(self, values: dict) -> dict:
        """Scalar parameter values (name -> number) as the array parameters (nested lists)."""
        def pick(entry):
            return [pick(e) for e in entry] if isinstance(entry, list) else float(values[entry])
        return {k: pick(v) for k, v in self.names().items()}

    def scalars(self, arrays: dict) -> dict:
        """Array parameters as scalar values by name (a shared bias's gradient is its one number)."""
        out: dict[str, float] = {}
        for key, names in self.names().items():
            def put(entry, value):
                if isinstance(entry, list):
                    for e, v in zip(entry, value):
                        put(e, v)
                else:
                    out[entry] = float(value)
            put(names, arrays[key])
        return out

    def pretty(self) -> str:
        """The layer equations with the shape of every quantity (per sample), then the backward pass."""
        lines = ["forward pass, per sample"]
        for layer in self.layers:
            l, (n, m) = layer.index, layer.shape
            b = f" + b{l}" if layer.biases else ""
            shapes = f"z{l}: ({n},)  W{l}: ({n}, {m})" + (f"  b{l}: {layer.bias_shape}" if layer.biases else "")
            lines.append(f"  z{l} = W{l} a{l - 1}{b}".ljust(25) + shapes)
            lines.append(f"  a{l} = {layer.activation.name}(z{l})".ljust(25) + f"a{l}: ({n},)")
        L = len(self.layers)
        loss = self.loss_op
        over = "summed over samples" if loss.reduction == "sum" else "averaged over samples"
        lines += [f"  {self.loss} = {loss.name}(a{L}, t), {over}", "",
                  "backward pass (δl = ∂L/∂zl, per sample)",
                  f"  δ{L} = f{L}'(z{L})ᵀ ∂L/∂a{L}" + (f" = {loss.net_delta.format(a=f'a{L}')}" if loss.net_delta else "")]
        for layer in reversed(self.layers[:-1]):
            l = layer.index
            lines.append(f"  δ{l} = (W{l + 1}ᵀ δ{l + 1}) ⊙ f{l}'(z{l})")
        for layer in reversed(self.layers):
            l = layer.index
            lines.append(f"  ∂L/∂W{l} = Σ_n δ{l} a{l - 1}ᵀ" + (f",  ∂L/∂b{l} = Σ_n " +
                                                            ("Σ_j " if layer.shared_bias else "") + f"δ{l}"
                                                            if layer.biases else ""))
        return "\n".join(lines) + "\n"

    def validate(self, d, points: int = 2) -> None:
        """The matrix recurrence at random points equals the scalar Derivation `d`'s δ and gradients,
        entry by entry (complex numbers, like Derivation.validate); raises AssertionError if not.
        (For networks small enough to derive per weight: the layer form itself never needs it.)"""
        rng = random.Random(1)
        for _ in range(points):
            leaves = {n: complex(rng.uniform(-1, 1)) for n in (*d.spec.inputs, *d.spec.targets, *d.parameters)}
            trace = run(d, leaves, COMPLEX)
            value = {s.name: v for s, v in trace.env.items()}
            # δ of the top layer's nets from the scalar δ of its outputs, then the matrix recurrence down
            top = self.layers[-1]
            delta = [trace.deltas[z] if z in top.outputs else
                     sum(trace.partials[(o, z)] * trace.deltas[o] for o in top.outputs if (o, z) in trace.partials)
                     for z in top.nets]
            for k in range(len(self.layers) - 1, -1, -1):
                layer = self.layers[k]
                for j, z in enumerate(layer.nets):
                    assert abs(delta[j] - trace.deltas[z]) <= 1e-9 * max(1, abs(delta[j])), (z, delta[j])
                    for i, src in enumerate(layer.sources):  # ∂L/∂W[j, i] = δ_j · a_i (one sample)
                        w = layer.weights[j][i]
                        assert abs(delta[j] * value[src] - trace.gradients[w]) <= 1e-9 * max(1, abs(delta[j]))
                if k:
                    below = self.layers[k - 1]
                    delta = [sum(value[layer.weights[j][i]] * delta[j] for j in range(len(layer.nets)))
                             * trace.partials.get((below.outputs[i], below.nets[i]), 1)  # own-sum identity: 1
                             for i in range(len(below.nets))]


def _row(neuron, sources) -> tuple[str, ...]:
    srcs, weights = zip(*neuron.inputs)
    if srcs == sources:  # as [dense] builds them
        return weights
    weight_of = dict(neuron.inputs)  # source -> weight
    return tuple(weight_of[s] for s in sources)


def layer_form(spec) -> LayerForm | None:
    """The layer form of a spec, or None for a network of [[neuron]] tables (no layer records).
    It reads the layer records and the registry only: no per-weight derivation."""
    records = spec.layers
    if not records:
        return None
    layers = []
    for k, rec in enumerate(records):
        biases = [n.bias for n in rec.neurons]
        names = () if not any(biases) else (biases[0],) if rec.bias == "per_layer" else tuple(biases)
        layers.append(Layer(k + 1, NEURON_ACTIVATIONS[rec.activation], rec.sources,
                            tuple(n.name for n in rec.neurons), tuple(n.net for n in rec.neurons),
                            tuple(_row(n, rec.sources) for n in rec.neurons), names, rec.bias == "per_layer"))
    return LayerForm(spec, tuple(layers))
