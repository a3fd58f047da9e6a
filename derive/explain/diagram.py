"""The network diagram as plain data: where each node sits, each edge, and which edges a path uses.

Layout is by depth: inputs in column 0, each neuron one column right of its deepest source, the
loss in a last column; within a column, spec order, centred.  A neuron is drawn as one box split
in two, its weighted sum (net) on the left and its output on the right, so that the step
net → output of a path is visible.  Each use of a bias is a small label above its neuron, as in
the seed Q&A's picture.  The templates turn a `Diagram` into TikZ; nothing here is LaTeX code
except the node labels, which come from the printer.

>>> import derive
>>> d = derive.derive(derive.load("examples/qa_chain.toml"))
>>> diagram = layout(d)
>>> [n.name for n in diagram.nodes if n.kind != "bias"]
['x', 'h', 'yp', 'L']
>>> lit = highlight(diagram, d, "b")
>>> sorted({s.color for e in lit.edges for s in e.strokes})
['pathA', 'pathB']
"""

from __future__ import annotations

import collections
import itertools
import re
from dataclasses import dataclass, replace

from ..core.derivation import Derivation
from ..core.ops import GROUPS
from ..printing.printers import LatexPrinter
from .texmath import width

__all__ = ["PALETTE", "DEdge", "DNode", "Diagram", "Flow", "Stroke", "columns_of", "flow", "highlight", "layout", "path_colors",
           "unicode_name"]

# Colour-blind safe (Okabe–Ito), one per path; more paths than colours are drawn in the first.
PALETTE = (("pathA", "D55E00"), ("pathB", "0072B2"), ("pathC", "009E73"), ("pathD", "CC79A7"),
           ("pathE", "E69F00"), ("pathF", "56B4E9"))

COLUMN = 3.4  # cm between columns
ROW = 2.0  # cm between neurons in a column
SPREAD = 0.11  # cm between the ends of edges that meet at one side of a node
MAX_LISTED_COLORS = 8  # colours handed out for paths that are drawn one by one
STROKE_GAP = 1.6  # pt between parallel strokes of an edge used by several paths
CONTEXT_MAX = 8  # networks with more neurons than this show each parameter's paths without the rest
CROWDED = 3  # a node with more edges than this on one side: its edges' labels would pile up
MAX_PLACED = 64  # a diagram with more labelled edges than this labels none of those at crowded nodes: a
# few labels scattered over hundreds of edges say less than the forward pass does


@dataclass(frozen=True)
class DNode:
    id: str  # TikZ name, letters and digits only
    name: str  # the spec's name of the input, neuron, bias or loss
    kind: str  # "input", "neuron", "bias", "loss"
    x: str  # cm, formatted
    y: str
    net: str  # LaTeX of the weighted sum ("" for an identity neuron that is its own sum)
    out: str  # LaTeX of the output (the input, the loss, the bias name)
    text: str = ""  # plain label for Markdown's Mermaid diagram: "net_h1 → h1"
    color: str = ""  # highlight colour name, "" when not highlighted
    faded: bool = False  # drawn in grey: off every highlighted path

    @property
    def ref(self) -> str:
        return f"({self.id})"

    @property
    def at(self) -> str:
        return f"({self.x},{self.y})"


@dataclass(frozen=True)
class Stroke:
    color: str  # colour name from PALETTE
    shift: str  # TikZ shift option for this stroke, e.g. "yshift=1.6pt"


@dataclass(frozen=True)
class DEdge:
    key: tuple  # (source name, destination neuron or loss name)
    src_node: str  # TikZ name of the source node
    dst_node: str
    src: str  # TikZ anchor expression of the start, e.g. "([yshift=0.11cm]n1.east)"
    dst: str
    label: str  # LaTeX of the weight (or target, for an edge into the loss); "" for a bias
    text: str  # the same name as the user wrote it, for Markdown's Mermaid diagram
    pos: str  # where along the edge the label sits
    bend: str  # "" or a TikZ bend option for an edge that skips columns
    param: str = ""  # the parameter the edge carries, "" for an edge into the loss
    crowded: bool = False  # unlabelled in the full picture for want of room: labelled only when highlighted
    busy: bool = False  # one of many edges at a node (Mermaid, which places labels itself, leaves it unlabelled)
    strokes: tuple[Stroke, ...] = ()  # highlight strokes; empty when drawn plain
    line: tuple = ()  # ((x0, y0), (x1, y1)) in cm, where the edge starts and ends: for placing labels


@dataclass(frozen=True)
class Diagram:
    nodes: tuple[DNode, ...]
    edges: tuple[DEdge, ...]
    highlighted: bool = False  # a per-parameter picture: label only the highlighted edges
    blocked: tuple = ()  # boxes (x0, y0, x1, y1) in cm that no edge label may cover: nodes, bias labels


def _cm(v: float) -> str:
    return f"{v:.2f}".rstrip("0").rstrip(".") if v else "0"


def columns_of(spec) -> dict[str, int]:
    """The diagram column of every input (0) and neuron: one right of its deepest source.  A
    neuron that is its own weighted sum has one column; a softmax group's nets sit one column left
    of its outputs; otherwise net and output share the neuron's column."""
    softmax = [n for n in spec.neurons if n.activation in GROUPS]
    depth = {i: 0 for i in spec.inputs}
    for n in spec.neurons:  # topological order: every source is placed before its consumer
        depth[n.net if n in softmax else n.name] = 1 + max(depth[src] for src, _ in n.inputs)
        if n not in softmax:
            depth.setdefault(n.net, depth[n.name])
    for n in softmax:  # group outputs feed only the loss
        depth[n.name] = 1 + max(depth[m.net] for m in softmax)
    return depth


def layout(d: Derivation, names=None) -> Diagram:
    """Place every input, neuron, bias use and the loss; one edge per weight, bias use and output."""
    spec = d.spec
    printer = LatexPrinter(names if names is not None else dict(spec.latex))
    # A softmax output reads every net of its group: its nets and outputs are drawn as nodes of
    # their own, in two columns, each net joined to every output (edges without a weight).
    softmax = [n for n in spec.neurons if n.activation in GROUPS]
    depth = columns_of(spec)
    last = max(depth.values()) + 1
    columns: dict[int, list[str]] = {}
    for name in (*spec.inputs, *(x for n in spec.neurons for x in ((n.net, n.name) if n in softmax else (n.name,)))):
        columns.setdefault(depth[name], []).append(name)
    pos: dict[str, tuple[float, float]] = {}
    for col, members in columns.items():
        for k, name in enumerate(members):
            pos[name] = (col * COLUMN, ((len(members) - 1) / 2 - k) * ROW)
    pos[d.loss] = (last * COLUMN, 0.0)

    ids = {name: f"n{k}" for k, name in enumerate(pos)}
    nodes = [DNode(ids[i], i, "input", _cm(pos[i][0]), _cm(pos[i][1]), "", printer.name(i)) for i in spec.inputs]
    for n in spec.neurons:
        if n in softmax:
            nodes.append(DNode(ids[n.name], n.name, "neuron", *map(_cm, pos[n.name]), "", printer.name(n.name), n.name))
        at = n.net if n in softmax else n.name  # the box that adds the bias
        x, y = pos[at]
        nodes.append(DNode(ids[at], at, "neuron", _cm(x), _cm(y),
                           printer.name(n.net) if n.net != n.name and n not in softmax else "", printer.name(at),
                           f"{n.net} → {n.name}" if n.net != n.name and n not in softmax else at))
        if n.bias:
            nodes.append(DNode(f"{ids[at]}b", n.bias, "bias", _cm(x - 0.55), _cm(y + 0.95), "",
                               printer.name(n.bias)))
    nodes.append(DNode(ids[d.loss], d.loss, "loss", _cm(pos[d.loss][0]), "0", "", printer.name(d.loss)))

    # (source, destination, parameter or target) in drawing order
    links = [(src, n.net if n in softmax else n.name, w) for n in spec.neurons for src, w in n.inputs]
    links += [(z.net, o.name, "") for z in softmax for o in softmax]
    links += [(o, d.loss, t) for o, t in spec.loss.outputs]
    incoming: dict[str, list] = {name: [] for name in pos}
    outgoing: dict[str, list] = {name: [] for name in pos}
    for link in links:
        incoming[link[1]].append(link)
        outgoing[link[0]].append(link)
    # ends of the edges at one side of a node are spread top to bottom by the other end's height
    for group, other in ((incoming, 0), (outgoing, 1)):
        for v in group.values():
            v.sort(key=lambda link: -pos[link[other]][1])

    def offset(name: str, link, group) -> float:
        siblings = group[name]
        return ((len(siblings) - 1) / 2 - siblings.index(link)) * SPREAD

    def end(name: str, side: str, link, group) -> str:
        off = offset(name, link, group)
        return f"([yshift={_cm(off)}cm]{ids[name]}.{side})" if off else f"({ids[name]}.{side})"

    edges = []
    for link in links:
        src, dst, label = link
        span = depth.get(dst, last) - depth[src]
        to_loss = dst == d.loss
        k = outgoing[src].index(link)
        # labels of edges leaving one node sit at different distances along them, so they do not pile up
        at = 0.5 if len(outgoing[src]) == 1 else 0.28 + 0.4 * k / (len(outgoing[src]) - 1)
        if span > 1:  # an edge that skips columns arcs over them, high enough to clear their boxes
            at = 0.5  # and their bias labels, with its weight at the top of the arc
        edges.append(DEdge((src, dst), ids[src], ids[dst], end(src, "east", link, outgoing), end(dst, "west", link, incoming),
                           printer.name(label), label, f"{at:.2f}", "bend left=60" if span > 1 else "",
                           "" if to_loss else label,
                           *[max(len(outgoing[src]), len(incoming[dst])) > CROWDED] * 2))
    half = {n.name: _half_width(n) for n in nodes if n.kind != "bias"}
    edges = [replace(e, line=((pos[a][0] + half[a], pos[a][1] + offset(a, link, outgoing)),
                              (pos[b][0] - half[b], pos[b][1] + offset(b, link, incoming))))
             for e, link in zip(edges, links) for a, b in [link[:2]]]
    blocked = [_box(pos[n][0], pos[n][1], 2 * half[n], NODE_HEIGHT) for n in half]
    blocked += [_box(float(n.x), float(n.y), LABEL_CM * width(n.out) + 0.1, LABEL_HEIGHT)
                for n in nodes if n.kind == "bias"]
    boxes = [(n, n.net if n in softmax else n.name) for n in spec.neurons if n.bias]
    bias_edges = [DEdge((n.bias, at), f"{ids[at]}b", ids[at], f"({ids[at]}b)", f"({ids[at]}.north west)", "", n.bias,
                        "0.5", "", n.bias, line=((pos[at][0] - 0.55, pos[at][1] + 0.95 - LABEL_HEIGHT / 2),
                                                 (pos[at][0] - half[at], pos[at][1] + NODE_HEIGHT / 2)))
                  for n, at in boxes]
    labelled = sum(1 for e in edges if e.label)
    if labelled <= MAX_PLACED and any(e.crowded and e.label for e in edges):  # find room for the labels along the edges
        movable = {k for k, e in enumerate(edges) if e.label and e.crowded}
        fixed = {k for k, e in enumerate(edges) if e.label and not e.crowded}
        placed = _place_labels(edges, blocked, [e.line for e in edges + bias_edges if not e.bend], movable, fixed)
        # all of the labels between two columns, or none: a few scattered ones would look arbitrary
        gap = [(depth[a], depth.get(b, last)) for a, b, _ in links]
        short = {gap[k] for k in movable if k not in placed}
        placed = {k: t for k, t in placed.items() if gap[k] not in short}
        edges = [replace(e, pos=f"{placed[k]:.2f}", crowded=False) if k in placed else e for k, e in enumerate(edges)]
    return Diagram(tuple(nodes), tuple(edges + bias_edges), blocked=tuple(blocked))


# Sizes for placing labels, in cm at the picture's own scale (11pt text, \scriptsize labels).
CHAR_CM = 0.23  # one character of math at the text size
LABEL_CM = 0.16  # one character of a \scriptsize label
LABEL_HEIGHT = 0.32
NODE_HEIGHT = 0.8
PADDING = 0.21  # a node's inner sep, both sides


def _half_width(n: DNode) -> float:
    if n.kind == "input":
        return max(0.4, CHAR_CM * width(n.out) / 2 + 0.05)
    text = CHAR_CM * width(n.out) + PADDING + (CHAR_CM * width(n.net) + PADDING if n.net else 0)
    return max(0.45, text / 2) if n.kind == "neuron" else text / 2


def _box(x: float, y: float, w: float, h: float) -> tuple[float, float, float, float]:
    return (x - w / 2, y - h / 2, x + w / 2, y + h / 2)


def _overlap(a, b) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def _crosses(seg, box) -> bool:
    """Whether the segment passes through the box (Liang–Barsky clipping)."""
    (x0, y0), (x1, y1) = seg
    dx, dy = x1 - x0, y1 - y0
    lo, hi = 0.0, 1.0
    for p, q in ((-dx, x0 - box[0]), (dx, box[2] - x0), (-dy, y0 - box[1]), (dy, box[3] - y0)):
        if p == 0:
            if q < 0:
                return False
        elif p < 0:
            lo = max(lo, q / p)
        else:
            hi = min(hi, q / p)
        if lo > hi:
            return False
    return True


_TRIES = (0.5, 0.42, 0.58, 0.34, 0.66, 0.27, 0.73, 0.2, 0.8, 0.15, 0.85)


def _place_labels(edges, blocked, segments, movable, fixed) -> dict[int, float]:
    """Where along each straight edge in `movable` (indices into `edges`) its label fits: on the
    edge, clear of every node, every label placed before it and every other edge.  The labels of
    `fixed` keep their places; each movable one gets its own place if free, else the first free one
    from the middle outwards, else none (it is left out of the result)."""
    placed: dict[int, float] = {}
    taken = list(blocked)

    def box_at(k, t):
        (x0, y0), (x1, y1) = edges[k].line
        w = LABEL_CM * width(edges[k].label) + 0.08
        return _box(x0 + t * (x1 - x0), y0 + t * (y1 - y0), w, LABEL_HEIGHT)

    for k in sorted(fixed):
        if not edges[k].bend:
            taken.append(box_at(k, float(edges[k].pos)))
    for k in sorted(movable):
        e = edges[k]
        if e.bend:  # an arc over the columns: its label at the top, clear of all
            placed[k] = float(e.pos)
            continue
        for t in (float(e.pos), *_TRIES):
            b = box_at(k, t)
            if not any(_overlap(b, o) for o in taken) and not any(_crosses(s, b) for s in segments if s != e.line):
                placed[k] = t
                taken.append(b)
                break
    return placed


def path_edges(d: Derivation, param: str) -> list:
    """Every edge on a path from `param` to the loss, each once, in the order the paths (listed
    depth first) first use it: a walk that visits each node once, so it costs the edges, however
    many paths there are."""
    out, seen, stack = [], {param}, [iter(d.consumers(param))]
    while stack:
        e = next(stack[-1], None)
        if e is None:
            stack.pop()
            continue
        out.append(e)
        if e.dst not in seen:
            seen.add(e.dst)
            stack.append(iter(d.consumers(e.dst)))
    return out


def path_colors(n_paths: int) -> tuple[str, ...]:
    """The colour of each path: one each while the palette lasts, else all in the first."""
    if n_paths <= len(PALETTE):
        return tuple(name for name, _ in PALETTE[:n_paths])
    return (PALETTE[0][0],) * min(n_paths, MAX_LISTED_COLORS)  # only listed paths are coloured


def highlight(diagram: Diagram, d: Derivation, param: str, context: bool = True) -> Diagram:
    """The diagram with every path from `param` to the loss drawn in its path's colour.

    An edge that several paths share gets one stroke per distinct colour, side by side.  Without
    `context` only the paths are drawn (in their places in the full picture): for a large network
    that is easier to read, and much quicker to typeset, than the whole network again.
    """
    spec = d.spec
    neuron_of = {n.net: n.name for n in spec.neurons} | {n.name: n.name for n in spec.neurons}
    neuron_of |= {n.net: n.net for n in spec.neurons if n.activation in GROUPS}  # drawn apart
    count = d.path_count(param)
    colors = path_colors(count)
    if count <= len(PALETTE):  # a colour per path: each path's own edges
        groups = [(color, list(itertools.pairwise(path))) for path, color in zip(d.iter_paths(param), colors)]
    else:  # one colour for all: the edges on any path, without listing the paths
        groups = [(colors[0], [(e.src, e.dst) for e in path_edges(d, param)])]
    used: dict[tuple, dict[str, None]] = {}  # edge key -> the colours of the paths along it, each once
    lit_nodes: dict[str, str] = {}
    for color, links in groups:
        steps = [e.key for e in diagram.edges if e.param == param and any(
            a == param and e.key[1] == neuron_of[b] for a, b in links)]
        steps += [(a, b if b == d.loss else neuron_of[b]) for a, b in links
                  if a != param and (b == d.loss or neuron_of.get(a) != neuron_of.get(b))]
        for a, b in links:
            if b != d.loss:
                lit_nodes.setdefault(neuron_of[b], color)
        for key in steps:
            used.setdefault(key, {})[color] = None
    edges = []
    for e in diagram.edges:
        cs = list(used.get(e.key, ()))
        vertical = e.key[0] in spec.parameters and e.label == ""  # a bias: its edge runs downwards
        strokes = tuple(Stroke(c, f"{'xshift' if vertical else 'yshift'}="
                                  f"{_cm(((len(cs) - 1) / 2 - k) * STROKE_GAP)}pt") for k, c in enumerate(cs))
        edges.append(replace(e, strokes=strokes))
    # a lit edge among many lit ones at a node keeps its line but not its label: they would pile up
    # (the parameter's own edge is always labelled)
    ends = collections.Counter(x for e in edges if e.strokes for x in (e.src_node, e.dst_node))
    busy = {x for x, k in ends.items() if k > 2 * CROWDED}
    edges = [replace(e, label="") if e.strokes and e.param != param and {e.src_node, e.dst_node} & busy else e
             for e in edges]
    # the lit labels where they fit among the edges drawn (all of them, or with no context only the lit
    # ones); one that fits nowhere is left off, but never the parameter's own
    own = {k for k, e in enumerate(edges) if e.strokes and e.label and e.param == param}
    lit = {k for k, e in enumerate(edges) if e.strokes and e.label and e.line} - own
    if lit and len(lit) <= MAX_PLACED:
        drawn = [e.line for e in edges if e.line and not e.bend and (context or e.strokes)]
        placed = _place_labels(edges, diagram.blocked, drawn, lit, own)
        edges = [replace(e, pos=f"{placed[k]:.2f}") if k in placed else replace(e, label="") if k in lit else e
                 for k, e in enumerate(edges)]
    nodes = tuple(replace(n, color=lit_nodes.get(n.name, "")) if n.kind == "neuron" else n
                  for n in diagram.nodes)
    if any(e.strokes for e in edges if e.key[1] == d.loss):
        nodes = tuple(replace(n, color=colors[0]) if n.kind == "loss" else n for n in nodes)
    if not context:  # the other nodes stay, faded, to show where the paths run; their edges go
        edges = [e for e in edges if e.strokes]
        ends = {e.src_node for e in edges} | {e.dst_node for e in edges}
        nodes = tuple(n if n.id in ends or n.color else replace(n, faded=True)
                      for n in nodes if n.kind != "bias" or n.id in ends)
    return Diagram(nodes, tuple(edges), highlighted=True, blocked=diagram.blocked)


_SUB = dict(zip("0123456789aehijklmnoprstuvx+-=()", "₀₁₂₃₄₅₆₇₈₉ₐₑₕᵢⱼₖₗₘₙₒₚᵣₛₜᵤᵥₓ₊₋₌₍₎"))
_GREEK_TEXT = {"alpha": "α", "beta": "β", "gamma": "γ", "delta": "δ", "epsilon": "ε", "eta": "η", "theta": "θ",
               "lambda": "λ", "mu": "μ", "pi": "π", "rho": "ρ", "sigma": "σ", "tau": "τ", "phi": "φ",
               "psi": "ψ", "omega": "ω", "Delta": "Δ", "Sigma": "Σ", "Omega": "Ω"}


def unicode_name(tex: str, plain: str) -> str:
    r"""A typeset name as text for a diagram that cannot typeset (Mermaid): w_{1} as w₁,
    \mathit{net}_{h1} as netₕ₁, y' as y′; `plain` (the spec's name) when it is more than that.

    >>> unicode_name(r"\mathit{net}_{h1}", "net_h1"), unicode_name("y'", "yp"), unicode_name(r"E_{\mathrm{total}}", "E_total")
    ('netₕ₁', 'y′', 'Eₜₒₜₐₗ')
    >>> unicode_name("z_{c1}", "z_c1")
    'z<sub>c1</sub>'
    """
    s = re.sub(r"\\math(?:it|rm)\{([A-Za-z]+)\}", r"\1", tex)
    s = re.sub(r"\\([A-Za-z]+)", lambda m: _GREEK_TEXT.get(m.group(1), m.group(0)), s).replace("'", "′")
    m = re.fullmatch(r"([^_{}\\]+)(?:_\{([^{}\\]+)\}|_([^{}\\]))?", s)
    if not m:
        return plain
    head, sub = m.group(1), m.group(2) or m.group(3) or ""
    if all(c in _SUB for c in sub):
        return head + "".join(_SUB[c] for c in sub)
    if re.fullmatch(r"[A-Za-z0-9,]+", sub) and re.fullmatch(r"[A-Za-z0-9′]+", head):
        return f"{head}<sub>{sub}</sub>"  # no Unicode subscript c, b, … : Mermaid's labels take <sub>
    return plain


@dataclass(frozen=True)
class Flow:
    """The diagram as Mermaid draws it: one node per input, neuron, parameter and loss (a bias
    shared by several neurons is one node with an edge to each), labels as text."""

    nodes: tuple[tuple[str, str, str], ...]  # (id, kind, label)
    edges: tuple[tuple[str, str, str, str], ...]  # (source id, destination id, label, style: "weight", "bias" or "plain")


def flow(diagram: Diagram, printer) -> Flow:
    def label(name: str) -> str:
        return unicode_name(printer.name(name), name).replace('"', "'")

    bias_id: dict[str, str] = {}
    nodes = []
    for n in diagram.nodes:
        if n.kind == "bias":
            if n.name in bias_id:
                continue
            bias_id[n.name] = n.id
            nodes.append((n.id, "bias", label(n.name)))
        elif n.kind == "neuron" and " → " in n.text:
            net, out = n.text.split(" → ")
            nodes.append((n.id, "neuron", f"{label(net)} → {label(out)}"))
        else:
            nodes.append((n.id, n.kind, label(n.name)))
    ids = {n.id: bias_id[n.name] for n in diagram.nodes if n.kind == "bias"}
    # an edge at a busy node goes unlabelled: Mermaid would pile its label on others
    edges = tuple((ids.get(e.src_node, e.src_node), e.dst_node, label(e.text) if e.label else "",
                   "weight" if e.label and not e.busy else "bias" if e.param and not e.label else "plain")
                  for e in diagram.edges)
    return Flow(tuple(nodes), edges)
