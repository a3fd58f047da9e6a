r"""The explanation document as plain data: every formula printed, every number formatted, no LaTeX layout.

`build(d)` returns a `Document` of strings, numbers, tuples and small dataclasses, which the templates
(templates/explain.*.j2) only lay out: they contain no math and call nothing.  Every expression is
printed by `LatexPrinter` from the derivation's own SymPy objects (edges' `display` forms, δ terms,
equations); nothing here differentiates or simplifies.

>>> import derive
>>> doc = build(derive.derive(derive.load("examples/mazur.toml")))
>>> [p.name for p in doc.params][:3], doc.params[0].n_paths
(['w1', 'w2', 'w3'], 2)
>>> doc.params[0].delta_form
'i_{1} \\, \\delta_{\\mathit{net}_{h1}}'
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, replace
from pathlib import Path

import sympy as sp

from ..check import common_mistakes
from ..check.parse import EquationError
from ..core.derivation import Chain, Derivation, Factor, delta_symbol
from ..core.ops import GROUPS, NEURON_ACTIVATIONS
from ..printing.printers import LatexPrinter, latex_factor, more_leaves_than
from .diagram import (
    CONTEXT_MAX,
    PALETTE,
    Diagram,
    Flow,
    columns_of,
    flow,
    highlight,
    layout,
    path_colors,
    path_edges,
)
from .forms import forward_pieces, times_delta
from .texmath import BUDGET, Row, chain_rows, math_prose, number, pack, symbolic_printer, terms, width
from .worked import Example, worked_example

__all__ = ["GROUP_ABOVE", "MAX_PATHS_LISTED", "Check", "Document", "Member", "Mistake", "ParamSection", "PathView",
           "build"]

MAX_PATHS_LISTED = 4  # more paths than this: the first two are written out, the rest counted
MISTAKE_PATHS = 64  # paths of each parameter searched for the seed Q&A's mistake
WRITTEN_OUT_MAX = 2 * BUDGET  # a fully substituted gradient wider than two lines is not shown
# A network with more parameters than this gets one section per family of parameters alike (the
# weights into one layer, say): one of them derived in full, the others in a table.  196 sections
# of a 4-8-8-8-4 network, each with its own diagram, were 400 pages and 3½ minutes of pdflatex.
GROUP_ABOVE = 64


@dataclass(frozen=True)
class PathView:
    color: str  # palette colour name
    hex: str  # the same colour as RRGGBB, for Markdown
    nodes: str  # LaTeX: w_{1} \to net_{h1} \to ... \to E
    product: str  # LaTeX: the Leibniz product of its local partials


@dataclass(frozen=True)
class Mistake:
    """The seed Q&A's mistake, made concrete for this network (see `_mistake`)."""

    weight: str  # LaTeX of a weight on one of the paths, e.g. w_{7}
    unit: str  # LaTeX of the hidden unit it multiplies, h_{1}
    wrong: tuple[str, ...]  # LaTeX of meaningless factors: ∂w5/∂h1, ∂w7/∂h1
    right: str  # LaTeX of the local partial the weight really is the value of: ∂net_o2/∂h1
    consumers: int  # how many neurons the unit feeds
    n_paths: int


@dataclass(frozen=True)
class Member:
    """A parameter of a family whose derivation is that of the family's worked parameter, by analogy."""

    tex: str
    uses: tuple[str, ...]  # LaTeX of the quantities it enters directly
    n_paths: int
    delta_form: str  # LaTeX of ∂L/∂θ with error signals
    value: str  # at the example, "" without numbers


@dataclass(frozen=True)
class ParamSection:
    """One parameter's story: paths, chain rule, local derivatives, δ form, written out, value."""

    name: str
    tex: str
    label: str  # LaTeX \label / Markdown anchor: letters, digits and '-'
    gradient: str  # LaTeX of ∂L/∂θ
    uses: tuple[str, ...]  # LaTeX of the quantities θ enters directly
    n_paths: int
    paths: tuple[PathView, ...]  # the listed paths (all of them, or the first two)
    diagram: Diagram
    elided: int  # paths not listed (their products are counted, not written)
    locals: tuple[str, ...]  # LaTeX lines of local derivatives, each "factor = value", packed
    notes: tuple[str, ...]  # what the activation and loss derivatives are: text with $…$ math
    result: tuple[Row, ...]  # ∂L/∂θ with error signals: Σ ∂c/∂θ δ_c = ...
    delta_form: str  # LaTeX of the last form of `result` alone: x \delta_{z_h}
    deltas: tuple[str, ...]  # LaTeX of the δ terms the result uses (defined once, in §δ)
    written_out: tuple[Row, ...]  # the result in forward quantities; () when too long to read
    value: str  # the gradient at the spec's values over its data, "" without numbers
    mistake: Mistake | None  # the seed Q&A's mistake, for one parameter of the document
    checks: tuple[Check, ...] = ()  # "check yourself": common wrong forms of this equation
    checks_note: str = ""  # plain text: why there are none, when the checker could not judge them
    family: str = ""  # text with $…$ math: the family this parameter is worked for, "32 weights into $z_1$, …"
    family_paths: str = ""  # how many paths each of the family has: "64 paths each", "8 to 64 paths"
    family_names: str = ""  # LaTeX of the family's first and last names: w_{1}, \ldots, w_{32}
    members: tuple[Member, ...] = ()  # the family's other parameters, in a table after this section
    penalty: str = ""  # LaTeX of what the L2 penalty adds to the data-set gradient, \lambda w_{1}; "" if none


@dataclass(frozen=True)
class Check:
    """A wrong form of a parameter's chain-rule equation and why it is wrong (filled by derive/check.py)."""

    title: str  # plain text: what kind of mistake it is
    wrong: str  # LaTeX of the wrong equation
    rows: tuple[Row, ...]  # the same, broken into aligned rows that fit the page
    why: tuple[str, ...]  # one line per problem derive check finds: text with $…$ math


@dataclass(frozen=True)
class Notation:
    """The document's generic symbols, as LaTeX, so that the templates write no math of their own."""

    gradient: str  # ∂L/∂θ
    delta_def: str  # δ_v = ∂L/∂v
    step: str  # step = ∂L/∂θ × α
    theta: str = r"\theta"  # a parameter in general
    delta: str = r"\delta"  # an error signal in general
    alpha: str = r"\alpha"  # the learning rate
    new: str = r"\text{new } \theta = \text{old} - \text{step}"
    old: str = r"\text{old } \theta"


def _notation(d: Derivation, names: dict) -> Notation:
    """The generic symbols, none of them a name of the network: a weight called alpha makes the
    learning rate η, one called theta makes a parameter in general ϑ."""
    printer = LatexPrinter(names)
    spec = d.spec
    taken = {printer.name(n) for n in (*spec.inputs, *spec.targets, *d.parameters, *(eq.name for eq in d.equations))}
    alpha = next(a for a in (r"\alpha", r"\eta", r"\mathrm{lr}") if a not in taken)
    theta = next(t for t in (r"\theta", r"\vartheta", r"\mathrm{p}") if t not in taken)
    generic = LatexPrinter({**names, "θ": theta, "v": "v"})
    grad = latex_factor(Factor(d.loss, "θ"), generic)
    return Notation(grad, f"{generic.name('δ_v')} = {latex_factor(Factor(d.loss, 'v'), generic)}",
                    rf"\text{{step}} = {grad} \times {alpha}", theta, alpha=alpha,
                    new=rf"\text{{new }} {theta} = \text{{old}} - \text{{step}}", old=rf"\text{{old }} {theta}")


@dataclass(frozen=True)
class Document:
    name: str
    title: str  # plain text
    source: str  # the spec's file name (without its directory, so output does not depend on the cwd)
    palette: tuple[tuple[str, str], ...]  # (colour name, hex)
    loss: str  # LaTeX of the loss name
    loss_description: str  # plain text
    reduction: str  # "sum" or "mean": how samples combine
    diagram: Diagram
    legend: tuple[tuple[str, tuple[str, ...]], ...]  # (plain-text meaning, LaTeX names)
    forward: tuple[Row, ...]
    deltas: tuple[Row, ...]  # δ_v = ∂L/∂v = Σ local derivative · δ_consumer, from the loss backwards
    params: tuple[ParamSection, ...]
    overview: tuple[tuple[str, str, int, str, str], ...]  # (tex, label, paths, δ form, value)
    updates: tuple[tuple[Row, Row], ...]  # per parameter: step = ∂L/∂θ × α, new = old − step
    learning_rate: str
    example: Example | None
    notation: Notation
    penalty: str = ""  # LaTeX of the L2 penalty, \frac{\lambda}{2} \sum w^2 with λ's value; "" without
    penalty_gradient: str = ""  # LaTeX of what it adds to a weight's gradient: \lambda w
    flow: Flow | None = None  # the diagram for Mermaid (Markdown)
    # sections by family (a big network): (LaTeX of the family's names, label, how many, paths each)
    groups: tuple[tuple[str, str, int, str], ...] = ()

    @property
    def update_rule(self) -> tuple[Row, Row]:
        """step_θ = ∂L/∂θ × α and θ_new = θ − step_θ, for a network with too many parameters to list."""
        n = self.notation
        return (Row(rf"\text{{step}}_{{{n.theta}}}", rf"= {n.gradient} \times {n.alpha}"),
                Row(rf"{n.theta}^{{\text{{new}}}}", rf"= {n.theta} - \text{{step}}_{{{n.theta}}}"))


def _mistake(d: Derivation, printer) -> tuple[str, Mistake] | None:
    """The parameter whose section carries the seed Q&A's note, and the note's pieces.

    Prefers a parameter with several paths that pass through a hidden unit feeding several
    neurons (w1 of the 2-2-2 network: h1 feeds o1 and o2); else any path through a hidden unit.
    """
    best = None
    for p in d.parameters:
        count = d.path_count(p)
        for path in itertools.islice(d.iter_paths(p), MISTAKE_PATHS):
            for a, b in itertools.pairwise(path):
                e = d.edge(b, a)
                if e.kind != "source" or a in d.spec.inputs:
                    continue
                weight = next((w for w, src in d.equation(b).terms if src == a), None)
                if weight is None:
                    continue
                fans = sum(1 for c in d.consumers(a) if c.kind == "source")
                score = (count > 1 and fans > 1, count > 1)
                if best is None or score > best[0]:
                    # the weights of every edge leaving the unit: the seed's ∂w5/∂h1 and ∂w7/∂h1
                    others = [w for c in d.consumers(a) if c.kind == "source"
                              for w, src in d.equation(c.dst).terms if src == a and w != weight]
                    wrong = tuple(latex_factor(Factor(w, a), printer) for w in [weight, *others][:2])
                    best = (score, p, Mistake(printer.name(weight), printer.name(a), wrong,
                                              latex_factor(Factor(b, a), printer), fans, count))
                break
    return None if best is None else (best[1], best[2])


def _note(d: Derivation, op, printer, output: str | None) -> str:
    """An op's derivative in words for the document, a loss's written with the network's own names:
    its loss, the output `output` and that output's target."""
    text = op.derivative_tex
    if "§" in text and output is not None:
        outputs = dict(d.spec.loss.outputs)
        k = len(outputs)
        coefficient = {1: "-2", 2: "-"}.get(k, rf"-\tfrac{{2}}{{{k}}}")  # −2/K, simplified
        mean = f" and the mean over the ${k}$ outputs divides by ${k}$" if k > 1 else ""
        for mark, tex in (("§L", printer.name(d.loss)), ("§y", printer.name(output)),
                          ("§t", printer.name(outputs[output])), ("§K", str(k)), ("§M", mean), ("§c", coefficient)):
            text = text.replace(mark, tex)
        if len(outputs) > 1:  # one parenthesis, not two in a row
            aside = f"for ${printer.name(output)}$, and the same for every output"
            text = text[:-1] + f"; {aside})" if text.endswith(")") else text + f" ({aside})"
    return text


def _param_section(d: Derivation, p: str, diagram: Diagram, printer, sym, value: str,
                   mistake) -> ParamSection:
    count = d.path_count(p)  # the paths are counted; only the listed ones are ever enumerated
    listed = count if count <= MAX_PATHS_LISTED else 2
    chain = Chain(d.loss, p, tuple(itertools.islice(d.iter_paths(p), listed)), d)
    views = tuple(PathView(c, dict(PALETTE)[c], r" \to ".join(printer.name(n) for n in path),
                           r" \, ".join(latex_factor(f, printer) for f in prod))
                  for c, path, prod in zip(path_colors(count), chain.paths, chain.products))
    grad = latex_factor(Factor(d.loss, p), printer)
    edges = {e.factor: e for e in path_edges(d, p)}  # each local partial on a path once
    if listed < count:  # the factors of the products written out, not those of every path
        edges = {f: edges[f] for f in dict.fromkeys(f for prod in chain.products for f in prod)}
    local_items = [f"{latex_factor(f, printer)} = {sym.doprint(e.display)}" for f, e in edges.items()]
    output = next((e.src for e in edges.values() if e.dst == d.loss), None)  # one output p reaches
    notes = tuple(filter(None, dict.fromkeys(_note(d, d.equation(e.dst).op, printer, output) for e in edges.values())))
    uses = d.uses(p)
    leibniz_delta = [("+ " if k else "") + f"{latex_factor(e.factor, printer)} \\, {printer.name(delta_symbol(e.dst).name)}"
                     for k, e in enumerate(uses)]  # terms: a shared parameter's long sum breaks between them
    result = chain_rows(grad, [leibniz_delta, terms(times_delta(d, uses), sym)])
    delta_form = sym.doprint(times_delta(d, uses))
    written = sp.Add(*[e.partial * d.delta(e.dst) for e in uses])
    written_rows = ()
    if not more_leaves_than(written, WRITTEN_OUT_MAX):  # printing a huge sum only to drop it is slow
        out_terms = terms(written, symbolic_printer(printer.names, order="lex"))
        if max(width(t) for t in out_terms) <= BUDGET and width(" ".join(out_terms)) <= WRITTEN_OUT_MAX:
            written_rows = chain_rows(grad, [out_terms])
    return ParamSection(
        p, printer.name(p), "param-" + "".join(c if c.isalnum() else "-" for c in p), grad,
        tuple(printer.name(e.dst) for e in uses), count, views,
        highlight(diagram, d, p, context=len(d.spec.neurons) <= CONTEXT_MAX),
        count - listed, pack(local_items), notes, result, delta_form,
        tuple(dict.fromkeys(printer.name(delta_symbol(e.dst).name) for e in uses if e.dst != d.loss)),
        written_rows, value, mistake[1] if mistake and mistake[0] == p else None,
        *(_checks(d, p) if mistake and mistake[0] == p else ((), "")),
        penalty=rf"\lambda {printer.name(p)}" if p in d.spec.penalized else "")


def _families(d: Derivation) -> list[list[str]]:
    """The parameters in families alike, in order of first member: the weights from one column of
    the diagram into another, the biases of one column's neurons (a shared parameter with the
    others that enter the same columns)."""
    depth = columns_of(d.spec)
    biases = {n.bias for n in d.spec.neurons if n.bias}
    families: dict[tuple, list[str]] = {}
    for p in d.parameters:
        uses = d.uses(p)
        into = tuple(sorted({depth[e.dst] for e in uses}))
        sources = tuple(sorted({depth[src] for e in uses for w, src in d.equation(e.dst).terms if w == p}))
        families.setdefault((p in biases, into, sources), []).append(p)
    return list(families.values())


def _listing(names: list[str]) -> str:
    """Names as $…$ math, the middle elided past three: $z_1$, $z_2$, …, $z_8$."""
    shown = names if len(names) <= 3 else [names[0], names[1], r"\ldots", names[-1]]
    return ", ".join(f"${n}$" for n in shown)


def _member(d: Derivation, p: str, printer, sym, value: str) -> Member:
    uses = d.uses(p)
    return Member(printer.name(p), tuple(printer.name(e.dst) for e in uses), d.path_count(p),
                  sym.doprint(times_delta(d, uses)), value)


def _family(d: Derivation, members: list[str], worked: ParamSection, printer, sym, values) -> ParamSection:
    """`worked` as the section of its family, the rest of `members` in the table after it."""
    biases = {n.bias for n in d.spec.neurons if n.bias}
    into = list(dict.fromkeys(printer.name(e.dst) for p in members for e in d.uses(p)))
    noun = "biases" if members[0] in biases else "weights"
    others = tuple(_member(d, p, printer, sym, values.get(p, "")) for p in members if p != worked.name)
    counts = sorted({worked.n_paths, *(m.n_paths for m in others)})
    paths = f"{counts[0]} path{'s' if counts[0] > 1 else ''} each" if len(counts) == 1 else f"{counts[0]} to {counts[-1]} paths"
    ends = rf"{printer.name(members[0])}, \ldots, {printer.name(members[-1])}" if len(members) > 2 else \
        ", ".join(printer.name(p) for p in members)
    return replace(worked, family=f"{len(members)} {noun} into {_listing(into)}", family_paths=paths,
                   family_names=ends, members=others)


def _checks(d: Derivation, p: str) -> tuple[tuple[Check, ...], str]:
    """"Check yourself": derive check's common wrong forms of p's equation, each with its verdict;
    or none and why, when the checker cannot judge this equation (too many paths, say)."""
    try:
        mistakes = common_mistakes(d, p)
    except EquationError as e:
        return (), (f"The common wrong forms of this equation are left out: with {d.path_count(p)} paths it is "
                    f"too long for derive check to judge ({e.message}).")
    printer = LatexPrinter(dict(d.spec.latex))
    names = {n: printer.name(n) for n in (*d.spec.inputs, *d.spec.targets, *d.parameters,
                                          *(eq.name for eq in d.equations))}
    names |= {shown: printer.name(n) for n, shown in d.spec.latex if shown not in names}  # as the checker echoes
    out = []
    for m in mistakes:
        lhs, rhs = m.equation.split(" = ", 1)
        pieces = rhs.split(" + ")  # factors hold no " + ": each piece is one path's product
        rows = []  # one product per row, as the chain rule above is written; a long one breaks between factors
        room = BUDGET - width(lhs) - 4
        for k, piece in enumerate(pieces):
            lines, chunk = [], []
            for f in piece.split(r" \, "):
                if chunk and width(r" \, ".join([*chunk, f])) > room:
                    lines.append(r" \, ".join(chunk))
                    chunk = [r"\qquad \cdot"]
                chunk.append(f)
            lines.append(r" \, ".join(chunk))
            rows += [(r"\quad + " if k else "") + lines[0], *lines[1:]]
        rows = (Row(lhs, "= " + rows[0]), *(Row("", r) for r in rows[1:]))
        problems = m.verdict.problems
        several = len({p.term for p in problems}) > 1
        why = tuple((f"in term {q.term}: " if several and q.term else "") + math_prose(q.message, names)
                    for q in problems)  # every problem, as `derive check` counts them
        out.append(Check(m.title, m.equation, rows, why))
    return tuple(out), ""


def _legend(d: Derivation, printer, diagram: Diagram) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """What the diagram shows, as (plain-text meaning, LaTeX names)."""
    spec = d.spec
    names = printer.name
    out = [("inputs", tuple(names(i) for i in spec.inputs))]
    for act in dict.fromkeys(n.activation for n in spec.neurons):
        label = getattr(NEURON_ACTIVATIONS[act], "title", "") or act  # ReLU, LeakyReLU: not relu, leaky_relu
        what = ("identity neurons, whose output is their weighted sum" if NEURON_ACTIVATIONS[act].unit_slope else
                f"{label} neurons, one group: each output is computed from every net of the group, so their nets "
                "and outputs are drawn apart, every net joined to every output" if act in GROUPS else
                f"{label} neurons, each drawn as its weighted sum beside its output")
        out.append((what, tuple(names(n.name) for n in spec.neurons if n.activation == act)))
    biases = {n.bias for n in spec.neurons if n.bias}
    weights = [e for e in diagram.edges if e.param and e.label]
    drawn = sum(1 for e in weights if not e.crowded)
    where = ("written on their edges" if drawn == len(weights) else
             "written on their edges where there is room (the forward pass says which edge each one is on)" if drawn
             else "too many to write on the edges (the forward pass says which edge each one is on)")
    out.append((f"weights, {where}", tuple(names(p) for p in d.parameters if p not in biases)))
    if biases:
        out.append(("biases, drawn at the neurons that add them",
                    tuple(names(p) for p in d.parameters if p in biases)))
    into_loss = [e for e in diagram.edges if e.key[1] == d.loss and e.label]
    out.append(("targets, written on the edges into the loss" if all(not e.crowded for e in into_loss)
                else "targets, one for each output", tuple(names(t) for t in spec.targets)))
    out.append((f"the loss, {d.loss_op.description}", (names(d.loss),)))
    return tuple(out)


def build(d: Derivation, params=None, numbers: bool = True) -> Document:
    """The document model of `d`: all of it, or only the sections of `params`."""
    spec = d.spec
    names = dict(spec.latex)
    printer = LatexPrinter(names)
    sym = symbolic_printer(names)
    chosen = tuple(dict.fromkeys(params)) if params else d.parameters  # -p w5 -p w5: one section
    for p in chosen:
        if p not in d.parameters:
            raise KeyError(f"{p!r} is not a parameter; parameters are {', '.join(d.parameters)}")
    mistake = _mistake(d, printer)
    families = None if params or len(d.parameters) <= GROUP_ABOVE else [
        (mistake[0] if mistake and mistake[0] in members else members[0], members) for members in _families(d)]
    example = worked_example(d, names, shown=families and [p for p, _ in families]) if numbers else None
    values = example.gradient_values if example else {}
    diagram = layout(d, names)
    forward = tuple(row for eq in d.equations
                    for row in chain_rows(printer.name(eq.name), forward_pieces(d, eq, sym)))
    deltas = tuple(
        row for dl in d.deltas if not dl.is_loss
        for row in chain_rows(rf"{printer.name(delta_symbol(dl.node).name)} = "
                              rf"{latex_factor(Factor(d.loss, dl.node), printer)}",
                              [terms(times_delta(d, dl.terms), sym)]))
    if families is None:
        sections = tuple(_param_section(d, p, diagram, printer, sym, values.get(p, ""), mistake) for p in chosen)
    else:  # one section per family, worked for its first parameter (or the one with the seed's mistake)
        sections = ()
        for p, members in families:
            section = _param_section(d, p, diagram, printer, sym, values.get(p, ""), mistake)
            sections += (_family(d, members, section, printer, sym, values) if len(members) > 1 else section,)
    overview = tuple((s.tex, s.label, s.n_paths, s.delta_form, s.value) for s in sections)
    groups = ()
    if any(s.members for s in sections):
        groups = tuple((s.family_names or s.tex, s.label, 1 + len(s.members),
                        s.family_paths.split(" path")[0] if s.family_paths else str(s.n_paths)) for s in sections)
    notation = _notation(d, names)
    updates = tuple(
        (Row(rf"\text{{step}}_{{{printer.name(p)}}}",
             rf"= {latex_factor(Factor(d.loss, p), printer)} \times {notation.alpha}"),
         Row(rf"{printer.name(p)}^{{\text{{new}}}}",
             rf"= {printer.name(p)} - \text{{step}}_{{{printer.name(p)}}}"))
        for p in d.parameters)
    return Document(
        spec.name, spec.title or spec.name, Path(spec.source).name, PALETTE, printer.name(d.loss),
        d.loss_op.description, d.loss_op.reduction, diagram,
        _legend(d, printer, diagram), forward, deltas, sections, overview, updates,
        number(spec.train.learning_rate), example, notation,
        *((rf"\frac{{\lambda}}{{2}} \sum w^{{2}}, \ \lambda = {number(spec.loss.l2)}", r"\lambda w")
          if spec.penalized else ("", "")), flow(diagram, printer), groups)
