r"""The layer IR: the matrix form of a layered network, the same chain rule one equation per layer.

For layers l = 1 … L with n_l neurons, a⁽⁰⁾ the inputs, every quantity a column per sample::

    z⁽ˡ⁾ = W⁽ˡ⁾ a⁽ˡ⁻¹⁾ + b⁽ˡ⁾            W⁽ˡ⁾: (n_l, n_{l−1}), row j the weights into neuron j
    a⁽ˡ⁾ = f_l(z⁽ˡ⁾)                      elementwise, or the softmax of the whole column
    δ⁽ᴸ⁾ = f_L′(z⁽ᴸ⁾)ᵀ ∂L/∂a⁽ᴸ⁾            (softmax: its Jacobian o_k(δ_kj − o_j); with cross-entropy y − t)
    δ⁽ˡ⁾ = (W⁽ˡ⁺¹⁾ᵀ δ⁽ˡ⁺¹⁾) ⊙ f_l′(z⁽ˡ⁾)
    ∂L/∂W⁽ˡ⁾ = Σ_n δ⁽ˡ⁾ a⁽ˡ⁻¹⁾ᵀ,   ∂L/∂b⁽ˡ⁾ = Σ_n δ⁽ˡ⁾   (one number per layer for a shared bias)

`layer_form(spec)` reads the spec's own layer records (`[dense]`, `[[layer]]` tables) or, for a
network of `[[neuron]]` tables, finds its layers (`layering`: each neuron fed by every output of
the layer below and nothing else, one weight per connection, a bias per neuron or one per
layer), and the registries: what a layer kind does (kinds.py), what an activation or loss does
(ops.py).  Nothing here depends on the width, so a 784-512-512-10 network takes as long as a
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

import sympy as sp

from .interpret import COMPLEX, run
from .kinds import DENSE, Layer
from .ops import LOSSES, NEURON_ACTIVATIONS

__all__ = ["Layer", "LayerForm", "NotLayered", "layer_form", "layering"]


@dataclass(frozen=True)
class LayerForm:
    """A layered network as layers: the matrix form of its Derivation."""

    spec: object  # the NetSpec it is the matrix form of
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
            shapes = "  ".join([f"z{l}: ({n},)"] + [f"{k}: {v}" for k, v in layer.kind.shapes(layer).items()])
            lines.append(f"  z{l} = {layer.kind.text(l, bool(layer.biases))}".ljust(25) + shapes)
            lines.append(f"  a{l} = {layer.activation.name}(z{l})".ljust(25) + f"a{l}: ({n},)")
        L = len(self.layers)
        loss = self.loss_op
        over = "summed over samples" if loss.reduction == "sum" else "averaged over samples"
        lam = self.spec.loss.l2
        lines += [f"  {self.loss} = {loss.name}(a{L}, t), {over}" + (f", + (λ/2) Σ w², λ = {lam!r}" if lam else ""), "",
                  "backward pass (δl = ∂L/∂zl, per sample)",
                  f"  δ{L} = f{L}'(z{L})ᵀ ∂L/∂a{L}" + (f" = {loss.net_delta.format(a=f'a{L}')}" if loss.net_delta else "")]
        for layer in reversed(self.layers[:-1]):
            l = layer.index
            lines.append(f"  δ{l} = ({self.layers[l].kind.text_back(l + 1)}) ⊙ f{l}'(z{l})")
        mean = "(1/N) " if loss.reduction == "mean" else ""
        for layer in reversed(self.layers):
            l = layer.index
            grad = f"  ∂L/∂W{l} = {mean}Σ_n {layer.kind.text_grad_weights(l)}" + (f" + λ W{l}" if lam else "")
            if layer.biases:
                grad += f",  ∂L/∂b{l} = {mean}Σ_n " + ("Σ_j " if layer.shared_bias else "") + f"δ{l}"
            lines.append(grad)
        return "\n".join(lines) + "\n"

    def validate(self, d, points: int = 2) -> None:
        """Each layer kind's SymPy rules (kinds.py) at random points equal the scalar Derivation `d`'s
        nets, δ and gradients, entry by entry (complex numbers, like Derivation.validate): the forward
        rule gives every net, the backward rule every weight's and bias's gradient and the δ of the
        layer below; raises AssertionError if not.  (For networks small enough to derive per weight:
        the layer form itself never needs it.)"""
        rng = random.Random(1)

        def close(x, y) -> bool:
            return abs(complex(x) - complex(y)) <= 1e-9 * max(1.0, abs(complex(y)))

        for _ in range(points):
            leaves = {n: complex(rng.uniform(-1, 1)) for n in (*d.spec.inputs, *d.spec.targets, *d.parameters)}
            trace = run(d, leaves, COMPLEX)
            value = {s.name: v for s, v in trace.env.items()}
            # δ of the top layer's nets from the scalar δ of its outputs, then each kind's backward rule down
            top = self.layers[-1]
            delta = sp.Matrix([trace.deltas[z] if z in top.outputs else
                               sum(trace.partials[(o, z)] * trace.deltas[o] for o in top.outputs if (o, z) in trace.partials)
                               for z in top.nets])
            for k in range(len(self.layers) - 1, -1, -1):
                layer = self.layers[k]
                W = sp.Matrix([[value[w] for w in row] for row in layer.weights])
                a = sp.Matrix([value[s] for s in layer.sources])
                n = len(layer.nets)
                b = sp.Matrix([value[layer.biases[0]]] * n if layer.shared_bias else
                              [value[x] for x in layer.biases] if layer.biases else [0] * n)
                z = layer.kind.forward(W, a, b)
                for j, net in enumerate(layer.nets):
                    assert close(z[j], value[net]), (net, z[j])
                    assert close(delta[j], trace.deltas[net]), (net, delta[j])
                back, dW, db = layer.kind.backward(W, a, delta, layer.shared_bias)
                for j, row in enumerate(layer.weights):
                    for i, w in enumerate(row):
                        assert close(dW[j, i], trace.gradients[w]), (w, dW[j, i])
                for j, x in enumerate(layer.biases):
                    assert close(db[j], trace.gradients[x]), (x, db[j])
                if k:
                    below = self.layers[k - 1]
                    delta = sp.Matrix([back[i] * trace.partials.get((below.outputs[i], below.nets[i]), 1)  # own sum: 1
                                       for i in range(len(below.nets))])


class NotLayered(ValueError):
    """Why a network has no layer form: which neuron breaks the layering, and how (one line)."""


def layer_form(spec) -> LayerForm | None:
    """The layer form of a spec, or None when its neurons do not fall into layers (`layering` says why).
    It reads the layer records (or finds the layers) and the registries only: no per-weight derivation."""
    try:
        return layering(spec)
    except NotLayered:
        return None


def layering(spec) -> LayerForm:
    """The layer form of a spec; raises NotLayered, naming the neuron that breaks the layering, if none."""
    if spec.layers:
        return LayerForm(spec, spec.layers)
    return LayerForm(spec, _find_layers(spec))


def _find_layers(spec) -> tuple[Layer, ...]:
    """The layers of a network of [[neuron]] tables: layer 0 the inputs, and every neuron of layer l
    fed by each output of layer l − 1 and nothing else, through a weight of its own."""
    depth = {x: 0 for x in spec.inputs}
    members: list[list] = [list(spec.inputs)]
    for n in spec.neurons:  # topological order: every source's layer is known
        levels = {depth[s] for s, _ in n.inputs}
        if len(levels) > 1:
            (a, la), (b, lb) = sorted({depth[s]: (s, depth[s]) for s, _ in n.inputs}.values(), key=lambda x: x[1])[:2]
            raise NotLayered(f"{n.name} takes {a} (layer {la}) and {b} (layer {lb}): a skip connection, and a "
                             "layer takes only the layer below")
        depth[n.name] = levels.pop() + 1
        if depth[n.name] == len(members):
            members.append([])
        members[depth[n.name]].append(n)
    uses: dict[str, list[str]] = {}
    for n in spec.neurons:
        for _, w in n.inputs:
            uses.setdefault(w, []).append(n.name)
        if n.bias:
            uses.setdefault(n.bias, []).append(n.name)
    outputs = {o for o, _ in spec.loss.outputs}
    layers = []
    for l in range(1, len(members)):
        below = tuple(members[l - 1]) if l == 1 else tuple(n.name for n in members[l - 1])
        units = members[l]
        for n in units:
            srcs = [s for s, _ in n.inputs]
            if set(srcs) != set(below):
                missing = next(s for s in below if s not in srcs)
                raise NotLayered(f"{n.name} does not take {missing}: every neuron of a layer takes each output "
                                 f"of the layer below ({', '.join(below)})")
            for _, w in n.inputs:
                if len(uses[w]) > 1 or [s for s, v in n.inputs if v == w][1:]:
                    raise NotLayered(f"{n.name}'s weight {w} is shared ({' and '.join(dict.fromkeys(uses[w]))} use it): "
                                     "a matrix has one weight per connection")
        acts = list(dict.fromkeys(n.activation for n in units))
        if len(acts) > 1:
            other = next(n for n in units if n.activation != acts[0])
            raise NotLayered(f"{other.name} is {acts[1]} and {units[0].name} is {acts[0]}: the neurons of a layer "
                             "share one activation")
        if l == len(members) - 1 and {n.name for n in units} != outputs:
            raise NotLayered(f"{sorted(outputs - {n.name for n in units})[0] if outputs - {n.name for n in units} else units[0].name} "
                             "breaks the layering: the top layer's neurons must be exactly the loss's outputs")
        layers.append(_layer(l, units, below, uses))
    return tuple(layers)


def _layer(l: int, units, below, uses) -> Layer:
    """One found layer, its bias mode read off its neurons' biases."""
    biases = [n.bias for n in units]
    if not any(biases):
        mode, names = "none", ()
    elif len(set(biases)) == 1 and len(units) > 1 and len(uses[biases[0]]) == len(units):
        mode, names = "per_layer", (biases[0],)
    elif all(biases) and len(set(biases)) == len(units) and all(len(uses[b]) == 1 for b in biases):
        mode, names = "per_neuron", tuple(biases)
    else:
        n = next((n for n in units if not n.bias), None) or next(n for n in units if len(uses[n.bias]) > 1)
        why = "has no bias and others do" if not n.bias else f"shares its bias {n.bias} with " + \
            " and ".join(u for u in dict.fromkeys(uses[n.bias]) if u != n.name)
        raise NotLayered(f"{n.name} {why}: a layer has a bias per neuron, one bias for the whole layer, or none")
    weight_of = [dict(n.inputs) for n in units]
    return Layer(l, DENSE, NEURON_ACTIVATIONS[units[0].activation], tuple(below), tuple(n.name for n in units),
                 tuple(n.net for n in units), tuple(tuple(w[s] for s in below) for w in weight_of), names, mode)
