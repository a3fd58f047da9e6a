"""Derivation in, standalone NumPy gradient module out (the text of `<name>_gradients.py`).

The module is made from the derivation, not from a run-time autodiff: the forward quantities
once (one line per net sum and activation, arrays over the N samples), each error signal δ once
(from the loss backwards, δ_v = Σ ∂c/∂v · δ_c over v's consumers c, with SymPy's `cse` sharing
common subexpressions), and each gradient as its local partials times the δ they multiply,
summed over samples (`h1 @ delta_net_o1`).  Activations and their derivatives use the
registry's stable NumPy forms (derive/activations.py).  `GradientPrinter` prints the
expressions; templates/gradients.py.j2 lays out the module and contains no math.

>>> import derive
>>> src = module_source(derive.derive(derive.load("examples/qa_chain.toml")))
>>> print(next(line for line in src.splitlines() if "dL_dw1 =" in line).strip())
dL_dw1 = float(x @ delta_z_h)
"""

from __future__ import annotations

import builtins
import keyword
from dataclasses import dataclass
from pathlib import Path

import jinja2
import sympy as sp

from . import codegen_layers as _layers
from .activations import ACTIVATIONS, LOSSES
from .codegen_layers import layers, plan
from .derivation import Derivation, delta_symbol
from .graph import symbol
from .numpy_printer import GradientPrinter
from .printing import text
from .resources import templates_dir

__all__ = ["RESERVED", "load_module", "module_source", "python_names"]

TEMPLATES = templates_dir()  # templates/ in a checkout, the package data derive.templates when installed

# Names the template's own code uses inside or around the functions that also hold the
# network's names; a user's name equal to one of these gets a trailing underscore.
RESERVED = frozenset({
    "np", "numpy", "params", "data", "grads", "learning_rate", "steps", "callback", "freeze", "frozen",
    "history", "value", "want_loss", "n", "k", "p", "names", "arrays", "shapes", "unknown", "exc",
    "PARAMETERS", "INPUTS", "TARGETS", "LOSS", "REDUCTION", "INITIAL", "DATA", "LEARNING_RATE", "STEPS",
    "forward", "loss", "gradients", "step", "train", "_samples", "_frozen", "_backprop",
}) | frozenset(n for n in dir(builtins) if not n.startswith("_"))

_LINE = 100  # wrap long sums at about this many characters


@dataclass(frozen=True)
class Line:
    """One assignment in a generated function: `target = code`, with an optional comment above."""

    target: str
    code: str
    comment: str = ""


def python_names(d: Derivation) -> dict[str, str]:
    """Each of the network's names as a safe Python identifier, in a fixed order.

    A name stays as it is unless it is a keyword or one of the template's own names
    (`RESERVED`); then it gets underscores until it is free.

    >>> import derive
    >>> spec = derive.loads('''
    ... name = "k"
    ... inputs = ["lambda"]
    ... [[neuron]]
    ... name = "data"
    ... activation = "tanh"
    ... inputs = { lambda = "w" }
    ... [loss]
    ... kind = "sse"
    ... outputs = { data = "t" }
    ... ''')
    >>> python_names(derive.derive(spec))["lambda"], python_names(derive.derive(spec))["data"]
    ('lambda_', 'data_')
    """
    return dict(_Builder(d).namer.table)


class _Namer:
    """Hands out identifiers that are not keywords, not reserved and not yet taken."""

    def __init__(self):
        self.table: dict[str, str] = {}
        self.taken: set[str] = set()

    def claim(self, key: str, wanted: str) -> str:
        if key in self.table:
            return self.table[key]
        name = wanted
        while keyword.iskeyword(name) or name in RESERVED or name in self.taken or not name.isidentifier():
            name += "_"
        self.taken.add(name)
        self.table[key] = name
        return name


def module_source(d: Derivation) -> str:
    """The whole text of the network's `<name>_gradients.py`, byte-identical for the same spec."""
    return _Builder(d).render()


class _Builder:
    """Turns one Derivation into the lists of lines the template lays out."""

    def __init__(self, d: Derivation):
        self.d = d
        self.spec = d.spec
        self.loss_kind = LOSSES[self.spec.loss.kind]
        self.namer = _Namer()
        for name in (*d.parameters, *self.spec.inputs, *self.spec.targets, *(eq.name for eq in d.equations)):
            self.namer.claim(name, name)
        self.py = dict(self.namer.table)  # user name -> Python name
        for eq in d.equations:
            self.py[delta_symbol(eq.name).name] = self.namer.claim("δ " + eq.name, "delta_" + self.py[eq.name])
        for p in d.parameters:
            self.namer.claim("∂ " + p, "dL_d" + self.py[p])
        self.n = "n"  # the sample count, reserved
        self.printer = GradientPrinter(self.py, {"order": "none"})

    # -- pieces ---------------------------------------------------------------------------------

    def code(self, expr: sp.Expr) -> str:
        return self.printer.doprint(expr)

    def forward_lines(self) -> list[Line]:
        lines = []
        for eq in self.d.equations[:-1]:
            if eq.kind == "net":
                terms = [self.code(sp.Mul(symbol(w), symbol(src), evaluate=False)) for w, src in eq.terms]
                if eq.bias:
                    terms.append(self.py[eq.bias])
                lines.append(Line(self.py[eq.name], _join(terms, 8 + len(self.py[eq.name]) + 3)))
            else:
                act = ACTIVATIONS[eq.activation]
                lines.append(Line(self.py[eq.name], act.numpy.format(z=self.py[eq.args[0]])))
        return lines

    def loss_line(self) -> Line:
        eq = self.d.equations[-1]
        return Line(self.py[eq.name], self.code(eq.expr),
                    f"{eq.name} per sample: {self.loss_kind.description}")

    def backward_lines(self) -> list[Line]:
        """δ for every node from the loss backwards, each once; activation partials named."""
        d, loss = self.d, self.d.loss
        partial_lines: dict[str, Line] = {}  # net -> the line computing its activation's slope
        targets, exprs, comments = [], [], []
        for dl in d.deltas:
            if dl.is_loss:
                continue
            terms = []
            for e in dl.terms:
                if e.kind == "activation":
                    act = ACTIVATIONS[d.equation(e.dst).activation]
                    if act.derivative(symbol(e.src), symbol(e.dst)) == 1:
                        factor = sp.Integer(1)
                    else:
                        name = self.namer.claim(f"∂ {e.dst}/{e.src}", f"d{self.py[e.dst]}_d{self.py[e.src]}")
                        self.py[name] = name
                        factor = sp.Symbol(name)
                        partial_lines[name] = Line(name, act.numpy_derivative.format(
                            z=self.py[e.src], a=self.py[e.dst]), f"∂{e.dst}/∂{e.src} = {text(e.display)}")
                elif e.kind == "loss":
                    factor = sp.factor_terms(e.partial)  # 2*(o1 - t1): one subtraction, one product
                else:
                    factor = e.partial
                terms.append(factor if e.dst == loss else sp.Mul(factor, delta_symbol(e.dst), evaluate=False))
            targets.append(delta_symbol(dl.node))
            exprs.append(sp.Add(*terms, evaluate=False) if len(terms) > 1 else terms[0])
            shown = " + ".join(_term_text(e.display if e.kind == "loss" else e.partial,
                                          "" if e.dst == loss else "δ_" + e.dst) for e in dl.terms)
            comments.append(f"δ_{dl.node} = ∂{loss}/∂{dl.node} = {shown}")
        temps = sp.numbered_symbols("cse")
        shared, reduced = sp.cse(exprs, symbols=_Fresh(self.namer, self.py, temps), order="none")
        temps_used = {s for s, _ in shared}
        # where cse found nothing to share, keep the terms in the derivation's order
        reduced = [r if r.free_symbols & temps_used else e for e, r in zip(exprs, reduced)]
        return _place(shared, list(zip(targets, reduced, comments)), partial_lines, self)

    def gradient_lines(self) -> list[Line]:
        lines = []
        mean = self.loss_kind.reduction == "mean"
        for p, uses in self.d.gradient_terms:
            parts = []
            for e in uses:
                delta = self.py[delta_symbol(e.dst).name]
                # `a @ b` of two 1-D arrays is their dot product (np.dot can be far slower: it
                # starts BLAS threads for a sum that memory bandwidth limits anyway)
                partial = self.code(e.partial) if e.partial.is_Symbol else f"({self.code(e.partial)})"
                parts.append(f"np.sum({delta})" if e.partial == 1 else f"{partial} @ {delta}")
            total = " + ".join(parts)
            if mean:
                total = f"({total}) / {self.n}" if len(parts) > 1 else f"{total} / {self.n}"
            avg = "(1/N) Σ_n" if mean else "Σ_n"
            rule = " + ".join(_term_text(e.partial, "δ_" + e.dst) for e in uses)
            comment = f"∂{self.d.loss}/∂{p} = {avg} {f'({rule})' if len(uses) > 1 else rule}"
            lines.append(Line(self.namer.table["∂ " + p], f"float({total})", comment))
        return lines

    # -- the module -----------------------------------------------------------------------------

    def render(self) -> str:
        spec, d = self.spec, self.d
        blocks = layers(d, _layers.MIN_WIDTH)
        if blocks:
            forward, nodes, backward, gradients = plan(self, blocks)
        else:
            backward = self.backward_lines()  # first: it names the activation partials and temporaries
            forward, gradients = self.forward_lines(), self.gradient_lines()
            nodes = [(eq.name, self.py[eq.name]) for eq in d.equations[:-1]]
        used = tuple(dict.fromkeys(eq.activation for eq in d.equations if eq.kind == "act")) or ()
        identity_only = not used
        notes = [ACTIVATIONS[a].derivative_note for a in used]
        if identity_only:
            notes = [ACTIVATIONS["identity"].derivative_note]
        env = _environment()
        return env.get_template("gradients.py.j2").render(
            name=spec.name,
            title=_doc_text(spec.title),
            source=_doc_text(Path(spec.source).name),
            loss=d.loss,
            loss_description=self.loss_kind.description,
            mean=self.loss_kind.reduction == "mean",
            notes=notes,
            parameters=[(p, self.py[p]) for p in d.parameters],
            inputs=[(x, self.py[x]) for x in spec.inputs],
            targets=[(t, self.py[t]) for t in spec.targets],
            nodes=nodes,
            initial=[(k, repr(float(v))) for k, v in sorted(spec.values, key=lambda kv: d.parameters.index(kv[0]))],
            data=[(k, "[" + ", ".join(repr(float(x)) for x in v) + "]") for k, v in spec.data],
            learning_rate=repr(float(spec.train.learning_rate)),
            steps=spec.train.steps,
            forward=forward,
            loss_line=self.loss_line(),
            backward=backward,
            gradients=gradients,
            grad_names=[(p, self.namer.table["∂ " + p]) for p in d.parameters],
            unpack_inputs=_tuple([self.py[x] for x in spec.inputs], 4),
            unpack_leaves=_tuple([self.py[x] for x in (*spec.inputs, *spec.targets)], 4),
            first_leaf=self.py[spec.inputs[0]],
        )


class _Fresh:
    """cse's symbol supply: numbered temporaries that the namer has confirmed are free."""

    def __init__(self, namer: _Namer, py: dict, numbered):
        self.namer, self.py, self.numbered = namer, py, numbered

    def __iter__(self):
        return self

    def __next__(self):
        s = next(self.numbered)
        name = self.namer.claim("cse " + s.name, s.name)
        self.py[s.name] = name
        return s


def _place(shared, deltas, partial_lines, b: _Builder) -> list[Line]:
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
            elif s.name in partial_lines and s.name not in done:
                done.add(s.name)
                lines.append(partial_lines[s.name])

    for target, expr, comment in deltas:
        need(expr)
        code = _join_expr(b, expr, 8 + len(b.py[target.name]) + 3)
        lines.append(Line(b.py[target.name], code, comment))
    return lines


def _join_expr(b: _Builder, expr: sp.Expr, indent: int) -> str:
    if isinstance(expr, sp.Add):
        return _join([b.code(t) for t in expr.args], indent)
    return b.code(expr)


def _join(terms: list[str], indent: int) -> str:
    """A sum of printed terms, wrapped inside parentheses when it grows past the line length."""
    out = terms[0]
    for t in terms[1:]:
        out += f" - {t[1:]}" if t.startswith("-") else f" + {t}"
    if indent + len(out) <= _LINE:
        return out
    rows, row = [], terms[0]
    for t in terms[1:]:
        piece = f"- {t[1:]}" if t.startswith("-") else f"+ {t}"
        if len(row) + 1 + len(piece) > _LINE - indent:
            rows.append(row)
            row = piece
        else:
            row += " " + piece
    rows.append(row)
    pad = "\n" + " " * (indent + 1)
    return "(" + pad.join(rows) + ")"


def _term_text(factor: sp.Expr, delta: str) -> str:
    """One term of a chain-rule sum for a comment: `w5·δ_net_o1`, `(o1 - t1)`, `δ_net_h1`."""
    if not delta:
        return text(factor)
    if factor == 1:
        return delta
    shown = text(factor)
    return f"({shown})·{delta}" if isinstance(factor, sp.Add) else f"{shown}·{delta}"


def _key(name: str) -> str:
    """A name as a Python string literal (names are identifiers, so plain double quotes suffice)."""
    return f'"{name}"' if name.isidentifier() else repr(name)


def _tuple_literal(names) -> str:
    keys = [_key(n) for n in names]
    return f"({keys[0]},)" if len(keys) == 1 else "(" + ", ".join(keys) + ")"


def _tuple(names: list[str], indent: int) -> str:
    """Assignment targets for unpacking: `(x,)`, `x1, x2`, or a wrapped parenthesized tuple."""
    if len(names) == 1:
        return f"({names[0]},)"
    flat = ", ".join(names)
    if indent + len(flat) <= _LINE - 40:
        return flat
    rows, row = [], names[0] + ","
    for name in names[1:]:
        if len(row) + 1 + len(name) + 1 > _LINE - indent:
            rows.append(row)
            row = name + ","
        else:
            row += " " + name + ","
    rows.append(row)
    return "(" + ("\n" + " " * (indent + 1)).join(rows) + ")"


def _doc_text(s: str) -> str:
    """Text safe inside a triple-quoted docstring: backslashes and quotes escaped, one line."""
    return " ".join(s.replace("\\", "\\\\").replace('"', '\\"').split())


def _environment() -> jinja2.Environment:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(TEMPLATES)), undefined=jinja2.StrictUndefined,
                             trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True,
                             autoescape=False)
    env.filters["key"] = _key
    env.filters["tuple"] = _tuple_literal
    return env


def load_module(d: Derivation):
    """The generated module, compiled and imported in memory (for `derive train` and the tests).

    The source is derive's own template: the network's names enter it only as checked
    identifiers and quoted string literals, never as code.

    >>> import derive
    >>> m = load_module(derive.derive(derive.load("examples/mazur.toml")))
    >>> round(m.loss(m.INITIAL, m.DATA), 9)
    0.298371109
    """
    import types

    name = f"{d.spec.name}_gradients"
    module = types.ModuleType(name)
    module.__file__ = f"<{name}.py>"
    exec(compile(module_source(d), module.__file__, "exec"), module.__dict__)  # noqa: S102 -- our template
    return module
