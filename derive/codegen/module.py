"""Derivation in, standalone NumPy gradient module out (the text of `<name>_gradients.py`).

The module is made from the derivation, not from a run-time autodiff: scalar.py writes it line
by line, matrix.py one matrix product per layer for wide dense stacks, both with the registry's
stable NumPy forms (derive/core/ops.py).  `GradientPrinter` prints the expressions;
templates/gradients.py.j2 lays out the module and contains no math.

>>> import derive
>>> src = module_source(derive.derive(derive.load("examples/qa_chain.toml")))
>>> print(next(line for line in src.splitlines() if "dL_dw1 =" in line).strip())
dL_dw1 = float(x @ delta_z_h)
"""

from __future__ import annotations

from pathlib import Path

import sympy as sp

from ..core.derivation import Derivation
from ..core.naming import delta_name
from ..core.ops import ACTIVATIONS
from ..printing.numpy import GradientPrinter
from ..printing.templates import environment
from . import matrix, scalar
from .lines import Line, doc_text, key, term_text, tuple_literal, unpack
from .names import Namer, network_names

__all__ = ["Builder", "module_source"]


def module_source(d: Derivation) -> str:
    """The whole text of the network's `<name>_gradients.py`, byte-identical for the same spec."""
    return Builder(d).render()


class Builder:
    """One Derivation's code in the making: the names, the printer, and the pieces the template lays out."""

    def __init__(self, d: Derivation):
        self.d = d
        self.spec = d.spec
        self.loss_kind = d.loss_op
        self.mean = self.loss_kind.reduction == "mean"
        self.average = "(1/N) Σ_n" if self.mean else "Σ_n"
        self.namer, self.py = network_names(d)  # py: user name -> Python name
        self.n = "n"  # the sample count, reserved
        self.printer = GradientPrinter(self.py, {"order": "none"})
        self.penalized = dict.fromkeys(d.spec.penalized)  # ordered: a set's order changes with the hash seed
        self.net_code: dict[str, str] = {}  # a net's code where it is not a variable of its own (matrix code)
        self.not_for_loss: set[str] = set()  # forward lines loss() does without (a loss of logs reads the nets)

    def code(self, expr: sp.Expr) -> str:
        return self.printer.doprint(expr)

    def gradient_name(self, param: str) -> str:
        return self.namer.table[Namer.gradient_key(param)]

    def rule(self, edges) -> str:
        """Σ partial · δ over `edges` for a comment: `w5·δ_net_o1 + w7·δ_net_o2`."""
        return " + ".join(term_text(f, delta_name(c) if c else "") for f, c in self.d.times_delta(edges))

    def loss_line(self) -> Line:
        eq, op = self.d.equations[-1], self.loss_kind
        nets = {n.name: n.net for n in self.spec.neurons}
        pairs = [(self.py[t], self.net_code.get(nets[o], self.py[nets[o]])) for o, t in self.spec.loss.outputs]
        code = op.numpy_loss(pairs, [z for _, z in pairs]) if op.numpy_loss else self.code(eq.expr)
        return Line(self.py[eq.name], code, f"{eq.name} per sample: {op.description}")

    def penalize(self, param: str, code: str, comment: str) -> tuple[str, str]:
        """A gradient's code and comment with the L2 penalty's λ·w added, for a penalized weight."""
        if param not in self.penalized:
            return code, comment
        return f"{code} + {self.spec.loss.l2!r} * {self.py[param]}", f"{comment} + λ·{param}"

    def penalty(self, matrices: list[str]) -> str:
        """The data-set loss's (λ/2)·Σ w² as code: over the weight matrices, or the weights by name."""
        if not self.penalized:
            return ""
        squares = [f"np.sum({m} * {m})" for m in matrices] or [f"{self.py[w]} * {self.py[w]}" for w in self.penalized]
        return f" + {self.spec.loss.l2 / 2!r} * ({' + '.join(squares)})"

    @property
    def fused(self) -> set[str]:
        """The outputs whose δ the code never computes: for a loss of logs (cross-entropy), the nets'
        δ comes straight from the derivation's δ, in which the outputs' 1/y has cancelled."""
        return {o for o, _ in self.spec.loss.outputs} if self.loss_kind.numpy_loss else set()

    def render(self) -> str:
        spec, d = self.spec, self.d
        blocks = matrix.layers(d)
        if blocks:
            forward, nodes, backward, gradients = matrix.plan(self, blocks)
        else:
            backward = scalar.backward_lines(self)  # first: it names the activation slopes and temporaries
            forward, gradients = scalar.forward_lines(self), scalar.gradient_lines(self)
            if self.loss_kind.numpy_loss:  # the loss reads the outputs' nets, never the outputs
                self.not_for_loss |= {self.py[o] for o in self.fused}
            nodes = [(eq.name, self.py[eq.name]) for eq in d.equations[:-1]]
        notes = list(dict.fromkeys(eq.op.derivative_note for eq in d.equations[:-1] if eq.op.derivative_note))
        env = environment("py")
        env.filters.update(key=key, tuple=tuple_literal)
        return env.get_template("gradients.py.j2").render(
            name=spec.name, title=doc_text(spec.title), source=doc_text(Path(spec.source).name),
            loss=d.loss, loss_description=self.loss_kind.description, mean=self.mean,
            penalty=self.penalty([self.namer.table[f"W {k}"] for k in range(1, len(blocks) + 1)] if blocks else []),
            l2=repr(spec.loss.l2),
            notes=notes or [ACTIVATIONS["identity"].derivative_note],
            parameters=[(p, self.py[p]) for p in d.parameters],
            inputs=[(x, self.py[x]) for x in spec.inputs],
            targets=[(t, self.py[t]) for t in spec.targets],
            nodes=nodes,
            initial=[(k, repr(float(v))) for k, v in sorted(spec.values, key=lambda kv: d.parameters.index(kv[0]))],
            data=[(k, "[" + ", ".join(repr(float(x)) for x in v) + "]") for k, v in spec.data],
            learning_rate=repr(float(spec.train.learning_rate)), steps=spec.train.steps,
            forward=forward,
            loss_forward=[line for line in forward if line.target not in self.not_for_loss], loss_line=self.loss_line(), backward=backward, gradients=gradients,
            grad_names=[(p, self.gradient_name(p)) for p in d.parameters],
            unpack_inputs=unpack([self.py[x] for x in spec.inputs], 4),
            unpack_leaves=unpack([self.py[x] for x in (*spec.inputs, *spec.targets)], 4),
            first_leaf=self.py[spec.inputs[0]],
        )
