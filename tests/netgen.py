"""Random networks for property tests: TOML specs with random sizes, activations, shared
parameters and skip connections, written as a user would write them.

>>> import random
>>> from derive import loads
>>> spec = loads(random_spec(random.Random(1)))
>>> len(spec.neurons) >= 2
True
"""

from __future__ import annotations

import random

from derive.core.ops import ACTIVATIONS, LOSSES

SMOOTH = ("identity", "sigmoid", "tanh", "softplus", "exp")  # differentiable everywhere


def random_spec(rng: random.Random, *, max_layers: int = 3, max_width: int = 3,
                activations=SMOOTH, with_values: bool = True, samples: int = 3) -> str:
    """A random layered network as TOML text.

    Hidden and output neurons take every unit of the previous layer, sometimes a skip input from
    an earlier layer; biases are sometimes shared within a layer, sometimes absent; a weight is
    now and then shared between two edges.  `with_values` adds [values] and [data].
    """
    n_in = rng.randint(1, max_width)
    layers = [[f"x{i + 1}" for i in range(n_in)]]
    depth = rng.randint(1, max_layers)
    lines = ['name = "random"', f"inputs = [{', '.join(repr_s(x) for x in layers[0])}]", ""]
    params: list[str] = []
    weight_no = 0
    for layer in range(1, depth + 1):
        last = layer == depth
        width = rng.randint(1, 2 if last else max_width)
        names = [f"{'y' if last else 'h'}{layer}_{j + 1}" for j in range(width)]
        shared_bias = f"c{layer}" if rng.random() < 0.4 else None
        for name in names:
            sources = list(layers[-1])
            earlier = [s for lyr in layers[:-1] for s in lyr]
            if earlier and rng.random() < 0.4:
                sources.append(rng.choice(earlier))  # a skip connection
            pairs = []
            for s in sources:
                if params and rng.random() < 0.1:
                    w = rng.choice([p for p in params if p.startswith("w")] or params)
                else:
                    weight_no += 1
                    w = f"w{weight_no}"
                pairs.append((s, w))
                if w not in params:
                    params.append(w)
            bias = shared_bias if shared_bias else (f"b_{name}" if rng.random() < 0.7 else None)
            if bias and bias not in params:
                params.append(bias)
            act = rng.choice(activations)
            lines += ["[[neuron]]", f'name = "{name}"', f'activation = "{act}"',
                      "inputs = { " + ", ".join(f'{s} = "{w}"' for s, w in pairs) + " }"]
            if bias:
                lines.append(f'bias = "{bias}"')
            lines.append("")
        layers.append(names)
    outputs = layers[-1]
    kind = rng.choice(sorted(k for k, loss in LOSSES.items() if not loss.requires))  # any outputs fit
    lines += ["[loss]", f'kind = "{kind}"',
              "outputs = { " + ", ".join(f'{o} = "t{j + 1}"' for j, o in enumerate(outputs)) + " }", ""]
    if with_values:
        lines.append("[values]")
        lines += [f"{p} = {rng.uniform(-1, 1):.6f}" for p in params]
        lines += ["", "[data]"]
        for x in layers[0] + [f"t{j + 1}" for j in range(len(outputs))]:
            lines.append(f"{x} = [{', '.join(f'{rng.uniform(-1, 1):.6f}' for _ in range(samples))}]")
    assert all(a in ACTIVATIONS for a in activations)
    return "\n".join(lines) + "\n"


def repr_s(s: str) -> str:
    return f'"{s}"'
