r"""The layer form as code: `<name>_gradients.py` whose parameters are arrays W1, b1, W2, b2, ….

Built from `derive.core.layers.LayerForm`: per layer one batched matrix product forward and
three backward (samples are rows: Z⁽ˡ⁾ = A⁽ˡ⁻¹⁾ W⁽ˡ⁾ᵀ + b⁽ˡ⁾), each activation's stable NumPy
form from the registry, log-sum-exp and softplus forms for the losses of logs, and nothing per
scalar weight: the module is a few hundred lines however wide the network.  Each line carries
its formula.  templates/gradients_layers.py.j2 lays the module out.  The same lines serve both
BACKENDS: the registry's matrix forms name their namespace ({xp}) and use only functions of the
array API standard; what differs (the bias added in place, NumPy's conversions and errstate, the
Dask chunk tasks) is the template's, under one flag.

>>> import derive
>>> spec = derive.loads('name = "c"\n[dense]\nsizes = [784, 128, 10]\nactivation = ["sigmoid", "softmax"]\n'
...                     '[loss]\nkind = "cross_entropy"\n')
>>> src = layers_source(spec)
>>> len(src.splitlines()) < 400, "dW_1 = dZ_1.T @ X" in src
(True, True)
>>> xp_src = layers_source(spec, "array-api")  # the same lines in the namespace xp, nothing in place
>>> "Z_1 += b1" in src, "Z_1 = (W1 @ X.T).T + b1" in xp_src, "xp.exp(-xp.maximum(Z_1, -709.0))" in xp_src
(True, True, True)
"""

from __future__ import annotations

import math
from pathlib import Path

import sympy as sp

from ..core.layers import layering
from ..core.naming import py_layer
from ..core.spec import NetSpec
from ..printing.numpy import GradientPrinter
from ..printing.templates import environment
from .lines import Line, doc_text, key, tuple_literal

__all__ = ["BACKENDS", "BLOCK", "layers_source"]

# Samples per pass of the generated `_backprop`: the gradients are sums over samples, and blocks
# of 1024 keep each layer's (block, n) arrays in the CPU's cache and the memory a call needs
# bounded however many samples there are (784-128-10 at N = 10⁴: 8 % quicker than one pass, and
# one (N, 128) array is 1 GB at N = 10⁶; bench/README.md).
BLOCK = 1024


# The modules `layers_source` writes: one generator and one template, the array namespace a parameter.
#   numpy      imports NumPy only; converts what it is given to float arrays; updates in place where
#              that saves an array
#   array-api  finds the data's library with array_api_compat.array_namespace and computes in it, no
#              conversion and no in-place update (JAX's arrays are immutable); Dask data become one
#              task per chunk of samples and a tree sum
BACKENDS = {"numpy": "np", "array-api": "xp"}


def layers_source(spec: NetSpec, backend: str = "numpy") -> str:
    """The whole text of the layer-form module of a `[dense]` network (no per-weight derivation),
    for one of BACKENDS."""
    if backend not in BACKENDS:
        raise ValueError(f"unknown backend {backend!r}: one of {', '.join(BACKENDS)}")
    xp, in_place = BACKENDS[backend], backend == "numpy"
    lf = layering(spec)  # NotLayered (a ValueError) for a network that does not fall into layers
    loss = lf.loss_op
    L = len(lf.layers)
    names = {role: {k: py_layer(role, k) for k in range(1, L + 1)} for role in ("Z", "A", "dA", "dZ", "dW", "db")}
    A = {0: "X", **names["A"]}
    for layer in lf.layers:  # identity layers that are their own sums: A is Z
        if layer.nets == layer.outputs:
            A[layer.index] = names["Z"][layer.index]
    forward = []
    for layer in lf.layers:
        l, act = layer.index, layer.activation
        b = f" + b{l}" if layer.biases else ""
        # (W Aᵀ)ᵀ rather than A Wᵀ: the same product, which OpenBLAS runs about twice as fast for
        # a tall A (784-128-10 at N = 10⁴: 27 against 53 ms, bench/README.md)
        product = f"(W{l} @ {A[l - 1]}.T).T"
        forward.append(Line(names["Z"][l], product + ("" if in_place or not layer.biases else f" + b{l}"),
                            f"z{l} = W{l} a{l - 1}{b} for every sample: shape (N, {layer.shape[0]})"))
        if layer.biases and in_place:  # a new (N, n) array costs more than the sum (0.5 ms at 10³ × 128)
            forward.append(Line(names["Z"][l], f"b{l}", op="+="))
        if A[l] != names["Z"][l]:
            steps = act.numpy_matrix(names["Z"][l], A[l], py_layer("E", l), xp)
            forward += [Line(t, c, f"a{l} = {act.name}(z{l})" if t == A[l] else "") for t, c in steps]
    top = lf.layers[-1]
    loss_lines = []
    if loss.log_sum_exp:  # each row's log-sum-exp, shifted by its maximum
        Z = names["Z"][L]
        loss_lines = [Line("M", f"{xp}.max({Z}, axis=1, keepdims=True)"),
                      Line("LSE", f"M + {xp}.log({xp}.sum({xp}.exp({Z} - M), axis=1, keepdims=True))",
                           f"log Σ_k e^(z{L}_k), for the loss: log a{L} = z{L} − LSE")]
    value = loss.numpy_matrix_loss.format(A=A[L], Z=names["Z"][L], T="T", LSE="LSE", xp=xp)
    penalty = ""
    if spec.loss.l2:  # (not spec.penalized: that lists every weight)
        penalty = f" + {spec.loss.l2 / 2!r} * (" + " + ".join(f"{xp}.sum(W{k} * W{k})" for k in range(1, L + 1)) + ")"
    scale = " / n" if loss.reduction == "mean" else ""
    backward = []
    finish = []  # after the sum over blocks: the mean's 1/N, the penalty's λW
    if loss.numpy_net_delta:
        backward.append(Line(names["dZ"][L], loss.numpy_net_delta.format(A=A[L], T="T", xp=xp),
                             f"δ{L} = {loss.net_delta.format(a=f'a{L}')}: ∂L/∂a{L} times the {top.activation.name}'s "
                             "derivative, with 1/a cancelled"))
    else:
        printer = GradientPrinter({"A": A[L], "T": "T"}, {"order": "none"})
        y, t = sp.Symbol("A"), sp.Symbol("T")
        K = len(top.outputs)
        shown = loss.derivative(y, t, K)
        backward.append(Line(names["dA"][L], printer.doprint(sp.factor_terms(shown)),
                             f"∂L/∂a{L} = {sp.sstr(loss.derivative(sp.Symbol(f'a{L}'), sp.Symbol('t'), K))}, "
                             "elementwise"))
    for layer in reversed(lf.layers):
        l, act = layer.index, layer.activation
        if not (loss.numpy_net_delta and l == L):
            dA, Z = names["dA"][l], names["Z"][l]
            if act.unit_slope or A[l] == Z:
                backward.append(Line(names["dZ"][l], dA, f"δ{l} = ∂L/∂a{l}: the identity's derivative is 1"))
            else:
                code, formula = act.numpy_backward(dA, Z, A[l], xp)
                backward.append(Line(names["dZ"][l], code, f"δ{l} = " + formula.format(l=l)))
        dz = names["dZ"][l]
        backward.append(Line(names["dW"][l], f"{dz}.T @ {A[l - 1]}",
                             f"Σ_n δ{l} a{l - 1}ᵀ over the block's samples: shape {layer.shape}"))
        reg = f" + {spec.loss.l2!r} * W{l}" if spec.loss.l2 else ""
        if scale or reg:
            finish.append(Line(names["dW"][l], f"{names['dW'][l]}{scale}{reg}",
                               f"∂L/∂W{l} = " + ("1/N " if scale else "") + f"Σ_n δ{l} a{l - 1}ᵀ"
                               + (f" + λ W{l}" if reg else "")))
        if layer.biases:
            # Σ_n as a product with a vector of ones: in NumPy 12 µs against sum(axis=0)'s 31 at 10³ × 128
            total = f"{xp}.sum({dz})" if layer.shared_bias else f"ones @ {dz}"
            backward.append(Line(names["db"][l], total,
                                 f"Σ_n {'Σ_j ' if layer.shared_bias else ''}δ{l} over the block's samples"
                                 + ("" if layer.shared_bias else f": shape ({layer.shape[0]},)")))
            if scale:
                finish.append(Line(names["db"][l], f"{names['db'][l]}{scale}",
                                   f"∂L/∂b{l} = 1/N Σ_n {'Σ_j ' if layer.shared_bias else ''}δ{l}"))
        if l > 1:
            # one neuron: (N, 1) times (1, n) is an outer product, 3× quicker broadcast than through matmul
            product = f"{dz} * W{l}" if layer.shape[0] == 1 else f"{dz} @ W{l}"
            backward.append(Line(names["dA"][l - 1], product, f"∂L/∂a{l - 1} = W{l}ᵀ δ{l}"))
    values = dict(spec.values)
    initial = lf.arrays(values) if values and set(values) >= set(spec.parameters) else {}
    data = {}
    if spec.data:
        columns = dict(spec.data)
        data = {"X": [list(r) for r in zip(*(columns[x] for x in spec.inputs))],
                "T": [list(r) for r in zip(*(columns[t] for t in lf.targets))]}
    env = environment("py")
    # (the array-API module keeps INITIAL and DATA as nested lists: no library is imported to hold them)
    env.filters.update(key=key, tuple=tuple_literal)
    return env.get_template("gradients_layers.py.j2").render(
        name=spec.name, title=doc_text(spec.title), source=doc_text(Path(spec.source).name),
        loss=lf.loss, loss_description=loss.description, mean=loss.reduction == "mean",
        l2=repr(spec.loss.l2) if spec.loss.l2 else "", pretty=lf.pretty().rstrip("\n").splitlines(),
        parameters=lf.parameters, shapes=lf.shapes(), first_names=lf.first_names(),
        inputs=spec.inputs, targets=lf.targets, sizes=[len(spec.inputs)] + [len(x.outputs) for x in lf.layers],
        forward=forward, loss_lines=loss_lines, value=value, penalty=penalty, backward=backward,
        finish=finish, block=BLOCK,
        grads=[(p, names["dW"][int(p[1:])] if p[0] == "W" else names["db"][int(p[1:])]) for p in lf.parameters],
        nodes=[(f"z{x.index}", names["Z"][x.index]) for x in lf.layers] + [(f"a{x.index}", A[x.index]) for x in lf.layers],
        initial={k: repr(v) for k, v in initial.items()}, data={k: repr(v) for k, v in data.items()},
        learning_rate=repr(float(spec.train.learning_rate)), steps=spec.train.steps,
        uses_ones=any(x.biases and not x.shared_bias for x in lf.layers), numpy=in_place,
        sizes_flat=repr(tuple(math.prod(s) for s in lf.shapes().values())),
    )
