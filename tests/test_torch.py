"""The generated gradients against PyTorch autograd in float64, on random networks.

The PyTorch graph is built here from the spec alone (neurons, activations, loss), not from the
Derivation, so the two computations share nothing but the network's description.
"""

from __future__ import annotations

import random

import numpy as np
import pytest

import derive
from derive.codegen import load_module

from .netgen import random_spec

torch = pytest.importorskip("torch")

TORCH_ACTIVATIONS = {
    "identity": lambda z: z,
    "sigmoid": torch.sigmoid,
    "tanh": torch.tanh,
    "softplus": lambda z: torch.logaddexp(torch.zeros_like(z), z),  # exact, unlike F.softplus's cut-off
    "relu": torch.relu,
    "leaky_relu": lambda z: torch.nn.functional.leaky_relu(z, 0.01),
    "exp": torch.exp,
}


def torch_loss(spec, params: dict, data: dict):
    values = {k: torch.tensor(np.asarray(v, dtype=float), dtype=torch.float64) for k, v in data.items()}
    values.update(params)
    for n in spec.neurons:
        net = sum(values[w] * values[src] for src, w in n.inputs)
        if n.bias:
            net = net + values[n.bias]
        values[n.name] = TORCH_ACTIVATIONS[n.activation](net)
    errors = torch.stack([(values[t] - values[o]) ** 2 for o, t in spec.loss.outputs])
    kind = spec.loss.kind
    if kind == "half_sse":
        return 0.5 * errors.sum()
    if kind == "sse":
        return errors.sum()
    assert kind == "mse"
    return errors.mean()  # over outputs and samples


def torch_gradients(spec, start: dict, data: dict) -> dict:
    params = {p: torch.tensor(start[p], dtype=torch.float64, requires_grad=True) for p in spec.parameters}
    torch_loss(spec, params, data).backward()
    return {p: params[p].grad.item() for p in spec.parameters}


def check(text: str, rng: np.random.Generator, n: int):
    spec = derive.loads(text)
    m = load_module(derive.derive(spec))
    params = dict(m.INITIAL)
    data = {x: rng.uniform(-2, 2, n) for x in spec.inputs}
    data.update({t: rng.uniform(-1, 1, n) for t in spec.targets})
    ours = m.gradients(params, data)
    theirs = torch_gradients(spec, params, data)
    scale = max(abs(v) for v in theirs.values())
    for p in spec.parameters:
        assert ours[p] == pytest.approx(theirs[p], rel=1e-9, abs=1e-12 * scale), (p, text)
    assert m.loss(params, data) == pytest.approx(torch_loss(spec, {
        p: torch.tensor(v, dtype=torch.float64) for p, v in params.items()}, data).item(), rel=1e-12)


@pytest.mark.parametrize("seed", range(25))
def test_random_smooth_networks_match_pytorch(seed):
    # random sizes, activations, shared weights and biases, skip connections (tests/netgen.py)
    rng = random.Random(seed)
    check(random_spec(rng, max_layers=4, max_width=4), np.random.default_rng(seed), n=1 + seed % 7 * 9)


@pytest.mark.parametrize("seed", range(10))
def test_random_networks_with_every_activation_match_pytorch(seed):
    # relu's kink at 0 is never hit by random data; both sides take 0 there
    rng = random.Random(1000 + seed)
    check(random_spec(rng, activations=tuple(TORCH_ACTIVATIONS)), np.random.default_rng(seed), n=32)


def test_every_registry_activation_has_a_pytorch_twin():
    from derive.core.ops import ACTIVATIONS

    assert set(ACTIVATIONS) == set(TORCH_ACTIVATIONS)


def test_the_examples_match_pytorch():
    from pathlib import Path

    for path in sorted((Path(__file__).resolve().parent.parent / "examples").glob("*.toml")):
        check(path.read_text(), np.random.default_rng(0), n=64)


@pytest.mark.parametrize("sizes, activation, bias, kind", [
    ((3, 8, 2), '"tanh"', "per_layer", "mse"),
    ((5, 12, 1), '"sigmoid"', "per_neuron", "sse"),
    ((3, 8, 8, 2), '["softplus", "tanh", "identity"]', "none", "half_sse"),
    ((2, 10, 8, 2), '["relu", "leaky_relu", "exp"]', "per_layer", "mse"),
])
def test_dense_networks_in_matrix_code_match_pytorch(sizes, activation, bias, kind):
    from derive.codegen import module_source

    text = (f'name = "dense"\n[dense]\nsizes = {list(sizes)}\nactivation = {activation}\nbias = "{bias}"\n'
            f'[loss]\nkind = "{kind}"\n')
    assert "W_1 = np.array(" in module_source(derive.derive(derive.loads(text)))
    spec = derive.loads(text)
    rng = np.random.default_rng(sum(sizes))
    values = "\n".join(f"{p} = {rng.uniform(-0.5, 0.5):.6f}" for p in spec.parameters)
    check(text + "[values]\n" + values + "\n", rng, n=40)
