"""The typical wrong forms of one parameter's chain-rule equation, written out in LaTeX.

`derive.check.common_mistakes` (whose docstring lists the forms) judges each of these, and
`derive explain`'s "check yourself" section shows them.

>>> import derive
>>> d = derive.derive(derive.load("examples/mazur.toml"))
>>> [title for title, _ in wrong_forms(d, "w5")]
['a factor left out', 'a factor of 2 in the loss derivative']
>>> weight_between(d, "h1", "o2"), weight_between(d, "o1", "o2")
('w7', '')
"""

from __future__ import annotations

import itertools

from ..core.derivation import Derivation, Factor
from ..printing.printers import LatexPrinter, latex_factor

__all__ = ["weight_between", "wrong_forms"]


def wrong_forms(d: Derivation, param: str) -> tuple[tuple[str, str], ...]:
    """(title, LaTeX equation) for each typical wrong form of ∂L/∂param."""
    d._check_param(param)
    printer = LatexPrinter(dict(d.spec.latex))
    paths = list(d.paths(param))  # as the document writes them, weighted sums included
    out: list[tuple[str, list[list[str]]]] = []

    def frac(num, den):
        return latex_factor(Factor(num, den), printer)

    def factors(path):
        return [frac(b, a) for a, b in itertools.pairwise(path)]

    # the seed's mistake: a connection's weight written as a node between its two ends
    weighted = []
    for path in paths:
        terms = factors(path)
        for j, (a, b) in enumerate(itertools.pairwise(path)):
            w = weight_between(d, a, b)
            if w and a != param:
                terms[j:j + 1] = [frac(w, a), frac(b, w)]
                break
        weighted.append(terms)
    if weighted != [factors(p) for p in paths]:
        out.append(("a weight as a node of the chain", weighted))
    if len(paths) > 1:
        out.append(("a path left out", [factors(p) for p in paths[:-1]]))
    else:  # one path: leave out the activation's derivative, or else the loss's
        pairs = list(itertools.pairwise(d.paths(param)[0]))
        act = next((j for j, (a, b) in enumerate(pairs) if d.equation(b).op.reads_one_net), len(pairs) - 1)
        del pairs[act]
        out.append(("a factor left out", [[frac(b, a) for a, b in pairs]]))
    spec_loss = d.spec.loss
    maker = d.loss_op.wrong_constant
    wrong = maker(len(spec_loss.outputs)) if maker else None
    if wrong:
        targets = dict(spec_loss.outputs)

        def loss_factor(o):  # ∂L/∂o written with the wrong constant
            return rf"\left({wrong[1]}\left({printer.name(targets[o])} - {printer.name(o)}\right)\right)"

        out.append((wrong[0], [factors(path)[:-1] + [loss_factor(path[-2])] for path in paths]))
    lhs = frac(d.loss, param)
    return tuple((title, lhs + " = " + " + ".join(r" \, ".join(t) for t in terms)) for title, terms in out)


def weight_between(d: Derivation, a: str, b: str) -> str:
    """The weight on the connection a → b (b a neuron or its weighted sum), or ""."""
    into_b = [eq for eq in d.equations if eq.name == b or eq.neuron == b]
    return next((w for eq in into_b for w, src in eq.terms if src == a), "")
