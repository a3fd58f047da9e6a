"""Judge a learner's chain-rule equation ∂L/∂θ = Σ Π ∂a/∂b against a network, and say why.

An equation is **correct** when every product is a chain of factors that links θ to the loss
(each denominator the next numerator), every path from θ to the loss is covered exactly once,
and nothing else appears.  A factor ∂a/∂b may skip nodes.  A partial derivative holds the other
arguments fixed, so when b is an argument of a's own equation, or of the weighted sum a's
activation reads, ∂a/∂b is that one route (∂h1/∂w1 = ∂h1/∂net_h1 · ∂net_h1/∂w1); with a bias
b shared by both neurons of x → h → y', ∂y'/∂b holds h fixed, and the path through h needs a
product of its own.  Any other factor is the derivative along every route from b to a: ∂L/∂h1
in a 2-2-2 network covers both of h1's paths, so ∂h1/∂w1 · ∂L/∂h1 (the error-signal form)
covers both paths of w1.  A factor may also be written evaluated (w5 for ∂net_o1/∂h1,
h1(1 − h1) for ∂h1/∂net_h1, −(t1 − o1) for ∂E/∂o1): evaluated factors fill the gaps between
the derivatives and are compared with the local partials they stand for at fixed random points
of the network (every node computed forward from random inputs, targets and parameters), so any
correct way of writing them is accepted.

Names are matched the way people write them (w_{1}, w_1 and w1 are all w1; L and E are the
loss): spelling.py has the rules.

>>> import derive
>>> d = derive.derive(derive.load("examples/mazur.toml"))
>>> v = check(d, r"\\frac{\\partial L}{\\partial w_1} = \\frac{\\partial h_1}{\\partial w_1}"
...              r"\\frac{\\partial w_7}{\\partial h_1}\\frac{\\partial o_2}{\\partial w_7}\\frac{\\partial L}{\\partial o_2}")
>>> v.correct, [(p.kind, p.factor) for p in v.problems]
(False, [('independent', '∂w7/∂h1'), ('off-path', '∂o2/∂w7'), ('missing-path', '')])
"""

from __future__ import annotations

from ..core.derivation import Derivation
from .judge import MAX_PATHS, Judge
from .mistakes import wrong_forms
from .parse import EquationError
from .verdict import KINDS, Mistake, Problem, Term, Verdict, report

__all__ = ["KINDS", "EquationError", "Mistake", "Problem", "Term", "Verdict", "check", "common_mistakes",
           "report"]

# Where the rest lives: verdict.py (the Verdict record and its report), judge.py (lining factors up
# into chains and counting paths), routes.py (walks between any two quantities), probe.py (evaluated
# factors as numbers), spelling.py (names as written), wording.py (plain words), mistakes.py
# (the typical wrong forms).


def check(d: Derivation, equation: str) -> Verdict:
    """Judge `equation` (LaTeX, ∂L/∂θ = Σ Π ∂a/∂b) against the derivation `d`.

    Raises `EquationError` (one line, saying where reading stopped) if it cannot be read.
    """
    return Judge(d).run(equation)


def common_mistakes(d: Derivation, param: str) -> tuple[Mistake, ...]:
    """Typical wrong forms of ∂L/∂param, each with the verdict saying why it is wrong.

    The seed question's weight-as-a-node form (∂w7/∂h1 · ∂o2/∂w7 for the connection h1 → o2),
    a path or a factor left out, and a wrong constant in the loss's derivative; a form that does
    not arise for this parameter (no hidden connection on its paths) is left out.

    >>> import derive
    >>> d = derive.derive(derive.load("examples/mazur.toml"))
    >>> [m.title for m in common_mistakes(d, "w1")]
    ['a weight as a node of the chain', 'a path left out', 'a factor of 2 in the loss derivative']
    >>> print(common_mistakes(d, "w1")[0].equation[:59])
    \\frac{\\partial E_{\\mathrm{total}}}{\\partial w_{1}} = \\frac{
    """
    count = d.path_count(param)
    if count > MAX_PATHS:  # before the forms are written out, one product per path
        raise EquationError(f"∂{d.loss}/∂{param} has {count} paths; derive check judges equations of at most "
                            f"{MAX_PATHS}", 0, "")
    return tuple(Mistake(title, eq, check(d, eq)) for title, eq in wrong_forms(d, param))
