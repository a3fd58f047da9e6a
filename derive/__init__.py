"""derive: every ∂L/∂θ of a small neural network, as a chain-rule sum over paths, explained and coded.

>>> import derive
>>> net = derive.load("examples/mazur.toml")
>>> d = derive.derive(net)
>>> d.parameters
('w1', 'w2', 'w3', 'w4', 'w5', 'w6', 'w7', 'w8', 'b1', 'b2')
>>> len(d.paths("w1"))
2
"""

from .core.chain import derive
from .core.derivation import Chain, Derivation
from .core.interpret import evaluate
from .core.layers import LayerForm, layer_form
from .core.spec import NetSpec, SpecError, from_dict, load, loads
from .explain import web as _web  # noqa: F401 - gives Derivation its notebook view (_repr_html_)
from .explain.terminal import pretty

__all__ = ["Chain", "Derivation", "LayerForm", "NetSpec", "SpecError", "derive", "evaluate", "from_dict", "layer_form",
           "load", "loads", "pretty"]
