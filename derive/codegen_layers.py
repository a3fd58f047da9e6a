"""Matrix code for wide layered networks: the same derivation, one matrix product per layer.

Scalar code (one line per neuron, arrays over samples) costs a NumPy call per edge; a 16-wide
layer has 256 of them.  When a network is a stack of layers, each neuron of a layer taking
exactly the previous layer's outputs (or inputs) through weights of its own, the derivation's
sums are matrix products, and this module writes them as such:

    forward   Z_k = S_k @ W_k + b_k,  A_k = f(Z_k)          (column j is neuron j's net and output)
    backward  dZ_k = dA_k · f'(Z_k, A_k)                     (column j is δ_net_j)
              G_k = S_kᵀ @ dZ_k                              (G_k[i][j] = Σ_n source_i · δ_net_j)
              dA_{k-1} = dZ_k @ W_kᵀ                         (column i is δ_source_i = Σ_j w_ij · δ_net_j)

Each ∂L/∂θ is still one line with its formula beside it, read from G_k (as Python floats:
`.tolist()` once is far cheaper than a NumPy scalar per parameter) or the column sums of dZ_k.  `layers(d)` says whether a derivation qualifies; anything else (skip connections, shared
weights, narrow layers) stays scalar, where the code reads like the derivation line by line.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import pairwise

import sympy as sp

from .activations import ACTIVATIONS
from .derivation import Derivation
from .graph import symbol

__all__ = ["MIN_WIDTH", "Layer", "layers"]

MIN_WIDTH = 8  # the widest layer must have this many neurons for matrix code to pay


@dataclass(frozen=True)
class Layer:
    sources: tuple[str, ...]  # the previous layer's outputs, or inputs
    activation: str
    neurons: tuple  # spec.Neuron, in spec order


def layers(d: Derivation, min_width: int = MIN_WIDTH) -> tuple[Layer, ...] | None:
    r"""The network as dense layers, or None when it is not one (or too narrow to gain).

    >>> import derive
    >>> wide = derive.loads('name = "d"\n[dense]\nsizes = [2, 8, 1]\n[loss]\nkind = "mse"\n')
    >>> [len(layer.neurons) for layer in layers(derive.derive(wide))]
    [8, 1]
    >>> layers(derive.derive(derive.load("examples/skip.toml"))) is None  # a skip connection
    True
    """
    spec = d.spec
    groups: list[list] = []
    for n in spec.neurons:
        sources = tuple(s for s, _ in n.inputs)
        if groups and groups[-1][0] == sources and groups[-1][1] == n.activation:
            groups[-1][2].append(n)
        else:
            groups.append([sources, n.activation, [n]])
    out = tuple(Layer(s, a, tuple(ns)) for s, a, ns in groups)
    weights = [w for n in spec.neurons for _, w in n.inputs]
    if max(len(layer.neurons) for layer in out) < min_width or len(set(weights)) != len(weights):
        return None
    if not all(s in spec.inputs for s in out[0].sources):
        return None
    for prev, layer in pairwise(out):
        if layer.sources != tuple(n.name for n in prev.neurons):
            return None
    if tuple(o for o, _ in spec.loss.outputs) != tuple(n.name for n in out[-1].neurons):
        return None
    if any(len({n.net == n.name for n in layer.neurons}) > 1 for layer in out):
        return None  # identity neurons that are their own sums mixed with ones that are not
    return out


def plan(b, blocks: tuple[Layer, ...]):
    """Forward lines, returned nodes, backward lines and gradient lines in matrix form.

    `b` is codegen's builder: it owns the names, the printer and the Line type.
    """
    from .codegen import Line, _term_text

    d, spec, py = b.d, b.spec, b.py
    loss = d.loss
    mean = b.loss_kind.reduction == "mean"
    names = []
    for k in range(1, len(blocks) + 1):
        names.append({role: b.namer.claim(f"{role} {k}", f"{role}_{k}")
                      for role in ("S", "W", "Z", "A", "dA", "dZ", "G", "gb")})
    forward, nodes, where = [], [], {}  # where: parameter -> [(layer, row or None, column)]
    for k, (layer, nm) in enumerate(zip(blocks, names)):
        src = names[k - 1]["A"] if k else nm["S"]
        if k == 0:
            forward.append(Line(nm["S"], f"np.stack({_tuple(py[s] for s in layer.sources)}, axis=1)",
                                f"layer 1's sources as columns: {', '.join(layer.sources)}"))
        rows = []
        for i, s in enumerate(layer.sources):
            row = []
            for j, n in enumerate(layer.neurons):
                w = dict(n.inputs)[s]
                row.append(py[w])
                where.setdefault(w, []).append((k, i, j))
            rows.append("[" + ", ".join(row) + "]")
        who = f"{layer.neurons[0].name} … {layer.neurons[-1].name}" if len(layer.neurons) > 2 else \
            ", ".join(n.name for n in layer.neurons)
        forward.append(Line(nm["W"], "np.array([" + _join_rows(rows, 4 + len(nm["W"]) + 13) + "])",
                            f"layer {k + 1} ({who}, {layer.activation}): W[i, j] weighs source i into neuron j"))
        biases = [n.bias for n in layer.neurons]
        for j, bias in enumerate(biases):
            if bias:
                where.setdefault(bias, []).append((k, None, j))
        if all(biases) and len(set(biases)) == 1:
            z = f"{src} @ {nm['W']} + {py[biases[0]]}"
        elif any(biases):
            z = f"{src} @ {nm['W']} + np.array([{', '.join(py[x] if x else '0.0' for x in biases)}])"
        else:
            z = f"{src} @ {nm['W']}"
        forward.append(Line(nm["Z"], z, "every net sum of the layer, one column per neuron"))
        act = ACTIVATIONS[layer.activation]
        own_net = all(n.net == n.name for n in layer.neurons)
        if own_net:  # identity neurons that are their own sums
            nm["A"] = nm["Z"]
        else:
            forward.append(Line(nm["A"], act.numpy.format(z=nm["Z"])))
        last = k == len(blocks) - 1
        for j, n in enumerate(layer.neurons):
            if not own_net:
                nodes.append((n.net, f"{nm['Z']}[:, {j}]"))
            nodes.append((n.name, py[n.name] if last else f"{nm['A']}[:, {j}]"))
    for j, n in enumerate(blocks[-1].neurons):
        forward.append(Line(py[n.name], f"{names[-1]['A']}[:, {j}]"))

    backward = []
    outputs = [o for o, _ in spec.loss.outputs]
    for o in outputs:
        e = d.edge(loss, o)
        backward.append(Line(py["δ_" + o], b.code(sp.factor_terms(e.partial)),
                             f"δ_{o} = ∂{loss}/∂{o} = {_term_text(e.display, '')}"))
    backward.append(Line(names[-1]["dA"], f"np.stack({_tuple(py['δ_' + o] for o in outputs)}, axis=1)",
                         "the outputs' error signals as columns"))
    scale = f" / {b.n}" if mean else ""
    for k in range(len(blocks) - 1, -1, -1):
        layer, nm = blocks[k], names[k]
        act = ACTIVATIONS[layer.activation]
        n0 = layer.neurons[0]
        if act.derivative(symbol(n0.net), symbol(n0.name)) == 1:
            backward.append(Line(nm["dZ"], nm["dA"], f"δ_{n0.net} = δ_{n0.name}, column by column"))
        else:
            slope = act.numpy_derivative.format(z=nm["Z"], a=nm["A"])
            backward.append(Line(nm["dZ"], f"{nm['dA']} * ({slope})",
                                 f"δ_{n0.net} = {_term_text(d.edge(n0.name, n0.net).display, 'δ_' + n0.name)}"
                                 ", column by column"))
        src = names[k - 1]["A"] if k else nm["S"]
        backward.append(Line(nm["G"], f"(({src}.T @ {nm['dZ']}){scale}).tolist()",
                             "G[i][j] = Σ_n source_i · δ_net_j, the gradient of weight W[i, j], as floats"))
        if any(n.bias for n in layer.neurons):
            backward.append(Line(nm["gb"], f"({nm['dZ']}.sum(axis=0){scale}).tolist()",
                                 "Σ_n δ_net_j, column by column, as floats"))
        if k:
            prev = blocks[k - 1].neurons[0].name
            backward.append(Line(names[k - 1]["dA"], f"{nm['dZ']} @ {nm['W']}.T",
                                 f"δ_{prev} = Σ_j w_{prev},j · δ_net_j, and so for every source"))

    gradients = []
    avg = "(1/N) Σ_n" if mean else "Σ_n"
    for p, uses in d.gradient_terms:
        parts = [f"{names[k]['G']}[{i}][{j}]" if i is not None else f"{names[k]['gb']}[{j}]"
                 for k, i, j in where[p]]
        if len(parts) > 1 and len(parts) == len(blocks[where[p][0][0]].neurons) and \
                len({k for k, _, _ in where[p]}) == 1:
            code = f"sum({names[where[p][0][0]]['gb']})"
        else:
            code = " + ".join(parts)
        rule = _short_sum([_term_text(e.partial, "δ_" + e.dst) for e in uses])
        gradients.append(Line(b.namer.table["∂ " + p], code, f"∂{loss}/∂{p} = {avg} {rule}"))
    return forward, nodes, backward, gradients


def _tuple(names) -> str:
    names = list(names)
    return f"({names[0]},)" if len(names) == 1 else "(" + ", ".join(names) + ")"


def _short_sum(terms: list[str]) -> str:
    if len(terms) == 1:
        return terms[0]
    if len(terms) > 6:
        terms = terms[:2] + ["…"] + terms[-1:]
    return "(" + " + ".join(terms) + ")"


def _join_rows(rows: list[str], indent: int) -> str:
    if sum(len(r) + 2 for r in rows) + indent <= 100:
        return ", ".join(rows)
    return (",\n" + " " * indent).join(rows)
