"""The terminal view of a Derivation (autodidax's pp_jaxpr): what `derive show` prints.

>>> import derive
>>> print(pretty(derive.derive(derive.load("examples/mazur.toml")), ["w5"]).splitlines()[3])
  net_h1 = w1·i1 + w2·i2 + b1
"""

from __future__ import annotations

import itertools

import sympy as sp

from ..core.derivation import Chain, Derivation
from ..core.interpret import evaluate
from ..core.naming import delta_name
from ..printing.printers import more_leaves_than, text

__all__ = ["pretty"]

MAX_PATHS_SHOWN = 8  # more than this and the paths are counted, not listed
MAX_PATH_CHARS = 2000  # and no more paths once a parameter's listed paths take this many characters
MAX_RESULT_CHARS = 400  # a longer written-out result is described, not printed


def _factor(expr: sp.Expr) -> str:
    s = text(expr)
    return f"({s})" if isinstance(expr, sp.Add) or s.startswith("-") else s


def _times_delta(d: Derivation, edges) -> str:
    """Σ local partial · δ, leaving out the factors that are 1."""
    terms = [text(f) if c is None else delta_name(c) if f is None else f"{_factor(f)} · {delta_name(c)}"
             for f, c in d.times_delta(edges)]
    return " + ".join(terms) if terms else "0"


def pretty(d: Derivation, params=None) -> str:
    """Every parameter's paths, chain-rule products, local derivatives, δ form and result."""
    spec = d.spec
    params = tuple(params) if params else d.parameters
    for p in params:
        if p not in d.parameters:
            raise KeyError(f"{p!r} is not a parameter; parameters are {', '.join(d.parameters)}")
    out = [f"{spec.name}" + (f": {spec.title}" if spec.title else ""), "", "forward pass"]
    out += [f"  {eq.name} = {eq.op.text(eq, text)}" for eq in d.equations]
    out.append(f"  ({spec.loss.name} is {d.loss_op.description}, per sample)")
    if spec.penalized:
        out.append(f"  (over the data set, plus the L2 penalty (λ/2)·Σ w² over the weights, λ = {spec.loss.l2:g}: "
                   "each weight's gradient gains λ·w)")
    # with --param, only the error signals those parameters' gradients are built from
    needed = {n for p in params for n in d.downstream(p)}
    out += ["", f"error signals δ_v = ∂{d.loss}/∂v, each computed once, from the loss backwards"]
    out += [f"  {delta_name(dl.node)} = {_times_delta(d, dl.terms)}" for dl in d.deltas
            if not dl.is_loss and dl.node in needed]
    numbers = evaluate(d) if spec.values and spec.data and set(dict(spec.values)) >= set(d.parameters) else None
    for p in params:
        count = d.path_count(p)
        out += ["", f"∂{d.loss}/∂{p}: {count} path{'s' if count != 1 else ''} from {p} to {d.loss}"]
        shown, chars = 0, 0
        for path in itertools.islice(d.iter_paths(p), MAX_PATHS_SHOWN):
            if shown and chars > MAX_PATH_CHARS:  # long paths of a deep network: a few are enough
                break
            prod = Chain(d.loss, p, (path,), d).products[0]
            lines = [f"  path {shown + 1}: " + " → ".join(path), "      " + " · ".join(str(f) for f in prod),
                     "    = " + " · ".join(_factor(d.edge(f.num, f.den).display) for f in prod)]
            out += lines
            shown, chars = shown + 1, chars + sum(map(len, lines))
        if count > shown:
            rest = count - shown
            out.append(f"  ... and {rest} more path{'s' if rest != 1 else ''}, one product each")
        elif count > 1:
            out.append(f"  sum over paths: {d.chain(p)}")
        uses = d.uses(p)
        out.append(f"  with error signals: ∂{d.loss}/∂{p} = {_times_delta(d, uses)}")
        result = sp.Add(*[e.partial * d.delta(e.dst) for e in uses])
        written = "" if more_leaves_than(result, MAX_RESULT_CHARS) else text(result)
        if written and len(written) <= MAX_RESULT_CHARS:
            out.append(f"  = {written}")
        else:
            out.append(f"  (too long to write out in forward quantities: see d.delta({uses[0].dst!r}))")
        if p in spec.penalized:
            out.append(f"  over the data set the L2 penalty adds λ·{p}"
                       + (" (included in the value below)" if numbers else ""))
        if numbers:
            out.append(f"  at the spec's values, over {spec.samples} sample{'s' if spec.samples != 1 else ''}:"
                       f" ∂{d.loss}/∂{p} = {numbers.gradients[p]:.9g}")
    return "\n".join(out) + "\n"
