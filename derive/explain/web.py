r"""The derivation as one self-contained web page: the diagram as SVG, every formula as MathML, the numbers
from the interpreter, and a little script that lights a parameter's paths and steps the backward pass.

`page(d)` returns a `Page` of plain data that templates/explain.html.j2 lays out (jinja2 with
autoescape: every name and title is escaped there; the MathML strings come from
`derive.printing.mathml`, which writes only MathML).  The diagram is `diagram.layout`'s, the one
the PDF draws, placed in pixels; each drawn element that stands for an edge of the derivation
carries its `src->dst` name, so the script lights exactly the edges of a path.

>>> import derive
>>> p = page(derive.derive(derive.load("examples/qa_chain.toml")))
>>> sorted(e.edge for e in p.svg.edges)[:4], sorted(c.edge for c in p.svg.chips)
(['b->z_h', 'b->z_y', 'h->z_y', 'x->z_h'], ['w1->z_h', 'w2->z_y', 'y->L'])
>>> p.sections[0].value
'0.0120220085'
"""

from __future__ import annotations

import itertools
import json
import math
import re
from dataclasses import dataclass

from markupsafe import Markup, escape

from ..core.derivation import HTML_VIEW, Derivation, Factor, delta_symbol
from ..core.interpret import evaluate
from ..core.ops import GROUPS
from ..printing.mathml import mathml, mathml_prose
from ..printing.printers import LatexPrinter, latex_factor
from ..printing.templates import environment
from .diagram import PALETTE, path_edges
from .document import Document, build
from .forms import times_delta
from .texmath import DIGITS, numeric_printer, symbolic_printer, terms

__all__ = ["DASHES", "MAX_STROKES", "MAX_STYLED", "STYLES", "Page", "page", "render_page"]

SCALE = 64  # px per cm of the PDF's layout
MARGIN = 36  # px around the drawing
BOX_H = 32  # px: the height of a node's box
GAP = 16  # px between a neuron's net box and its output box: the activation's arrow
# A parameter's paths are each drawn, listed and summed in a style of their own: one of eight dash
# patterns and one of the palette's six colours.  The first eight paths differ in dash (so without
# colour too), the first six also in colour (the PDF's); past eight, paths differ in one or the other.
DASHES = ("none", "9 4", "2 3", "12 3 2 3", "5 5", "1 5", "12 3 2 3 2 3", "16 3 5 3")
STYLES = tuple((f"path{i + 1}", PALETTE[(i // len(DASHES) + i % len(DASHES)) % len(PALETTE)][1], DASHES[i % len(DASHES)])
               for i in range(len(PALETTE) * len(DASHES)))
MAX_STYLED = len(STYLES)  # more paths than this: all drawn in one style, the first MAX_STYLED listed
MAX_STROKES = 8  # an edge on more of the drawn paths than this is one "shared" stroke, not a band of strokes
_GREEK = {"alpha": "α", "beta": "β", "gamma": "γ", "delta": "δ", "epsilon": "ε", "eta": "η", "theta": "θ",
          "lambda": "λ", "mu": "μ", "pi": "π", "rho": "ρ", "sigma": "σ", "tau": "τ", "phi": "φ", "psi": "ψ",
          "omega": "ω", "Delta": "Δ", "Sigma": "Σ", "Omega": "Ω", "hat": "", "bar": "", "tilde": ""}


def plain(x: float) -> str:
    """A number as the page prints it: DIGITS significant digits, an exponent as ×10⁻ⁿ."""
    s = f"{x:.{DIGITS}g}"
    if "e" in s:
        mantissa, exp = s.split("e")
        return f"{mantissa}×10^{int(exp)}"
    return "0" if s == "-0" else s


def label(tex: str, plain_name: str) -> tuple[str, str, str]:
    r"""A typeset name as SVG text pieces (head, subscript, superscript): w_{1} as ('w', '1', ''),
    \mathit{net}_{h1} as ('net', 'h1', ''); the spec's own name when the LaTeX is more than that.

    >>> label(r"\mathit{net}_{h1}", "net_h1"), label("y'", "yp"), label(r"\beta", "beta")
    (('net', 'h1', ''), ('y′', '', ''), ('β', '', ''))
    """
    s = re.sub(r"\\(?:math(?:it|rm|bf)|text|operatorname)\{([^{}]*)\}", r"\1", tex)
    s = re.sub(r"\\([A-Za-z]+)", lambda m: _GREEK.get(m.group(1), m.group(0)), s).replace("'", "′")
    s = s.replace("{", "").replace("}", "") if "_" not in s and "^" not in s else s
    m = re.fullmatch(r"([^_^{}\\]+)(?:_\{([^{}\\]+)\}|_([^{}\\]))?(?:\^\{([^{}\\]+)\}|\^([^{}\\]))?", s.strip())
    if not m:
        return plain_name, "", ""
    return m.group(1), m.group(2) or m.group(3) or "", m.group(4) or m.group(5) or ""


def _text_width(parts: tuple[str, str, str]) -> float:
    return 8.2 * len(parts[0]) + 6.2 * (len(parts[1]) + len(parts[2]))


# -- the diagram, in pixels --------------------------------------------------------------------

@dataclass(frozen=True)
class Box:
    node: str  # the derivation's node (or the parameter, for a bias)
    kind: str  # "input", "net", "out", "loss", "bias"
    x: float  # left
    y: float  # top
    w: float
    h: float
    text: tuple[str, str, str]  # label pieces
    param: str = ""  # a bias's parameter: the box is its control

    @property
    def cx(self) -> float:
        return self.x + self.w / 2

    @property
    def cy(self) -> float:
        return self.y + self.h / 2


@dataclass(frozen=True)
class Chip:
    """A weight (or a target) written on its edge: the drawn element of the edge weight → net."""

    edge: str
    x: float  # centre
    y: float
    w: float
    text: tuple[str, str, str]
    param: str  # "" for a target
    carrier: str  # the edge the label sits on: lit faintly with it, to show where the weight acts
    crowded: bool  # drawn only when lit or hovered: too many at one node to write them all


@dataclass(frozen=True)
class SvgEdge:
    edge: str  # "src->dst", the derivation's node names
    kind: str  # the derivation edge's kind
    path: str  # SVG path data
    head: str  # SVG polygon points of the arrow head ("" for none)
    vertical: bool  # runs more up-down than left-right: parallel strokes are shifted sideways


@dataclass(frozen=True)
class Svg:
    width: int
    height: int
    boxes: tuple[Box, ...]
    edges: tuple[SvgEdge, ...]
    chips: tuple[Chip, ...]
    top: int = 0  # the viewBox's top: below 0 when a skip edge's arc rises above the boxes

    @property
    def view_height(self) -> int:
        return self.height - self.top


def _f(v: float) -> str:
    return f"{v:.1f}".removesuffix(".0")


def _head(tip: tuple[float, float], frm: tuple[float, float]) -> tuple[str, tuple[float, float]]:
    """An arrow head at `tip` pointing away from `frm`, and where the line should stop."""
    dx, dy = tip[0] - frm[0], tip[1] - frm[1]
    n = math.hypot(dx, dy) or 1.0
    ux, uy = dx / n, dy / n
    base = (tip[0] - 7 * ux, tip[1] - 7 * uy)
    pts = [tip, (base[0] - 3.5 * uy, base[1] + 3.5 * ux), (base[0] + 3.5 * uy, base[1] - 3.5 * ux)]
    return " ".join(f"{_f(x)},{_f(y)}" for x, y in pts), base


def _shift(anchor: str) -> float:
    m = re.search(r"yshift=(-?[\d.]+)cm", anchor)
    return -float(m.group(1)) * SCALE if m else 0.0  # TikZ's y points up, SVG's down


def svg(d: Derivation, doc: Document) -> Svg:
    """The document's diagram (the PDF's layout) in pixels, one drawn element per derivation edge."""
    spec = d.spec
    diagram = doc.diagram
    softmax = {n.name for n in spec.neurons if n.activation in GROUPS}
    # the equation an edge into a drawn box feeds: a neuron's box takes its inputs into its net (a
    # softmax output is a box of its own, fed by the group's nets)
    net_of = {n.name: n.net for n in spec.neurons if n.name not in softmax} | {n.net: n.net for n in spec.neurons}
    xs = [float(n.x) * SCALE for n in diagram.nodes]
    ys = [-float(n.y) * SCALE for n in diagram.nodes]
    x0, y0 = min(xs) - MARGIN - 60, min(ys) - MARGIN - BOX_H
    boxes: list[Box] = []
    right: dict[str, Box] = {}  # TikZ node id -> the box an edge leaves from
    left: dict[str, Box] = {}  # TikZ node id -> the box an edge enters
    for n in diagram.nodes:
        cx, cy = float(n.x) * SCALE - x0, -float(n.y) * SCALE - y0
        if n.kind == "neuron" and n.net:  # net box, the activation's arrow, output box
            neuron = next(m for m in spec.neurons if m.name == n.name)
            net_t, out_t = label(n.net, neuron.net), label(n.out, n.name)
            wn, wo = max(44.0, _text_width(net_t) + 14), max(34.0, _text_width(out_t) + 14)
            start = cx - (wn + GAP + wo) / 2
            a = Box(neuron.net, "net", start, cy - BOX_H / 2, wn, BOX_H, net_t)
            b = Box(n.name, "out", start + wn + GAP, cy - BOX_H / 2, wo, BOX_H, out_t)
            boxes += [a, b]
            left[n.id], right[n.id] = a, b
            continue
        t = label(n.out, n.name)
        kind = {"neuron": "out", "input": "input", "loss": "loss", "bias": "bias"}[n.kind]
        w = max(30.0 if n.kind == "bias" else 38.0, _text_width(t) + 14)
        h = 22.0 if n.kind == "bias" else BOX_H
        box = Box(n.name, kind, cx - w / 2, cy - h / 2, w, h, t, n.name if n.kind == "bias" else "")
        boxes.append(box)
        left[n.id] = right[n.id] = box
    edges: list[SvgEdge] = []
    chips: list[Chip] = []
    highest = math.inf  # the least y any arc reaches
    for e in diagram.edges:
        src, dst = e.key
        a, b = right[e.src_node], left[e.dst_node]
        if e.label == "" and e.param:  # a bias: from its label down to the box's top left corner
            p0, p1 = (a.cx, a.y + a.h), (b.x + 6, b.y)
            bent = None
        else:
            p0, p1 = (a.x + a.w, a.cy + _shift(e.src)), (b.x, b.cy + _shift(e.dst))
            bent = e.bend != ""
        head, stop = _head(p1, p0)
        if bent:  # TikZ's bend left=60: leave 60° above the chord, arrive 60° above it
            dx, dy = p1[0] - p0[0], p1[1] - p0[1]
            length, ang = math.hypot(dx, dy), math.atan2(dy, dx)
            k = 0.3915 * length
            c1 = (p0[0] + k * math.cos(ang - math.pi / 3), p0[1] + k * math.sin(ang - math.pi / 3))
            c2 = (p1[0] - k * math.cos(ang + math.pi / 3), p1[1] - k * math.sin(ang + math.pi / 3))
            head, stop = _head(p1, c2)
            path = f"M{_f(p0[0])},{_f(p0[1])} C{_f(c1[0])},{_f(c1[1])} {_f(c2[0])},{_f(c2[1])} {_f(stop[0])},{_f(stop[1])}"

            def at(t, c1=c1, c2=c2, p0=p0, p1=p1):
                u = 1 - t
                return tuple(u ** 3 * p0[i] + 3 * u * u * t * c1[i] + 3 * u * t * t * c2[i] + t ** 3 * p1[i]
                             for i in range(2))
            highest = min(highest, *(at(k / 20)[1] for k in range(21)))
        else:
            path = f"M{_f(p0[0])},{_f(p0[1])} L{_f(stop[0])},{_f(stop[1])}"

            def at(t, p0=p0, p1=p1):
                return p0[0] + t * (p1[0] - p0[0]), p0[1] + t * (p1[1] - p0[1])
        to = net_of.get(dst, dst)
        vertical = abs(p1[1] - p0[1]) > abs(p1[0] - p0[0])
        edges.append(SvgEdge(f"{src}->{to}", d.edge(to, src).kind, path, head, vertical))
        if e.label:  # the weight (or target) on the edge stands for the edge weight → net (target → loss)
            cx, cy = at(float(e.pos))
            t = label(e.label, e.text)
            chips.append(Chip(f"{e.text}->{to}", cx, cy, _text_width(t) + 10, t, e.param, f"{src}->{to}", e.crowded))
    for n in spec.neurons:  # the activation's arrow between a neuron's net box and its output box
        if n.net != n.name and n.name not in softmax:
            a = next(b for b in boxes if b.node == n.net and b.kind == "net")
            b = next(b for b in boxes if b.node == n.name and b.kind == "out")
            head, stop = _head((b.x, b.cy), (a.x + a.w, a.cy))
            edges.append(SvgEdge(f"{n.net}->{n.name}", "activation",
                                 f"M{_f(a.x + a.w)},{_f(a.cy)} L{_f(stop[0])},{_f(stop[1])}", head, False))
    width = max(b.x + b.w for b in boxes) + MARGIN
    height = max(b.y + b.h for b in boxes) + MARGIN
    top = min(0, math.floor(highest - BOX_H / 2 - 4)) if highest < math.inf else 0  # room for an arc and its label
    return Svg(int(width), int(height), tuple(boxes), tuple(edges), tuple(chips), top)


# -- the page ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class MathRow:
    lhs: str  # MathML ("" on a continuation row)
    rhs: str  # MathML, beginning with its relation


@dataclass(frozen=True)
class MistakeView:
    """The seed Q&A's mistake made concrete (document.Mistake), as MathML."""

    weight: str
    unit: str
    wrong: tuple[str, ...]
    right: str
    consumers: int
    n_paths: int


@dataclass(frozen=True)
class CheckView:
    """A common wrong form of the equation and what derive check says about it."""

    title: str  # plain text
    rows: tuple[MathRow, ...]
    why: tuple[str, ...]  # HTML: escaped words, MathML spans


@dataclass(frozen=True)
class Section:
    name: str
    gradient: str  # MathML of ∂L/∂θ
    n_paths: int
    elided: int  # paths not listed (past MAX_STYLED); the script lists the others from the page's data
    locals: tuple[str, ...]  # the edges on its paths, "src->dst": the script copies each one's tip in
    notes: tuple[str, ...]  # HTML: escaped words, MathML spans
    result: tuple[MathRow, ...]  # with the error signals
    written_out: tuple[MathRow, ...]
    value: str  # plain number, "" without numbers
    exact: str  # the value's repr, for machines
    mistake: MistakeView | None = None
    checks: tuple[CheckView, ...] = ()
    checks_note: str = ""


@dataclass(frozen=True)
class Step:
    node: str
    formula: tuple[MathRow, ...]  # δ_v = ∂L/∂v = Σ ∂c/∂v δ_c = ...
    value: str
    exact: str


@dataclass(frozen=True)
class Page:
    name: str
    title: str
    source: str
    loss_description: str
    svg: Svg
    styles: tuple[tuple[str, str, str], ...]  # (class, hex, dash): the n-th path's style
    names: tuple[tuple[str, str], ...]  # (node, MathML): a path's nodes, as the script lists them
    factors: tuple[tuple[str, str], ...]  # (edge, MathML of ∂dst/∂src): a path's product, factor by factor
    params: tuple[tuple[str, str], ...]  # (name, MathML)
    forward: tuple[MathRow, ...]
    deltas: tuple[MathRow, ...]
    sections: tuple[Section, ...]
    steps: tuple[Step, ...]
    tips: tuple[tuple[str, str, str], ...]  # (edge, MathML of ∂dst/∂src = form, value)
    samples: int  # 0 without numbers
    loss_value: str
    data: str  # JSON for the script, safe inside <script>


def _rows(rows) -> tuple[MathRow, ...]:
    return tuple(MathRow(mathml(r.lhs) if r.lhs else "", mathml(r.rhs.replace(r"\quad ", ""))) for r in rows)


def _json(obj) -> str:
    """JSON that cannot end its <script> element or open a comment."""
    s = json.dumps(obj, separators=(",", ":"), sort_keys=True)
    return s.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def page(d: Derivation, doc: Document | None = None) -> Page:
    """The page model of `d` (every parameter's section), numbers from `derive.evaluate`."""
    spec = d.spec
    if doc is None or any(s.members for s in doc.params):  # the page has a section for every parameter,
        doc = build(d, d.parameters, numbers=doc is None or doc.example is not None)  # never one per family
    names = dict(spec.latex)
    printer = LatexPrinter(names)
    sym = symbolic_printer(names)
    numbers = evaluate(d) if doc.example is not None else None  # --no-numbers, or a spec without them
    first = numbers.samples[0] if numbers else None
    if first:
        num = numeric_printer(dict(first.values) | {delta_symbol(k).name: v for k, v in first.deltas.items()}, names)
    edge_ids = [f"{e.src}->{e.dst}" for e in d.edges]
    index = {k: i for i, k in enumerate(edge_ids)}

    tips = tuple((f"{e.src}->{e.dst}", mathml(f"{latex_factor(e.factor, printer)} = {sym.doprint(e.display)}"),
                  plain(first.partials[(e.dst, e.src)]) if first else "") for e in d.edges)
    sections, groups, every = [], {}, {}
    for s in doc.params:
        p = s.name
        count = s.n_paths
        listed = itertools.islice(d.iter_paths(p), MAX_STYLED)  # the paths are counted, never all enumerated
        styled = count <= MAX_STYLED
        groups[p] = [[STYLES[k][0] if styled else "every", [index[f"{a}->{b}"] for a, b in itertools.pairwise(path)]]
                     for k, path in enumerate(listed)]
        if not styled:  # drawn in one style: every edge on some path, each once
            every[p] = [index[f"{e.src}->{e.dst}"] for e in path_edges(d, p)]
        locs = tuple(f"{e.src}->{e.dst}" for e in path_edges(d, p))
        value = numbers.gradients[p] if numbers else None
        sections.append(Section(
            p, mathml(s.gradient), count, max(0, count - MAX_STYLED), locs,
            tuple(mathml_prose(n) for n in s.notes), _rows(s.result), _rows(s.written_out),
            plain(value) if numbers else "", repr(value) if numbers else "",
            s.mistake and MistakeView(mathml(s.mistake.weight), mathml(s.mistake.unit),
                                      tuple(mathml(w) for w in s.mistake.wrong), mathml(s.mistake.right),
                                      s.mistake.consumers, s.mistake.n_paths),
            tuple(CheckView(c.title, _rows(c.rows), tuple(mathml_prose(w) for w in c.why)) for c in s.checks),
            s.checks_note))
    steps = []
    for dl in d.deltas:
        lhs = f"{printer.name(delta_symbol(dl.node).name)} = {latex_factor(Factor(d.loss, dl.node), printer)}"
        if dl.is_loss:
            rhs = ["= 1"]
        else:
            leibniz = " + ".join(f"{latex_factor(e.factor, printer)} \\, {printer.name(delta_symbol(e.dst).name)}"
                                 for e in dl.terms)
            rhs = [f"= {leibniz}", "= " + " ".join(terms(times_delta(d, dl.terms), sym))]
            if first:  # the same with the numbers of the example in place: the consumers' δ already known
                rhs.append("= " + " ".join(terms(times_delta(d, dl.terms), num)))
        v = first.deltas[dl.node] if first else None
        rows = (MathRow(mathml(lhs), mathml(rhs[0])),) + tuple(MathRow("", mathml(r)) for r in rhs[1:])
        steps.append(Step(dl.node, rows, plain(v) if first else "", repr(float(v)) if first else ""))
    nodes = dict.fromkeys(n for e in d.edges for n in (e.src, e.dst))
    data = {"edges": edge_ids, "paths": groups, "every": every, "maxStrokes": MAX_STROKES,
            "steps": [[index[f"{e.src}->{e.dst}"] for e in dl.terms] for dl in d.deltas]}
    return Page(
        spec.name, doc.title, doc.source, doc.loss_description, svg(d, doc),
        STYLES, tuple((n, mathml(printer.name(n))) for n in nodes),
        tuple((f"{e.src}->{e.dst}", mathml(latex_factor(e.factor, printer))) for e in d.edges),
        tuple((s.name, mathml(s.tex)) for s in doc.params),
        _rows(doc.forward), _rows(doc.deltas), tuple(sections), tuple(steps), tips,
        len(numbers.samples) if numbers else 0, plain(numbers.loss) if numbers else "", _json(data))


def render_page(d: Derivation, doc: Document | None = None, standalone: bool = True) -> str:
    """The page as HTML: a whole document, or (not `standalone`) the one <div> a notebook shows inline."""
    env = environment("html")
    env.filters["number"] = _number_html
    return env.get_template("explain.html.j2").render(page=page(d, doc), standalone=standalone)


def _number_html(s: str):
    """A number of `plain` as HTML: its power of ten raised (−1.5×10<sup>−16</sup>)."""
    mantissa, _, exp = s.partition("×10^")
    return Markup(f"{escape(mantissa)}×10<sup>{escape(exp)}</sup>") if exp else escape(s)


def _inline(d: Derivation) -> str:
    return render_page(d, standalone=False)


HTML_VIEW[0] = _inline  # Derivation._repr_html_ shows this view
