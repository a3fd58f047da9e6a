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
`.tolist()` once is far cheaper than a NumPy scalar per parameter) or the column sums of dZ_k.
The layers are the `[dense]` spec's own records (`NetSpec.layers`), never guessed back from
neurons; `layers(d)` says whether they are wide enough to gain.  A network of `[[neuron]]` tables
(skip connections, shared weights) stays scalar, where the code reads like the derivation line
by line.
"""

from __future__ import annotations

import sympy as sp

from ..core.derivation import Derivation
from ..core.naming import delta_name, py_layer
from ..core.kinds import Layer
from .lines import Line, as_tuple, join_rows, short_sum, term_text

__all__ = ["MIN_WIDTH", "layers"]

MIN_WIDTH = 8  # the widest layer must have this many neurons for matrix code to pay


def layers(d: Derivation) -> tuple[Layer, ...] | None:
    r"""The `[dense]` spec's layer records, or None for a network of neurons (or one too narrow to gain).

    >>> import derive
    >>> wide = derive.loads('name = "d"\n[dense]\nsizes = [2, 8, 1]\n[loss]\nkind = "mse"\n')
    >>> [len(layer.outputs) for layer in layers(derive.derive(wide))]
    [8, 1]
    >>> layers(derive.derive(derive.load("examples/skip.toml"))) is None  # [[neuron]] tables
    True
    """
    out = d.spec.layers
    return out if out and max(len(layer.outputs) for layer in out) >= MIN_WIDTH else None


def plan(b, blocks: tuple[Layer, ...]):
    """Forward lines, returned nodes, backward lines and gradient lines in matrix form.

    `b` is codegen's builder (module.Builder): it owns the names and the printer.
    """
    d, spec, py = b.d, b.spec, b.py
    neuron = {n.name: n for n in spec.neurons}
    units = [[neuron[o] for o in layer.outputs] for layer in blocks]  # units[k][j]: neuron j of layer k
    loss = d.loss
    roles = ("S", "W", "Z", "A", "T", "dA", "dZ", "G", "gb")
    names = [{r: b.namer.claim(f"{r} {k}", py_layer(r, k)) for r in roles} for k in range(1, len(blocks) + 1)]
    forward, nodes, where = [], [], {}  # where: parameter -> [(layer, row or None, column)]
    for k, (layer, nm) in enumerate(zip(blocks, names)):
        layer_units = units[k]
        src = names[k - 1]["A"] if k else nm["S"]
        if k == 0:
            forward.append(Line(nm["S"], f"np.stack({as_tuple(py[s] for s in layer.sources)}, axis=1)",
                                f"layer 1's sources as columns: {', '.join(layer.sources)}"))
        weights = [dict(n.inputs) for n in layer_units]  # column j: neuron j's weight of each source
        rows = ["[" + ", ".join(py[ws[s]] for ws in weights) + "]" for s in layer.sources]
        for j, (n, ws) in enumerate(zip(layer_units, weights)):
            for i, s in enumerate(layer.sources):
                where.setdefault(ws[s], []).append((k, i, j))
            if n.bias:
                where.setdefault(n.bias, []).append((k, None, j))
        who = f"{layer_units[0].name} … {layer_units[-1].name}" if len(layer_units) > 2 else \
            ", ".join(n.name for n in layer_units)
        forward.append(Line(nm["W"], "np.array([" + join_rows(rows, 4 + len(nm["W"]) + 13) + "])",
                            f"layer {k + 1} ({who}, {layer.activation.name}): W[i, j] weighs source i into neuron j"))
        biases = [n.bias for n in layer_units]
        if all(biases) and len(set(biases)) == 1:
            z = f"{src} @ {nm['W']} + {py[biases[0]]}"
        elif any(biases):
            z = f"{src} @ {nm['W']} + np.array([{', '.join(py[x] if x else '0.0' for x in biases)}])"
        else:
            z = f"{src} @ {nm['W']}"
        forward.append(Line(nm["Z"], z, "every net sum of the layer, one column per neuron"))
        act = layer.activation
        own_net = layer.own_sums
        if own_net:  # identity neurons that are their own sums
            nm["A"] = nm["Z"]
        else:
            steps = act.numpy_matrix(nm["Z"], nm["A"], b.namer.claim(f"E {k + 1}", f"E_{k + 1}"))
            if k == len(blocks) - 1 and b.loss_kind.numpy_loss:  # loss() reads the nets, the gradients the outputs
                b.not_for_loss |= {t for t, _ in steps}
            forward += [Line(t, c) for t, c in steps]
        for j, n in enumerate(layer_units):
            if not own_net:
                nodes.append((n.net, f"{nm['Z']}[:, {j}]"))
            last = k == len(blocks) - 1 and not b.loss_kind.numpy_loss  # outputs named by their own lines
            nodes.append((n.name, py[n.name] if last else f"{nm['A']}[:, {j}]"))
    for j, n in enumerate(units[-1]):
        if b.loss_kind.numpy_loss:  # a loss of logs reads the outputs' nets, as columns; no δ_o needed
            b.net_code[n.net] = f"{names[-1]['Z']}[:, {j}]"
        else:
            forward.append(Line(py[n.name], f"{names[-1]['A']}[:, {j}]"))

    backward = []
    outputs = list(blocks[-1].outputs)  # column j is neuron j, whatever order loss.outputs lists
    target_of = dict(spec.loss.outputs)
    fused = b.loss_kind.numpy_net_delta
    if fused:  # a loss of logs: the output nets' δ written out, with the outputs' 1/y cancelled
        backward.append(Line(names[-1]["T"], f"np.stack({as_tuple(py[target_of[o]] for o in outputs)}, axis=1)",
                             "the targets as columns, in the output layer's order"))
    for o in outputs if not fused else ():
        e = d.edge(loss, o)
        backward.append(Line(py[delta_name(o)], b.code(sp.factor_terms(e.partial)),
                             f"δ_{o} = ∂{loss}/∂{o} = {term_text(e.display, '')}"))
    if not fused:
        backward.append(Line(names[-1]["dA"], f"np.stack({as_tuple(py[delta_name(o)] for o in outputs)}, axis=1)",
                             "the outputs' error signals as columns"))
    scale = f" / {b.n}" if b.mean else ""
    for k in range(len(blocks) - 1, -1, -1):
        layer, nm = blocks[k], names[k]
        act = layer.activation
        n0 = units[k][0]
        if fused and k == len(blocks) - 1:
            backward.append(Line(nm["dZ"], fused.format(A=nm["A"], T=nm["T"], xp="np"),
                                 f"δ_{n0.net} = {b.rule(d.consumers(n0.net))}, with each δ_o written out "
                                 "(1/o cancels), column by column"))
        elif act.unit_slope:
            backward.append(Line(nm["dZ"], nm["dA"], f"δ_{n0.net} = δ_{n0.name}, column by column"))
        else:
            backward.append(Line(nm["dZ"], act.numpy_backward(nm["dA"], nm["Z"], nm["A"])[0],
                                 f"δ_{n0.net} = {term_text(d.edge(n0.name, n0.net).display, delta_name(n0.name))}"
                                 ", column by column"))
        src = names[k - 1]["A"] if k else nm["S"]
        product = f"{src}.T @ {nm['dZ']}"
        backward.append(Line(nm["G"], f"(({product}){scale}).tolist()" if scale else f"({product}).tolist()",
                             "G[i][j] = Σ_n source_i · δ_net_j, the gradient of weight W[i, j], as floats"))
        if layer.biases:
            column_sums = f"{nm['dZ']}.sum(axis=0)"
            backward.append(Line(nm["gb"], f"({column_sums}{scale}).tolist()" if scale else f"{column_sums}.tolist()",
                                 "Σ_n δ_net_j, column by column, as floats"))
        if k:
            prev = blocks[k - 1].outputs[0]
            backward.append(Line(names[k - 1]["dA"], f"{nm['dZ']} @ {nm['W']}.T",
                                 f"δ_{prev} = Σ_j w_{prev},j · δ_net_j, and so for every source"))

    gradients = []
    for p, uses in d.gradient_terms:
        parts = [f"{names[k]['G']}[{i}][{j}]" if i is not None else f"{names[k]['gb']}[{j}]"
                 for k, i, j in where[p]]
        if len(parts) > 1 and len(parts) == len(blocks[where[p][0][0]].outputs) and \
                len({k for k, _, _ in where[p]}) == 1:
            code = f"sum({names[where[p][0][0]]['gb']})"
        else:
            code = " + ".join(parts)
        rule = short_sum([term_text(f, delta_name(c)) for f, c in d.times_delta(uses)])
        gradients.append(Line(b.gradient_name(p), *b.penalize(p, code, f"∂{loss}/∂{p} = {b.average} {rule}")))
    return forward, nodes, backward, gradients
