"""Read a network spec (TOML) into a frozen `NetSpec`, or say exactly what is wrong with it.

This module knows TOML and the network vocabulary, and nothing about SymPy.  Every problem is
collected as a `Problem(field, message)` and raised together as one `SpecError` naming the file;
the CLI prints one line per problem and exits with status 2.

>>> net = loads('''
... name = "chain"
... inputs = ["x"]
... neuron = [{ name = "h", activation = "sigmoid", inputs = { x = "w1" } }]
... loss = { kind = "half_sse", outputs = { h = "y" } }
... ''')
>>> net.neurons[0].net, net.parameters
('z_h', ('w1',))
"""

from __future__ import annotations

import itertools
import math
import re
import reprlib
import tomllib
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from .kinds import DENSE, LAYER_KINDS, Layer
from .naming import GREEK, LayerNames, latex_name, net_name
from .ops import ACTIVATIONS, GROUPS, LOSSES, NEURON_ACTIVATIONS

__all__ = ["MAX_WEIGHTS", "Layer", "Loss", "NetSpec", "Neuron", "Problem", "SpecError", "Train", "from_dict", "load", "loads"]

_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")

# What one spec may hold: every scalar weight is an edge of the derivation and a line of its
# documents, so past these sizes the per-weight form is no longer a tool (README, "Limits").
MAX_WEIGHTS = 250_000  # weights in the per-weight (scalar) form (784-128-10 has 101,632)
MAX_LAYER_WEIGHTS = 2_000_000  # weights of a [dense] network, which the layer form handles at any width
MAX_NEURONS = 20_000
MAX_DEPTH = 100  # neurons on the longest path from an input to an output
MAX_SAMPLES = 10_000  # samples in [data]: every one is worked through exactly in documents
MAX_STEPS = 10_000_000  # [train] steps
MAX_NAME = 64  # characters in a name
MAX_LATEX = 200  # characters in a [latex] value
MAX_TITLE = 200  # characters in the title
MAX_BYTES = 16 * 2**20  # a spec file's size

# [latex] values are math in a small, harmless subset: letters, digits, spaces, _ ^ { } ' , ( ) [ ]
# + - * / . | and these commands.  Anything else (\input, \def, \catcode, ...) is refused when the spec is read.
LATEX_COMMANDS = GREEK | {
    "varepsilon", "vartheta", "varphi", "mathrm", "mathit", "mathbf", "mathsf", "mathcal", "hat", "bar",
    "tilde", "vec", "dot", "ddot", "check", "breve", "prime", "ell", "star", "ast", "circ",
}
_LATEX_TOKEN = re.compile(r"\\([A-Za-z]+)|([A-Za-z0-9_^{}',()\[\]+\-*/.| ])|(.)", re.DOTALL)
_TOML_LINE = re.compile(r"\(at line (\d+), column (\d+)\)")


@dataclass(frozen=True)
class Problem:
    field: str  # "neuron[2].inputs.x9", "line 4", or "" for the whole file
    message: str


class SpecError(Exception):
    """Everything wrong with one spec file; `str()` gives one line per problem."""

    def __init__(self, file: str, problems):
        self.file = str(file)
        self.problems = tuple(problems)
        super().__init__(str(self))

    def lines(self) -> list[str]:
        return [f"{self.file}: {p.field}: {p.message}" if p.field else f"{self.file}: {p.message}"
                for p in self.problems]

    def __str__(self) -> str:
        return "\n".join(self.lines())


@dataclass(frozen=True)
class Neuron:
    name: str  # the neuron's output (its activation)
    net: str  # its weighted sum; equal to `name` for an identity neuron that is its own sum
    activation: str
    inputs: tuple[tuple[str, str], ...]  # (source, weight parameter), in spec order
    bias: str | None = None


@dataclass(frozen=True)
class Loss:
    kind: str
    outputs: tuple[tuple[str, str], ...]  # (output neuron, target variable)
    name: str = "L"
    l2: float = 0.0  # λ: the data-set loss gains (λ/2)·Σ w² over the weights (not the biases)


@dataclass(frozen=True)
class Train:
    learning_rate: float = 0.5
    steps: int = 1000


@dataclass(frozen=True)
class NetSpec:
    """A network, validated: neurons in topological order (spec order where that is free)."""

    name: str
    inputs: tuple[str, ...]
    neurons: tuple[Neuron, ...]
    loss: Loss
    title: str = ""
    values: tuple[tuple[str, float], ...] = ()  # parameter -> starting value
    data: tuple[tuple[str, tuple[float, ...]], ...] = ()  # input/target -> one value per sample
    train: Train = field(default_factory=Train)
    latex: tuple[tuple[str, str], ...] = ()  # name -> how to typeset it
    source: str = "<string>"
    layers: tuple[Layer, ...] = ()  # a [dense] or [[layer]] spec's layers, as written; () for [[neuron]] tables
    shape: tuple[int, ...] = ()  # one sample's input shape, as a [[layer]] spec's input gives it

    @cached_property
    def parameters(self) -> tuple[str, ...]:
        """Weights in order of first use (neuron order, then source order), then biases."""
        weights = [w for n in self.neurons for _, w in n.inputs]
        return tuple(dict.fromkeys(weights + [n.bias for n in self.neurons if n.bias]))

    @cached_property
    def penalized(self) -> tuple[str, ...]:
        """The weights [loss] l2 penalizes (every weight, no bias), in parameter order; () without l2."""
        return tuple(dict.fromkeys(w for n in self.neurons for _, w in n.inputs)) if self.loss.l2 else ()

    @property
    def targets(self) -> tuple[str, ...]:
        return tuple(t for _, t in self.loss.outputs)

    def neuron(self, name: str) -> Neuron:
        return next(n for n in self.neurons if n.name == name)

    @property
    def samples(self) -> int:
        return len(self.data[0][1]) if self.data else 0


def load(path) -> NetSpec:
    """Read the spec file at `path`; raise `SpecError` naming the file if anything is wrong."""
    path = Path(path)
    try:
        with path.open("rb") as f:
            data = f.read(MAX_BYTES + 1)  # bounded: a device or a huge file is refused, not read for ever
        text = data.decode("utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise SpecError(path, [Problem("", f"cannot read: {getattr(e, 'strerror', None) or e}")]) from None
    if len(data) > MAX_BYTES:
        raise SpecError(path, [Problem("", f"larger than {MAX_BYTES // 2**20} MiB: not a spec derive reads")])
    return loads(text, source=str(path))


def loads(text: str, source: str = "<string>") -> NetSpec:
    """Read a spec from a string; `source` names it in error messages."""
    text = text.removeprefix("\ufeff")  # a byte-order mark some editors write
    if not text.strip():
        raise SpecError(source, [Problem("", "the spec is empty")])
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        msg = str(e)
        m = _TOML_LINE.search(msg)
        if m:
            where = f"line {m.group(1)}"
        elif "end of document" in msg:
            where = f"line {len(text.splitlines())}"
        else:
            where = ""
        msg = _TOML_LINE.sub("", msg).replace("(at end of document)", "at the end of the file").strip()
        raise SpecError(source, [Problem(where, "TOML syntax error: " + msg)]) from None
    except ValueError:  # Python's limit on the digits of an integer (4,300)
        m = re.search(r"\d{300}", text)
        where = f"line {text.count(chr(10), 0, m.start()) + 1}" if m else ""
        raise SpecError(source, [Problem(where, "a number too long to read: at most 300 digits")]) from None
    return from_dict(doc, source)


def from_dict(doc: dict, source: str = "<python>") -> NetSpec:
    """Build a spec from Python data shaped like the TOML (tables are dicts, [[neuron]] a list),
    checked exactly as a file is.

    >>> net = from_dict({"name": "chain", "inputs": ["x"], "loss": {"kind": "sse", "outputs": {"h": "y"}},
    ...                  "neuron": [{"name": "h", "activation": "tanh", "inputs": {"x": "w"}, "bias": "b"}]})
    >>> net.parameters
    ('w', 'b')
    """
    if not isinstance(doc, dict):
        raise SpecError(source, [Problem("", f"expected a table (a dict), got {_show(doc)}")])
    reader = _Reader(source)
    spec = reader.read(doc)
    if reader.problems:
        raise SpecError(source, reader.problems)
    return spec


class _Reader:
    """Walks the TOML document, collecting problems instead of stopping at the first."""

    def __init__(self, source: str):
        self.source = source
        self.problems: list[Problem] = []

    def err(self, where: str, message: str) -> None:
        self.problems.append(Problem(where, message))

    def ident(self, value, where: str) -> str | None:
        if not isinstance(value, str):
            self.err(where, f"expected a name (a string), got {_show(value)}")
            return None
        if not _IDENT.match(value):
            self.err(where, f"{_clip(value)!r} is not a name: use letters, digits and _, not starting with a digit")
            return None
        if len(value) > MAX_NAME:
            self.err(where, f"{_clip(value)!r} is too long for a name: at most {MAX_NAME} characters")
            return None
        return value

    def keys(self, doc: dict, where: str, allowed: tuple[str, ...]) -> None:
        for key in doc:
            if key not in allowed:
                self.err(f"{where}.{key}", "unknown key; expected " + ", ".join(allowed))

    def table(self, doc: dict, key: str) -> dict:
        value = doc.get(key, {})
        if not isinstance(value, dict):
            self.err(key, f"expected a table, got {_show(value)}")
            return {}
        return value

    def number(self, value, where: str) -> float | None:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            self.err(where, f"expected a number, got {_show(value)}")
            return None
        if isinstance(value, int) and abs(value) > 10**300:
            self.err(where, "expected a number of at most 300 digits")
            return None
        if not math.isfinite(value):
            self.err(where, f"expected a finite number, got {value}")
            return None
        return float(value)

    # -- the document ------------------------------------------------------------------------

    def read(self, doc: dict) -> NetSpec:
        known = {"name", "title", "inputs", "neuron", "dense", "input", "layer", "loss", "values", "data", "train",
                 "latex"}
        for key in doc:
            if key not in known:
                self.err(key, f"unknown key; expected one of {', '.join(sorted(known))}")
        name = self.ident(doc["name"], "name") if "name" in doc else None
        if "name" not in doc:
            self.err("name", "missing: give the network a name (it names the output files)")
        title = doc.get("title", "")
        if not isinstance(title, str):
            self.err("title", f"expected text, got {_show(title)}")
            title = ""
        elif len(title) > MAX_TITLE or not all(c.isprintable() for c in title):
            self.err("title", f"expected one line of at most {MAX_TITLE} printable characters")
            title = ""
        loss_doc = self.table(doc, "loss")
        if "dense" in doc and ("neuron" in doc or "inputs" in doc):
            self.err("dense", "use either [dense] or inputs and [[neuron]] tables, not both")
            return _EMPTY
        if "layer" in doc and ({"dense", "neuron", "inputs"} & set(doc)):
            other = "[dense]" if "dense" in doc else "inputs and [[neuron]] tables"
            self.err("layer", f"use either input and [[layer]] tables or {other}, not both")
            return _EMPTY
        shape = ()
        if "dense" in doc:
            if "input" in doc:
                self.err("input", "[dense] names its own inputs: the first of its sizes is their number")
            inputs, neurons, outputs, layers = self.dense(self.table(doc, "dense"))
        elif "layer" in doc:
            inputs, neurons, outputs, layers = self.layered(doc)
            shape = tuple(doc["input"]) if neurons else ()
        else:
            if "input" in doc:
                self.err("input", "input = [...] is one sample's shape for [[layer]] tables; a network of "
                                  "[[neuron]] tables lists its inputs = [\"x\", ...]")
            inputs = self.inputs(doc.get("inputs"))
            neurons = self.neurons(doc.get("neuron"), inputs)
            outputs, layers = (), ()
        if not neurons:  # nothing more can be checked (the layers' problem would repeat), but the loss kind
            if "loss" in doc and isinstance(loss_doc.get("kind"), str) and loss_doc["kind"] not in LOSSES:
                self.err("loss.kind", f"unknown loss kind {_show(loss_doc['kind'])}; one of {', '.join(LOSSES)}")
            return _EMPTY
        loss = self.loss(loss_doc, "loss" in doc, neurons, outputs)
        self.names(inputs, neurons, loss, bool(layers))
        if not layers:  # [dense] builds its neurons in order, each source defined, every one reaching the loss
            neurons = self.order(neurons, inputs, loss)
        if not layers:  # a [dense] spec: its sizes were checked against the layer form's limits
            self.size(neurons)
        layer_of = {o: layer.index for layer in layers for o in layer.outputs}
        # the field that chose a neuron's activation or its layer's size
        field = ((lambda m, key: {"activation": "dense.activation", "size": "dense.sizes"}[key]) if "dense" in doc
                 else (lambda m, key: f"layer[{layer_of[m]}].{key}") if layers else None)
        self.outputs(neurons, loss, field)
        # every parameter's name, for the tables that name them (a set of 670k names for 784-512-512-10)
        params = ({w for n in neurons for _, w in n.inputs} | {n.bias for n in neurons if n.bias}
                  if doc.get("values") or doc.get("latex") else set())
        values = self.values(self.table(doc, "values"), params)
        data = self.data(self.table(doc, "data"), inputs, tuple(t for _, t in loss.outputs))
        train = self.train(self.table(doc, "train"))
        nodes = {x for n in neurons for x in (n.name, n.net)} | {t for _, t in loss.outputs} | {loss.name}
        latex = self.latex(self.table(doc, "latex"), set(inputs) | params | nodes)
        if not self.problems:  # the names a user wrote first, then the nets derive names for them
            written = [*inputs, *(n.name for n in neurons), *(t for _, t in loss.outputs), loss.name, *sorted(params)]
            self.distinct([*written, *sorted(nodes - set(written))], dict(latex))
        return NetSpec(name or "network", tuple(inputs), tuple(neurons), loss, title, values, data,
                       train, latex, self.source, layers, shape)

    def inputs(self, value) -> tuple[str, ...]:
        if value is None:
            self.err("inputs", "missing: list the network's inputs, e.g. inputs = [\"x\"]")
            return ()
        if not isinstance(value, (list, tuple)) or not value:
            self.err("inputs", f"expected a non-empty list of names, got {_show(value)}")
            return ()
        names = [self.ident(v, f"inputs[{i}]") for i, v in enumerate(value)]
        return tuple(n for n in names if n)

    def neurons(self, value, inputs) -> tuple[Neuron, ...]:
        if not value:
            self.err("neuron", "the spec has no neurons: add [[neuron]] tables or a [dense] table")
            return ()
        if not isinstance(value, (list, tuple)):
            self.err("neuron", "expected [[neuron]] tables")
            return ()
        out = []
        for i, doc in enumerate(value):
            where = f"neuron[{i}]"
            if not isinstance(doc, dict):
                self.err(where, "expected a table")
                continue
            self.keys(doc, where, ("name", "net", "activation", "inputs", "bias"))
            name = self.ident(doc.get("name"), f"{where}.name") if "name" in doc else None
            if "name" not in doc:
                self.err(f"{where}.name", "missing")
            if name:
                where = f"neuron[{i}] ({name})"
            act = doc.get("activation", None)
            if act is None:
                self.err(f"{where}.activation", f"missing; one of {', '.join(_ACTIVATIONS)}")
            elif not isinstance(act, str) or act not in _ACTIVATIONS:
                self.err(f"{where}.activation", f"unknown activation {_show(act)}; one of {', '.join(_ACTIVATIONS)}")
            srcs = doc.get("inputs")
            pairs = []
            if not isinstance(srcs, dict) or not srcs:
                self.err(f"{where}.inputs", "expected a table of source = \"weight\", e.g. { x = \"w1\" }")
            else:
                for src, w in srcs.items():
                    s = self.ident(src, f"{where}.inputs")
                    w = self.ident(w, f"{where}.inputs.{src}")
                    if s and w:
                        pairs.append((s, w))
            bias = self.ident(doc["bias"], f"{where}.bias") if "bias" in doc else None
            if "net" in doc:
                net = self.ident(doc["net"], f"{where}.net")
                if net and net == name and act is not None and not _is_identity(act):
                    self.err(f"{where}.net", f"{net!r} is the neuron's own name: only an identity neuron may be "
                                             "its own weighted sum; give the sum another name or leave net out")
            elif name and _is_identity(act):
                net = name  # an identity neuron is its own weighted sum: one node, no ·1 factor
            else:
                net = net_name(name) if name else None
            if name:  # kept even when broken, so later checks do not report phantom problems
                out.append(Neuron(name, net or name, act if isinstance(act, str) else "", tuple(pairs), bias))
        return tuple(out)

    def dense(self, doc) -> tuple[tuple, tuple, tuple, tuple]:
        sizes = doc.get("sizes")
        if (not isinstance(sizes, (list, tuple)) or len(sizes) < 2
                or not all(isinstance(s, int) and not isinstance(s, bool) and s > 0 for s in sizes)):
            self.err("dense.sizes", f"expected at least two positive layer sizes, e.g. [2, 2, 2]; got {_show(sizes)}")
            return (), (), (), ()
        if not self.fits(sizes, "dense.sizes"):
            return (), (), (), ()
        self.keys(doc, "dense", ("sizes", "activation", "bias"))
        layers = len(sizes) - 1
        act = doc.get("activation", "sigmoid")
        acts = act if isinstance(act, (list, tuple)) else [act] * layers
        if len(acts) != layers:
            self.err("dense.activation", f"expected one activation or {layers} (one per layer), got {len(acts)}")
            return (), (), (), ()
        for a in acts:
            if not isinstance(a, str) or a not in _ACTIVATIONS:
                self.err("dense.activation", f"unknown activation {_show(a)}; one of {', '.join(_ACTIVATIONS)}")
                return (), (), (), ()
        bias = doc.get("bias", "per_layer")
        if bias not in ("per_layer", "per_neuron", "none"):
            self.err("dense.bias", f"expected per_layer, per_neuron or none; got {_show(bias)}")
            return (), (), (), ()
        settings = [(DENSE, {"size": n, "activation": a, "bias": bias}) for n, a in zip(sizes[1:], acts)]
        return self.expand(sizes[0], settings)

    def fits(self, sizes, where: str) -> bool:
        """A stack of layers of these widths is within the layer form's limits (one line if not)."""
        weights = sum(a * b for a, b in itertools.pairwise(sizes))
        if weights > MAX_LAYER_WEIGHTS or len(sizes) - 1 > MAX_DEPTH:
            self.err(where, f"{weights:,} weights in {len(sizes) - 1} layers: derive takes at most "
                            f"{MAX_LAYER_WEIGHTS:,} weights in the layer form and {MAX_DEPTH} layers "
                            "(see the README's limits)")
            return False
        return True

    def expand(self, width: int, settings) -> tuple[tuple, tuple, tuple, tuple]:
        """Inputs, neurons, default loss outputs and layer records of a stack of layers: each kind's
        settings expanded into scalar neurons with the layered names (naming.LayerNames)."""
        names = LayerNames(len(settings))
        inputs = tuple(names.input(j) for j in range(width))
        prev, neurons, records = inputs, [], []
        for l, (kind, s) in enumerate(settings, start=1):
            names.start(l)
            units = [Neuron(*u) for u in kind.expand(s, prev, names)]
            neurons += units
            biases = tuple(dict.fromkeys(n.bias for n in units if n.bias))
            records.append(Layer(l, kind, NEURON_ACTIVATIONS[s["activation"]], prev, tuple(n.name for n in units),
                                 tuple(n.net for n in units), tuple(tuple(w for _, w in n.inputs) for n in units),
                                 biases, s["bias"]))
            prev = records[-1].outputs
        outputs = tuple((o, names.target(j)) for j, o in enumerate(prev))
        return inputs, tuple(neurons), outputs, tuple(records)

    def show(self, value) -> str:
        return _show(value)

    def activation(self, value, where: str) -> str | None:
        """An activation's name from a spec, or None after saying what is wrong."""
        if not isinstance(value, str) or value not in _ACTIVATIONS:
            self.err(where, f"unknown activation {_show(value)}; one of {', '.join(_ACTIVATIONS)}")
            return None
        return value

    def layered(self, doc) -> tuple[tuple, tuple, tuple, tuple]:
        """A spec of `input = [...]` and [[layer]] tables (each layer counted from 1, as W1, b1 are)."""
        shape = doc.get("input")
        if (not isinstance(shape, (list, tuple)) or not shape
                or not all(isinstance(s, int) and not isinstance(s, bool) and s > 0 for s in shape)):
            self.err("input", f"expected one sample's shape as a list of positive sizes, e.g. input = [4]; "
                              f"got {_show(shape)}")
            return (), (), (), ()
        tables = doc.get("layer")
        if not isinstance(tables, (list, tuple)) or not tables:
            self.err("layer", "expected [[layer]] tables, one per layer, in order from the input")
            return (), (), (), ()
        settings, widths, now, ok = [], [math.prod(shape)], tuple(shape), True
        for l, table in enumerate(tables, start=1):
            where = f"layer[{l}]"
            if not isinstance(table, dict):
                self.err(where, "expected a table")
                ok = False
                continue
            kind = LAYER_KINDS.get(table.get("kind")) if isinstance(table.get("kind"), str) else None
            if kind is None:
                self.err(f"{where}.kind", ("missing" if "kind" not in table else
                                          f"unknown layer kind {_show(table.get('kind'))}")
                         + f"; one of {', '.join(LAYER_KINDS)}")
                ok = False
                continue
            self.keys(table, where, ("kind", *kind.keys))
            read = kind.read(self, table, where, now)
            if read is None:
                ok = False
                continue
            settings.append((kind, read[0]))
            now = read[1]
            widths.append(math.prod(now))
        if not ok or not self.fits(widths, "layer"):
            return (), (), (), ()
        return self.expand(widths[0], settings)

    def loss(self, doc: dict, present: bool, neurons, default_outputs) -> Loss:
        if not present:
            self.err("loss", "missing: add a [loss] table with kind and outputs")
            return Loss("half_sse", ())
        self.keys(doc, "loss", ("kind", "outputs", "name", "l2"))
        l2 = self.number(doc.get("l2", 0.0), "loss.l2")
        if l2 is not None and l2 < 0:
            self.err("loss.l2", "must be 0 or more (λ of the penalty (λ/2)·Σ w²)")
        l2 = l2 if l2 and l2 > 0 else 0.0
        kind = doc.get("kind")
        if not isinstance(kind, str) or kind not in LOSSES:
            self.err("loss.kind", f"unknown loss kind {_show(kind)}; one of {', '.join(LOSSES)}")
            kind = "half_sse"
        name = self.ident(doc.get("name", "L"), "loss.name") or "L"
        outs = doc.get("outputs")
        if outs is None and default_outputs:
            return Loss(kind, default_outputs, name, l2)
        if not isinstance(outs, dict) or not outs:
            self.err("loss.outputs", "expected a table of output neuron = \"target\", e.g. { o1 = \"t1\" }")
            return Loss(kind, (), name, l2)
        neuron_names = {n.name for n in neurons}
        pairs = []
        for o, t in outs.items():
            o_ok = self.ident(o, "loss.outputs")
            t = self.ident(t, f"loss.outputs.{o}")
            if o_ok and o not in neuron_names:
                self.err(f"loss.outputs.{o}", f"{o!r} is not a neuron")
            elif o_ok and t:
                pairs.append((o, t))
        return Loss(kind, tuple(pairs), name, l2)

    def names(self, inputs, neurons, loss, dense=False) -> None:
        """Each name means one thing: an input, a node, a target, the loss, or a parameter."""
        owner: dict[str, str] = {}

        def claim(name, what, where) -> bool:
            if name in owner and owner[name] != what:
                self.err(where, f"{name!r} is already used as {owner[name]}")
            elif name in owner:
                self.err(where, f"{name!r} is already the name of another {what.split()[-1]}")
            else:
                owner[name] = what
                return True
            return False

        for i, x in enumerate(inputs):
            claim(x, "an input", f"inputs[{i}]")
        for i, n in enumerate(neurons):
            if claim(n.name, "a neuron", f"neuron[{i}].name") and n.net != n.name:
                claim(n.net, "a net sum", f"neuron[{i}] ({n.name}).net")
        targets = {}
        for o, t in loss.outputs:
            if t in targets:
                self.err(f"loss.outputs.{o}", f"target {t!r} is already the target of {targets[t]!r}")
                continue
            targets[t] = o
            claim(t, "a target", f"loss.outputs.{o}")
        claim(loss.name, "the loss", "loss.name")
        if dense:  # its weights are w1 … wK, generated: only the names the user chose can be one of them
            count = sum(len(n.inputs) for n in neurons)
            chosen = [(f"loss.outputs.{o}", t, "target") for o, t in loss.outputs] + [("loss.name", loss.name, "loss")]
            for where, name, what in chosen:
                m = re.fullmatch(r"w([1-9][0-9]*)", name)
                if m and int(m[1]) <= count:
                    self.err(where, f"{name!r} is already used as a weight; the {what} needs a name of its own")
        for i, n in enumerate(neurons):
            for src, w in () if dense else n.inputs:
                if w in owner:
                    self.err(f"neuron[{i}] ({n.name}).inputs.{src}",
                             f"weight {w!r} is already used as {owner[w]}; a parameter needs a name of its own")
            if n.bias and n.bias in owner:
                self.err(f"neuron[{i}] ({n.name}).bias",
                         f"bias {n.bias!r} is already used as {owner[n.bias]}; a parameter needs a name of its own")

    def order(self, neurons, inputs, loss) -> tuple[Neuron, ...]:
        """Check every source exists and the graph has no cycle; sort topologically, stably."""
        index = {n.name: i for i, n in enumerate(neurons)}
        for i, n in enumerate(neurons):
            for src, _ in n.inputs:
                if src not in index and src not in inputs:
                    self.err(f"neuron[{i}] ({n.name}).inputs.{src}",
                             f"{src!r} is neither an input nor a neuron")
        if self.problems:
            return neurons
        done, placed, pending = [], set(inputs), list(neurons)
        while pending:
            ready = next((n for n in pending if all(s in placed for s, _ in n.inputs)), None)
            if ready is None:
                cycle = _find_cycle(pending)
                self.err(f"neuron[{index[cycle[0]]}] ({cycle[0]}).inputs",
                         "the neurons form a cycle: " + " -> ".join(cycle + [cycle[0]]))
                return neurons
            done.append(ready)
            placed.add(ready.name)
            pending.remove(ready)
        # every neuron must reach the loss, or its parameters would get a meaningless zero gradient
        reaches = {o for o, _ in loss.outputs}
        for n in reversed(done):
            if n.name in reaches:
                reaches.update(s for s, _ in n.inputs)
        for n in done:
            if n.name not in reaches:
                self.err(f"neuron[{index[n.name]}] ({n.name})",
                         "does not reach the loss: feed it into a neuron or list it in loss.outputs")
        return tuple(done)

    def outputs(self, neurons, loss, field=None) -> None:
        """A softmax is a group of the loss's outputs; a loss that needs an output activation has it.
        `field(neuron, "activation" or "size")` names the layer table that chose it, for layered specs."""
        outputs = [o for o, _ in loss.outputs]
        acts = {n.name: n.activation for n in neurons}
        for key in GROUPS:
            members = [n.name for n in neurons if n.activation == key]
            inner = [m for m in members if m not in outputs]
            if inner and field:
                self.err(field(inner[0], "activation"), f"{key} is for the last layer only (it groups the loss's "
                                                        f"outputs); give the hidden layers another activation")
            elif inner:
                self.err("neuron", f"{inner[0]!r} is a {key} neuron that is not an output: a {key} groups "
                                   "the loss's outputs (list every one of them in loss.outputs)")
            elif readers := [(i, n.name, src) for i, n in enumerate(neurons) for src, _ in n.inputs if src in members]:
                i, reader, src = readers[0]
                self.err(f"neuron[{i}] ({reader}).inputs.{src}",
                         f"{src!r} is a {key} output: it feeds only the loss (each output of a {key} is computed "
                         "from every net of its group at once)")
            elif len(members) == 1:
                self.err(field(members[0], "size") if field else "neuron",
                         f"{members[0]!r} is the only {key} neuron: a {key} needs two outputs or more"
                         + (" (a single sigmoid output with binary_cross_entropy is the two-class case)" if field else ""))
        need = LOSSES[loss.kind].requires if loss.kind in LOSSES else ""
        wrong = [o for o in outputs if need and acts.get(o) != need]
        if wrong:
            self.err("loss.kind", f"{loss.kind} needs {need} outputs, and {wrong[0]!r} is {acts.get(wrong[0])}: "
                                  f"give the outputs activation = \"{need}\"")

    def size(self, neurons) -> None:
        """The documented limits, for networks given as [[neuron]] tables ([dense] checks its sizes)."""
        weights = sum(len(n.inputs) for n in neurons)
        depth: dict[str, int] = {}
        for n in neurons:  # topological order: each source's depth is known
            depth[n.name] = 1 + max((depth.get(s, 0) for s, _ in n.inputs), default=0)
        deepest = max(depth.values(), default=0)
        if weights > MAX_WEIGHTS or len(neurons) > MAX_NEURONS or deepest > MAX_DEPTH:
            self.err("neuron", f"{len(neurons):,} neurons, {weights:,} weights, {deepest} deep: derive takes at most "
                               f"{MAX_NEURONS:,} neurons, {MAX_WEIGHTS:,} weights and {MAX_DEPTH} layers "
                               "(see the README's limits)")

    def values(self, doc, params) -> tuple[tuple[str, float], ...]:
        out = []
        for k, v in doc.items():
            if k not in params:
                self.err(f"values.{k}", f"{k!r} is not a parameter of the network")
            elif (x := self.number(v, f"values.{k}")) is not None:
                out.append((k, x))
        return tuple(out)

    def data(self, doc, inputs, targets) -> tuple[tuple[str, tuple[float, ...]], ...]:
        if not doc:
            return ()
        out, lengths = [], set()
        for k, v in doc.items():
            if k not in inputs and k not in targets:
                self.err(f"data.{k}", f"{k!r} is neither an input nor a target")
                continue
            vals = v if isinstance(v, (list, tuple)) else [v]
            if len(vals) > MAX_SAMPLES:
                self.err(f"data.{k}", f"{len(vals):,} samples: a spec holds at most {MAX_SAMPLES:,} (the generated "
                                      "module trains on any number)")
                continue
            nums = []
            for x in vals:  # the first bad number is reported, not every one
                nums.append(self.number(x, f"data.{k}"))
                if nums[-1] is None:
                    break
            if not vals:
                self.err(f"data.{k}", "expected a number or a non-empty list")
            elif all(x is not None for x in nums):
                out.append((k, tuple(nums)))
                lengths.add(len(nums))
        missing = [n for n in (*inputs, *targets) if n not in doc]
        if missing:
            self.err("data", "missing " + ", ".join(missing) + ": give every input and target")
        if len(lengths) > 1:
            self.err("data", "every entry needs the same number of samples, got " +
                     ", ".join(str(n) for n in sorted(lengths)))
        order = {n: i for i, n in enumerate((*inputs, *targets))}
        return tuple(sorted(out, key=lambda kv: order[kv[0]]))

    def train(self, doc) -> Train:
        self.keys(doc, "train", ("learning_rate", "steps"))
        lr = self.number(doc.get("learning_rate", 0.5), "train.learning_rate")
        if lr is not None and lr <= 0:
            self.err("train.learning_rate", "must be positive")
        steps = doc.get("steps", 1000)
        if isinstance(steps, bool) or not isinstance(steps, int) or not 0 <= steps <= MAX_STEPS:
            self.err("train.steps", f"expected a whole number of steps from 0 to {MAX_STEPS:,}, got {_show(steps)}")
            steps = 0
        return Train(lr if lr else 0.5, steps)

    def distinct(self, names, latex: dict) -> None:
        """Two names typeset alike would read as one quantity in the documents (__proto__ and proto are
        both "proto", _h and h both "h"): an error asking for a [latex] entry."""
        shown: dict[str, str] = {}
        for name in dict.fromkeys(names):
            tex = latex_name(name, latex)
            other = shown.setdefault(tex, name)
            if other != name:
                self.err(f"latex.{name}", f"{other!r} and {name!r} would both be typeset as {tex}: give one of "
                                          "them a [latex] entry")

    def latex(self, doc, known) -> tuple[tuple[str, str], ...]:
        out = []
        for k, v in doc.items():
            if k not in known:
                self.err(f"latex.{k}", f"{k!r} is not a name in the network")
            elif not isinstance(v, str) or not v.strip():
                self.err(f"latex.{k}", f"expected LaTeX text, got {_show(v)}")
            elif why := _latex_problem(v):
                self.err(f"latex.{k}", why)
            else:
                out.append((k, v))
        return tuple(out)


_EMPTY = NetSpec("", (), (), Loss("half_sse", ()))  # returned only alongside problems


def _find_cycle(pending) -> list[str]:
    """A cycle among neurons none of which is ready: follow unplaced sources until one repeats."""
    names = {n.name: n for n in pending}
    path, node = [], pending[0].name
    while node not in path:
        path.append(node)
        node = next(s for s, _ in names[node].inputs if s in names)
    return path[path.index(node):]


def _latex_problem(tex: str) -> str:
    """Why a [latex] value is refused ("" when it is fine): only the harmless subset, balanced braces."""
    if len(tex) > MAX_LATEX:
        return f"too long: at most {MAX_LATEX} characters of LaTeX"
    depth = 0
    for m in _LATEX_TOKEN.finditer(tex):
        command, plain, other = m.groups()
        if command is not None and command not in LATEX_COMMANDS:
            return (f"\\{command} is not allowed here: use letters, digits, _ ^ {{ }} ' and commands such as "
                    "\\alpha, \\mathrm, \\hat, \\bar, \\tilde, \\prime")
        if other is not None:
            return (f"{_clip(other)!r} is not allowed here: use letters, digits, spaces, _ ^ {{ }} ' , ( ) [ ] "
                    "+ - * / . | and a few commands")
        depth += {"{": 1, "}": -1}.get(plain, 0)
        if depth < 0:
            return "a '}' closes a brace that was never opened"
    return "a '{' is never closed" if depth else _latex_structure(tex)


LATEX_TAKES_ARGUMENT = frozenset({"mathrm", "mathit", "mathbf", "mathsf", "mathcal", "hat", "bar", "tilde", "vec",
                                  "dot", "ddot", "check", "breve"})


def _latex_structure(tex: str) -> str:
    """Why balanced, allowed LaTeX would still not typeset ("" when it does): a _ or ^ with nothing
    to apply to, a second subscript or superscript on one base (x_1_2), an accent without its argument."""
    tokens = [m.group(0) for m in _LATEX_TOKEN.finditer(tex) if not m.group(0).isspace()]
    k = 0

    def atom() -> bool:  # one operand: a character, a command (with its argument), or a {group}
        nonlocal k
        if k >= len(tokens) or tokens[k] in ("}", "_", "^"):
            return False
        token = tokens[k]
        k += 1
        if token == "{":
            sequence()
            k += 1  # its "}" (braces are balanced)
        elif token.startswith("\\") and token[1:] in LATEX_TAKES_ARGUMENT and not atom():
            raise ValueError(f"{token} needs an argument, as in {token}{{w}}")
        return True

    def sequence() -> None:
        nonlocal k
        sub = sup = False
        while k < len(tokens) and tokens[k] != "}":
            token = tokens[k]
            if token in ("_", "^", "'"):
                if token == "'":
                    if sup:
                        raise ValueError("a prime after a superscript: write the prime first, as in w'^{2}")
                    k += 1
                    continue
                which = "subscript" if token == "_" else "superscript"
                if (sub if token == "_" else sup):
                    raise ValueError(f"a second {which} on one letter: group them, as in "
                                     + ("x_{1,2}" if token == "_" else "x^{(1)2}"))
                k += 1
                if not atom():
                    raise ValueError(f"a {token} with nothing after it: give its {which}, as in x{token}{{1}}")
                sub, sup = (True, sup) if token == "_" else (sub, True)
            else:
                atom()
                sub = sup = False

    try:
        sequence()
    except ValueError as e:
        return str(e)
    return ""


_SHORT = reprlib.Repr()  # short reprs of a user's values for messages
_SHORT.maxlist, _SHORT.maxstring, _SHORT.maxother, _SHORT.maxlevel = 6, 30, 30, 2


_ACTIVATIONS = NEURON_ACTIVATIONS


def _is_identity(act) -> bool:
    return isinstance(act, str) and act in ACTIVATIONS and ACTIVATIONS[act].unit_slope


def _clip(text: str, limit: int = 40) -> str:
    """A user's text shortened for an error message: one line, no control characters."""
    text = "".join(c if c.isprintable() else "?" for c in text)
    return text if len(text) <= limit else text[:limit] + "…"


def _show(value) -> str:
    if isinstance(value, str):
        return repr(_clip(value))
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) > 10**30:
        return f"a number of about {int(value.bit_length() * 0.30103) + 1} digits"
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, (list, tuple)):
        return _SHORT.repr(list(value)[:8])  # a few items: [2], ['tanh', ...]
    return repr(value)
