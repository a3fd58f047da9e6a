"""Scalar code: one line per net sum and activation, per error signal and per gradient.

Arrays run over the N samples; each δ is computed once, from the loss backwards
(δ_v = Σ ∂c/∂v · δ_c over v's consumers c), with SymPy's `cse` sharing common
subexpressions; each gradient is its local partials times the δ they multiply, summed over
samples (`h1 @ delta_net_o1`).  Used for networks that are not wide dense stacks, where the
code reads like the derivation line by line.
"""

from __future__ import annotations

import sympy as sp

from ..core.derivation import delta_symbol
from .lines import Line, join, term_text

__all__ = ["backward_lines", "forward_lines", "gradient_lines"]


def forward_lines(b) -> list[Line]:
    """Every net sum and activation, in equation order."""
    return [Line(b.py[eq.name], join(eq.op.numpy_terms(eq, b.py, b.code), 8 + len(b.py[eq.name]) + 3))
            for eq in b.d.equations[:-1]]


def backward_lines(b) -> list[Line]:
    """δ for every node from the loss backwards, each once; activation slopes named."""
    d, loss = b.d, b.d.loss
    slope_lines: dict[str, Line] = {}  # name -> the line computing an activation's slope
    targets, exprs, comments = [], [], []
    fused = b.fused
    for dl in d.deltas:
        if dl.is_loss or dl.node in fused:
            continue
        if fused and all(e.dst in fused for e in dl.terms):  # an output's net: the derivation's own δ
            targets.append(delta_symbol(dl.node))
            exprs.append(sp.factor_terms(d.delta(dl.node)))
            comments.append(f"δ_{dl.node} = ∂{loss}/∂{dl.node} = {b.rule(dl.terms)}, with each δ_o written out "
                            "(1/o cancels)")
            continue
        terms = []
        for e in dl.terms:
            eq = d.equation(e.dst)
            slope = eq.op.numpy_slope(eq, b.py)
            if slope is not None:
                name = b.namer.claim(f"∂ {e.dst}/{e.src}", slope[0])
                b.py[name] = name
                factor = sp.Symbol(name)
                slope_lines[name] = Line(name, slope[1], f"∂{e.dst}/∂{e.src} = {term_text(e.display, '')}")
            elif e.dst == loss:
                factor = sp.factor_terms(e.partial)  # 2*(o1 - t1): one subtraction, one product
            else:
                factor = e.partial
            terms.append(factor if e.dst == loss else sp.Mul(factor, delta_symbol(e.dst), evaluate=False))
        targets.append(delta_symbol(dl.node))
        exprs.append(sp.Add(*terms, evaluate=False) if len(terms) > 1 else terms[0])
        comments.append(f"δ_{dl.node} = ∂{loss}/∂{dl.node} = {b.rule(dl.terms)}")
    shared, reduced = sp.cse(exprs, symbols=_fresh(b), order="none")
    temps_used = {s for s, _ in shared}
    # where cse found nothing to share, keep the terms in the derivation's order
    reduced = [r if r.free_symbols & temps_used else e for e, r in zip(exprs, reduced)]
    return _place(shared, list(zip(targets, reduced, comments)), slope_lines, b)


def gradient_lines(b) -> list[Line]:
    """Each ∂L/∂θ as its local partials times δ, summed over the samples."""
    lines = []
    for p, uses in b.d.gradient_terms:
        parts = []
        for e in uses:
            delta = b.py[delta_symbol(e.dst).name]
            # `a @ b` of two 1-D arrays is their dot product (np.dot can be far slower: it
            # starts BLAS threads for a sum that memory bandwidth limits anyway)
            partial = b.code(e.partial) if e.partial.is_Symbol else f"({b.code(e.partial)})"
            parts.append(f"np.sum({delta})" if e.partial == 1 else f"{partial} @ {delta}")
        total = " + ".join(parts)
        if b.mean:
            total = f"({total}) / {b.n}" if len(parts) > 1 else f"{total} / {b.n}"
        rule = b.rule(uses)
        code, comment = b.penalize(p, f"float({total})",
                                   f"∂{b.d.loss}/∂{p} = {b.average} {f'({rule})' if len(uses) > 1 else rule}")
        lines.append(Line(b.gradient_name(p), code, comment))
    return lines


def _fresh(b):
    """cse's symbol supply: numbered temporaries that the namer has confirmed are free."""
    for s in sp.numbered_symbols("cse"):
        b.py[s.name] = b.namer.claim("cse " + s.name, s.name)
        yield s


def _place(shared, deltas, slope_lines, b) -> list[Line]:
    """Order the backward lines: each temporary and activation slope just before its first use."""
    defs = {s: e for s, e in shared}
    done: set = set()
    lines: list[Line] = []

    def need(expr):
        for s in sorted(expr.free_symbols, key=lambda s: s.name):
            if s in defs and s not in done:
                need(defs[s])
                done.add(s)
                lines.append(Line(b.py[s.name], b.code(defs[s])))
            elif s.name in slope_lines and s.name not in done:
                done.add(s.name)
                lines.append(slope_lines[s.name])

    for target, expr, comment in deltas:
        need(expr)
        indent = 8 + len(b.py[target.name]) + 3
        code = join([b.code(t) for t in expr.args], indent) if isinstance(expr, sp.Add) else b.code(expr)
        lines.append(Line(b.py[target.name], code, comment))
    return lines
