"""Every name in generated code: the network's own names made safe, and the names derive makes up.

No user text reaches the generated code except through this table: a name stays as it is
unless it is a keyword, a builtin or one of the template's own names (`RESERVED`); then it
gets underscores until it is free.  The made-up names follow the math (core/naming.py):
δ_h1 is `delta_h1`, ∂L/∂w1 is `dL_dw1`.  Claims are made in a fixed order, so the same spec
always gets the same names.

>>> import derive
>>> spec = {"name": "k", "inputs": ["lambda"], "loss": {"kind": "sse", "outputs": {"data": "t"}},
...         "neuron": [{"name": "data", "activation": "tanh", "inputs": {"lambda": "w"}}]}
>>> names = python_names(derive.derive(derive.from_dict(spec)))
>>> names["lambda"], names["data"]
('lambda_', 'data_')
"""

from __future__ import annotations

import builtins
import keyword

from ..core.derivation import Derivation, delta_symbol
from ..core.naming import py_delta, py_gradient

__all__ = ["RESERVED", "Namer", "network_names", "python_names"]

# Names the template's own code uses inside or around the functions that also hold the
# network's names; a user's name equal to one of these gets a trailing underscore.
RESERVED = frozenset({
    "np", "numpy", "params", "data", "grads", "learning_rate", "steps", "callback", "freeze", "frozen",
    "history", "value", "want_loss", "n", "k", "p", "names", "arrays", "shapes", "unknown", "exc",
    "PARAMETERS", "INPUTS", "TARGETS", "LOSS", "REDUCTION", "INITIAL", "DATA", "LEARNING_RATE", "STEPS",
    "forward", "loss", "gradients", "step", "train", "_samples", "_frozen", "_backprop", "_array", "_check",
    "_finite", "_forward", "_loss",
}) | frozenset(n for n in dir(builtins) if not n.startswith("_"))


class Namer:
    """Hands out identifiers that are not keywords, not reserved and not yet taken."""

    def __init__(self):
        self.table: dict[str, str] = {}
        self.taken: set[str] = set()

    def claim(self, key: str, wanted: str) -> str:
        if key in self.table:
            return self.table[key]
        name = wanted
        while (keyword.iskeyword(name) or name in RESERVED or name in self.taken or not name.isidentifier()
               or name == "__debug__"):  # an identifier Python refuses to assign
            name += "_"
        self.taken.add(name)
        self.table[key] = name
        return name

    @staticmethod
    def gradient_key(param: str) -> str:
        return "∂ " + param


def network_names(d: Derivation) -> tuple[Namer, dict[str, str]]:
    """The namer with the network's names claimed, and the table user name (or δ name) -> Python name."""
    namer = Namer()
    for name in (*d.parameters, *d.spec.inputs, *d.spec.targets, *(eq.name for eq in d.equations)):
        namer.claim(name, name)
    py = dict(namer.table)
    for eq in d.equations:
        py[delta_symbol(eq.name).name] = namer.claim("δ " + eq.name, py_delta(py[eq.name]))
    for p in d.parameters:
        namer.claim(Namer.gradient_key(p), py_gradient(py[p]))
    return namer, py


def python_names(d: Derivation) -> dict[str, str]:
    """Each of the network's names as a safe Python identifier, in a fixed order."""
    return dict(network_names(d)[0].table)
