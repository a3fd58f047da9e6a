"""The worked example as plain data: every number of the forward pass, local derivatives, δ, gradients, update.

The numbers come from `derive.core.interpret` (exact SymPy evaluation of the derivation's own
expressions); each is shown the way the classic step-by-step examples show it: the formula, the
same formula with the numbers in place of the names (printed by a `LatexPrinter` that maps each
name to its value), and the result.

>>> import derive
>>> ex = worked_example(derive.derive(derive.load("examples/mazur.toml")))
>>> ex.loss, ex.updates[4][0], ex.updates[4][4]
('0.298371109', 'w_{5}', '0.35891648')
"""

from __future__ import annotations

from dataclasses import dataclass

import sympy as sp

from ..core.derivation import Derivation, Factor, delta_symbol
from ..core.interpret import evaluate
from ..printing.printers import LatexPrinter, latex_factor
from .forms import forward_pieces, readable, times_delta
from .texmath import Row, chain_rows, number, numeric_printer, pack, symbolic_printer, terms

__all__ = ["Example", "SampleView", "has_numbers", "worked_example"]


@dataclass(frozen=True)
class SampleView:
    index: int  # 1-based
    given: tuple[str, ...]  # packed LaTeX lines: this sample's inputs and targets
    forward: tuple[Row, ...]  # each net sum, activation and the loss: formula = numbers = value
    locals: tuple[Row, ...]  # activation and loss derivatives: formula = numbers = value
    simple_locals: tuple[str, ...]  # packed lines: ∂net/∂w = input = value, ∂net/∂h = weight = value
    deltas: tuple[Row, ...]
    gradients: tuple[Row, ...]
    brief: bool = False  # computed as the first sample is: only its loss and gradients are written


@dataclass(frozen=True)
class Example:
    parameters: tuple[str, ...]  # packed LaTeX lines: the starting values
    learning_rate: str
    samples: tuple[SampleView, ...]
    totals: tuple[Row, ...]  # over the data set, when it has more than one sample
    loss: str  # the data-set loss
    updates: tuple[tuple[str, str, str, str, str], ...]  # (θ, old, ∂L/∂θ, step = ∂L/∂θ × α, new)
    gradient_values: dict  # parameter -> formatted data-set gradient
    partial: bool = False  # per sample, only the gradients of some parameters (one per family) are written


def has_numbers(d: Derivation) -> bool:
    """Whether the spec gives a value for every parameter and a data set to evaluate on."""
    spec = d.spec
    return bool(spec.data) and set(dict(spec.values)) >= set(d.parameters)


def _numbered(lhs: str, expr, value: float, sym, num) -> tuple[Row, ...]:
    """lhs = formula = the formula with numbers = value; a lone name is not written twice (δ = 0.19)."""
    shown = [sym.doprint(expr)] if expr.is_Atom else [terms(expr, sym), terms(expr, num)]
    return chain_rows(lhs, [*shown, number(value)])


def _sample(d: Derivation, s, index: int, names: dict, printer, sym, written) -> SampleView:
    """One sample's numbers; with `written` (a big network's parameters derived in full) only
    their gradients, and after the first sample only the loss and those gradients."""
    spec = d.spec
    at = dict(s.values) | {delta_symbol(k).name: v for k, v in s.deltas.items()}
    num = numeric_printer(at, names)
    given = pack([f"{printer.name(k)} = {number(s.values[k])}" for k in (*spec.inputs, *spec.targets)])
    grads = tuple(row for p, uses in d.gradient_terms if written is None or p in written
                  for row in _numbered(latex_factor(Factor(d.loss, p), printer), times_delta(d, uses),
                                       s.gradients[p], sym, num))
    if written is not None and index > 1:
        return SampleView(index, given, chain_rows(printer.name(d.loss), [number(s.values[d.loss])]), (), (), (),
                          grads, brief=True)
    forward = []
    for eq in d.equations:
        shown = forward_pieces(d, eq, sym)
        numeric = [terms(e, num) for e in readable(eq) if not e.is_Atom]
        forward += chain_rows(printer.name(eq.name), [*shown, *numeric, number(s.values[eq.name])])
    locals_, simple = [], []
    leaves = set(spec.inputs) | set(spec.targets)
    for e in d.edges:
        if e.src in leaves:
            continue  # ∂net/∂input and ∂L/∂target: never on a path from a parameter
        f = latex_factor(Factor(e.dst, e.src), printer)
        value = number(s.partials[(e.dst, e.src)])
        if e.display.is_Atom:
            if written is not None and e.src not in written:
                continue  # only the ∂z/∂w of the parameters whose gradients are written out
            pieces = [sym.doprint(e.display)] if not e.display.is_Number else []
            simple.append(" = ".join([f, *pieces, value]))
        else:
            locals_ += chain_rows(f, [sym.doprint(e.display), num.doprint(e.display), value])
    deltas = tuple(row for dl in d.deltas if not dl.is_loss
                   for row in _numbered(printer.name(delta_symbol(dl.node).name), times_delta(d, dl.terms),
                                        s.deltas[dl.node], sym, num))
    return SampleView(index, given, tuple(forward), tuple(locals_), pack(simple), deltas, grads)


def _total(lhs: str, per_sample, scale: sp.Rational, total: float, penalty=None) -> tuple[Row, ...]:
    """lhs = scale·(v1 + v2 + ...) [+ the L2 penalty's part] = total, the values printed in place."""
    slots = [sp.Symbol(f"#{k}") for k in range(len(per_sample))]
    expr = sp.Add(*slots, evaluate=False) if len(slots) > 1 else slots[0]
    if scale != 1:
        expr = sp.Mul(scale, expr, evaluate=False)
    values = dict(zip((s.name for s in slots), per_sample))
    if penalty is not None:
        expr = sp.Add(expr, sp.Symbol("#penalty"), evaluate=False)
        values["#penalty"] = penalty
    num = numeric_printer(values)
    return chain_rows(lhs, [terms(expr, num), number(total)])


def worked_example(d: Derivation, names=None, shown=None) -> Example | None:
    """The worked example at the spec's [values] over its [data]; None when the spec has no numbers.

    Each sample's gradients (and their sums over the data set) are written for the parameters
    `shown`, all of them by default; the update table lists every parameter.
    """
    if not has_numbers(d):
        return None
    shown = set(d.parameters if shown is None else shown)
    numbers = evaluate(d)
    spec = d.spec
    names = dict(spec.latex) if names is None else dict(names)
    printer = LatexPrinter(names)
    sym = symbolic_printer(names)
    partial = shown != set(d.parameters)
    samples = tuple(_sample(d, s, i + 1, names, printer, sym, shown if partial else None)
                    for i, s in enumerate(numbers.samples))
    totals: tuple[Row, ...] = ()
    start = dict(spec.values)
    lam, penalized = spec.loss.l2, spec.penalized
    if len(samples) > 1 or penalized:  # over the data set; with L2, + (λ/2)Σw² and each weight's λ·w
        scale = sp.Rational(1, len(samples)) if numbers.scale != 1 else sp.Integer(1)
        totals = _total(printer.name(d.loss), [s.values[d.loss] for s in numbers.samples], scale, numbers.loss,
                        lam / 2 * sum(start[w] ** 2 for w in penalized) if penalized else None)
        for p in (p for p in d.parameters if p in shown):
            totals += _total(latex_factor(Factor(d.loss, p), printer),
                             [s.gradients[p] for s in numbers.samples], scale, numbers.gradients[p],
                             lam * start[p] if p in penalized else None)
    lr = numbers.learning_rate
    updates = tuple((printer.name(p), number(start[p]), number(numbers.gradients[p]),
                     number(lr * numbers.gradients[p]), number(numbers.updated[p])) for p in d.parameters)
    return Example(
        pack([f"{printer.name(p)} = {number(start[p])}" for p in d.parameters]), number(lr), samples,
        totals, number(numbers.loss), updates, {p: number(numbers.gradients[p]) for p in d.parameters},
        partial)
