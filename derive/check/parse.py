"""Read one chain-rule equation written in LaTeX: derive's own small parser, no eval anywhere.

What it reads (the notation learners and textbooks use)::

    equation := expr "=" expr
    expr     := ["+"|"-"] product (("+"|"-") product)*
    product  := power (["\\cdot"|"\\times"|"*"|"/"] power)*        (a space is a product too)
    power    := atom ["^" atom]
    atom     := number | name | "(" expr ")" | "{" expr "}" | derivative | function "(" expr ")"
              | "\\frac{" expr "}{" expr "}" | "e^" atom
    derivative := "\\frac{\\partial" name "}{\\partial" name "}" | "\\partial" name "/" "\\partial" name
                | "\\frac{d" name "}{d" name "}" | "\\frac{dname}{dname}"
                | "d" name "/" "d" name        (dSSR/dw1, dSSR/d(predicted): the seed article's inline form)
    name     := word ["_" (word | number | "{" ... "}")] ["'" | "^{\\prime}"]
    function := \\sigma | \\tanh | \\exp | \\log | \\ln | softplus  (a prime: the derivative)

Unicode ∂ σ · × − are read as their LaTeX commands; $, \\left, \\right, \\, and friends are
ignored.  The result is a small syntax tree of frozen dataclasses.  `product_terms` expands it
into a sum of products (distributing parentheses), and `to_sympy` builds SymPy expressions
for the non-derivative factors from `Symbol`s a caller resolves: no user text ever reaches
eval, exec, sympify or parse_expr.

>>> eq = parse(r"\\frac{\\partial L}{\\partial w_{1}} = \\partial h_1/\\partial w_1 \\cdot w_5 (1 - h_1)")
>>> eq.lhs.num.exact, eq.lhs.den.exact
('L', 'w_1')
>>> [[f.__class__.__name__ for f in t] for t in product_terms(eq.rhs)]
[['Derivative', 'Name', 'Group']]
"""

from __future__ import annotations

import difflib
import itertools
import operator
import re
from collections.abc import Callable
from dataclasses import dataclass

import sympy as sp

from ..core.naming import GREEK
from ..core.ops import ACTIVATIONS

__all__ = ["FUNCTIONS", "MAX_TERMS", "Derivative", "EquationError", "Name", "Number", "Parsed",
           "contains_derivative", "parse", "parse_name", "product_terms", "to_sympy"]

MAX_TERMS = 4096  # a product of sums expands to at most this many terms


class EquationError(ValueError):
    """The equation cannot be read; `str()` is one line saying where reading stopped."""

    def __init__(self, message: str, pos: int, text: str):
        self.message, self.pos, self.text = message, pos, text
        super().__init__(f"{message} (reading stopped at character {pos + 1}: {_context(text, pos)})")


def _context(text: str, pos: int) -> str:
    # one line, and no control characters: the context is echoed to a terminal
    flat = "".join(c if c.isprintable() else " " if c in "\n\r\t" else "?" for c in text)
    if not flat.strip():
        return "(empty)"
    start = max(0, pos - 30)
    before = ("…" if start else "") + flat[start:pos]
    after = flat[pos:pos + 20] + ("…" if pos + 20 < len(flat) else "")
    return f"{before}⟨here⟩{after}" if after or before else "(empty)"


# -- tokens ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Tok:
    kind: str  # "cmd", "word", "num", or the character itself for punctuation
    text: str
    pos: int


_UNICODE = {"∂": ("cmd", "partial"), "σ": ("cmd", "sigma"), "·": ("*", "*"), "⋅": ("*", "*"),
            "×": ("*", "*"), "−": ("-", "-"), "–": ("-", "-"), "′": ("'", "'"), "∙": ("*", "*")}
_SKIP_CMDS = {"left", "right", "big", "Big", "bigg", "Bigg", "bigl", "bigr", "Bigl", "Bigr",
              "biggl", "biggr", "displaystyle", "textstyle", "limits", "nolimits", "quad", "qquad"}
# commands that are punctuation: a product's dot, and braces or brackets written as text (\{ \lbrack)
_CMD_PUNCT = {"cdot": "*", "times": "*", "ast": "*", "lbrace": "(", "lbrack": "(", "{": "(",
              "rbrace": ")", "rbrack": ")", "}": ")"}
_FONT = {"mathit", "mathrm", "text", "textit", "textrm", "mathbf", "operatorname", "mathsf", "boldsymbol",
         "mathcal", "mathscr"}
# accents over a name: \hat{w}_1 is the name w_1 as the spec's [latex] table may typeset it
_DECOR = {"hat", "bar", "tilde", "vec", "dot", "ddot", "check", "breve", "widehat", "widetilde", "overline"}
_UNREAD = {"sum", "prod", "int", "sqrt[", "lim", "nabla"}  # notation this reader does not take apart
MAX_DIGITS = 100  # a longer number is refused, not computed with
MAX_FACTORS = 64  # factors in one product
MAX_LENGTH = 20_000  # characters in one equation
_SUPERSCRIPT = {c: str(k) for k, c in enumerate("⁰¹²³⁴⁵⁶⁷⁸⁹")}  # x² is x^2
_FRAC = {"frac", "dfrac", "tfrac"}
_WORD = re.compile(r"[A-Za-z][A-Za-z0-9]*")
_NUM = re.compile(r"\d+(\.\d+)?|\.\d+")
_CMD = re.compile(r"\\([A-Za-z]+|[{}])")


def tokenize(text: str) -> list[Tok]:
    if len(text) > MAX_LENGTH:
        raise EquationError(f"the equation is longer than {MAX_LENGTH:,} characters", 0, text[:80])
    out: list[Tok] = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c.isspace() or c in "$&":
            i += 1
        elif c == "\\":
            m = _CMD.match(text, i)
            if m:
                name = m.group(1)
                if name in _CMD_PUNCT:
                    out.append(Tok(_CMD_PUNCT[name], _CMD_PUNCT[name], i))
                elif name not in _SKIP_CMDS:
                    out.append(Tok("cmd", name, i))
                i = m.end()
            else:  # \, \; \! \: \  \\ and a display's \[ \]: spacing and delimiters only
                i += 2
        elif c in _UNICODE:
            out.append(Tok(*_UNICODE[c], i))
            i += 1
        elif c.isascii() and c.isalpha():
            m = _WORD.match(text, i)
            out.append(Tok("word", m.group(0), i))
            i = m.end()
        elif c in "0123456789" or (c == "." and i + 1 < n and text[i + 1] in "0123456789"):
            m = _NUM.match(text, i)
            if len(m.group(0)) > MAX_DIGITS:
                raise EquationError(f"a number of more than {MAX_DIGITS} digits", i, text)
            out.append(Tok("num", m.group(0), i))
            i = m.end()
        elif c in _SUPERSCRIPT:
            out += [Tok("^", "^", i), Tok("num", _SUPERSCRIPT[c], i)]
            i += 1
        elif c in "{}()[]+-*/^_=',":
            out.append(Tok({"[": "(", "]": ")"}.get(c, c), c, i))
            i += 1
        else:
            raise EquationError(f"unexpected character {c!r}", i, text)
    return out


# -- the syntax tree ---------------------------------------------------------------------------

@dataclass(frozen=True)
class Name:
    """A name as written, canonicalised: w_{1} -> 'w_1', \\mathit{net}_{h1} -> 'net_h1', y^{\\prime} -> "y'"."""

    exact: str
    pos: int

    @property
    def loose(self) -> str:
        return self.exact.replace("_", "")


@dataclass(frozen=True)
class Derivative:
    num: Name
    den: Name
    pos: int
    end: int


@dataclass(frozen=True)
class Number:
    value: sp.Rational
    pos: int
    end: int


@dataclass(frozen=True)
class Group:
    """Anything else: a sum, product, quotient, power or function call; `op` says which."""

    op: str  # "+", "*", "/", "^", "neg", or a function key ("sigma", "sigma'", ...)
    args: tuple
    pos: int
    end: int
    paren: bool = False  # written in parentheses or braces


@dataclass(frozen=True)
class Parsed:
    lhs: object
    rhs: object
    text: str


# Functions a learner writes in an evaluated factor, from z: each activation as the registry spells
# it (a prime: its derivative), and the logarithm.
def _functions() -> dict[str, Callable[[sp.Expr], sp.Expr]]:
    out: dict[str, Callable[[sp.Expr], sp.Expr]] = {"log": sp.log, "ln": sp.log}
    for act in ACTIVATIONS.values():
        for word in act.spellings:
            out[word] = act.function
            out[word + "'"] = lambda z, act=act: act.derivative(z, act.function(z))
    return out


FUNCTIONS = _functions()
_FUNC_WORDS = {k for k in FUNCTIONS if not k.endswith("'")}
# every command this reader understands: anything else is reported by name, with a suggestion
_KNOWN = (GREEK | _FONT | _DECOR | _FRAC | _UNREAD | _SKIP_CMDS | _FUNC_WORDS | set(_CMD_PUNCT)
          | {"partial", "prime", "sqrt", "operatorname"})


def span(node) -> tuple[int, int]:
    return node.pos, (node.pos + 1 if isinstance(node, Name) else node.end)


class _Parser:
    def __init__(self, text: str):
        self.text, self.toks, self.i = text, tokenize(text), 0

    # token helpers
    def peek(self, k: int = 0) -> Tok | None:
        j = self.i + k
        return self.toks[j] if j < len(self.toks) else None

    def at(self, kind: str, text: str | None = None, k: int = 0) -> bool:
        t = self.peek(k)
        return t is not None and t.kind == kind and (text is None or t.text == text)

    def here(self) -> int:
        t = self.peek()
        return t.pos if t else len(self.text)

    def last_end(self) -> int:
        t = self.toks[self.i - 1]
        return t.pos + len(t.text) if t.kind != "cmd" else t.pos + len(t.text) + 1

    def fail(self, message: str, pos: int | None = None):
        raise EquationError(message, self.here() if pos is None else pos, self.text)

    def take(self, kind: str, what: str) -> Tok:
        t = self.peek()
        if t is None or t.kind != kind:
            found = "the end of the equation" if t is None else repr(t.text if t.kind != "cmd" else "\\" + t.text)
            self.fail(f"expected {what}, found {found}")
        self.i += 1
        return t

    # grammar
    def equation(self) -> Parsed:
        if not self.toks:
            self.fail("the equation is empty", 0)
        lhs = self.expr("the left side")
        if not self.at("="):
            self.fail("no '=': write the equation as ∂L/∂θ = a sum of products" if self.peek() is None
                      else "expected '=' or an operator")
        self.i += 1
        if self.peek() is None:
            self.fail("the right side is empty")
        rhs = self.expr("the right side")
        if (t := self.peek()) is not None:
            if t.kind == "=":
                self.fail("a second '=': give one equation ∂L/∂θ = …")
            if t.kind in ")}":
                self.fail(f"unbalanced {t.text!r}: nothing opened it")
            self.fail(f"unexpected {t.text!r}")
        return Parsed(lhs, rhs, self.text)

    def expr(self, where: str = "an expression"):
        start, terms, sign = self.here(), [], "+"
        while not terms or self.at("+") or self.at("-"):
            if self.at("+") or self.at("-"):
                sign = self.take(self.peek().kind, "a sign").kind
            if not self.starts_atom():
                self.fail("a term is missing after the sign" if terms or sign == "-" else f"{where} is missing")
            t = self.product()
            terms.append(t if sign == "+" else Group("neg", (t,), *span(t)))
        return terms[0] if len(terms) == 1 else Group("+", tuple(terms), start, self.last_end())

    def starts_atom(self) -> bool:
        t = self.peek()
        return t is not None and t.kind in ("num", "word", "(", "{", "cmd")

    def product(self):
        start = self.here()
        factors = [self.power()]
        while True:
            if self.at("*"):
                self.i += 1
                factors.append(self.signed())
            elif self.at("/"):
                self.i += 1
                den = self.signed()
                num = factors.pop()  # a b / c = a (b / c): only the last factor is divided
                factors.append(Group("/", (num, den), span(num)[0], self.last_end()))
            elif self.starts_atom():
                factors.append(self.power())
            else:
                return factors[0] if len(factors) == 1 else Group("*", tuple(factors), start, self.last_end())

    def signed(self):
        """A factor after an explicit · or /, which may carry its own sign: a · −(t − o)."""
        if self.at("-") or self.at("+"):
            sign = self.take(self.peek().kind, "a sign")
            inner = self.signed()
            return inner if sign.kind == "+" else Group("neg", (inner,), sign.pos, span(inner)[1])
        return self.power()

    def power(self):
        start = self.here()
        base = self.atom()
        while self.at("^"):
            self.i += 1
            if self.at("-"):  # x^-1
                self.i += 1
                e = self.atom()
                exp = Group("neg", (e,), *span(e))
            else:
                exp = self.atom()
            base = Group("^", (base, exp), start, self.last_end())
        return base

    def group(self, close: str):
        self.i += 1  # the opening token
        opened = self.toks[self.i - 1]
        if self.at(close):
            self.fail("empty " + ("braces" if close == "}" else "parentheses"))
        inner = self.expr("the inside")
        if not self.at(close):
            if self.peek() is None:
                self.fail(f"unbalanced {opened.text!r}: the one at character {opened.pos + 1} is never closed",
                          len(self.text))
            self.fail(f"expected {close!r} to close the {opened.text!r} at character {opened.pos + 1}")
        self.i += 1
        return inner

    def atom(self):
        t = self.peek()
        if t is None:
            self.fail("the equation ends where a factor should be")
        if t.kind == "num":
            self.i += 1
            return Number(sp.Rational(t.text), t.pos, t.pos + len(t.text))
        if t.kind in ("(", "{"):
            inner = self.group(")" if t.kind == "(" else "}")
            return _wrap(inner, t.pos, self.last_end())
        if t.kind == "cmd":
            if t.text in _FRAC:
                return self.frac()
            if t.text == "partial":
                return self.inline_partial()
            if t.text in _FUNC_WORDS or t.text == "operatorname" and self._operator_function():
                return self.function()
            if t.text in _UNREAD:
                self.fail(f"\\{t.text} is not read here: write the terms out, ∂L/∂θ = a sum of products")
            if t.text == "sqrt":
                self.i += 1
                if not self.at("{"):
                    self.fail("expected '{' after \\sqrt")
                arg = self.group("}")
                return Group("^", (arg, Number(sp.Rational(1, 2), t.pos, t.pos)), t.pos, self.last_end())
            if t.text in _FONT or t.text.isalpha():
                return self.name()
        if t.kind == "word":
            if t.text in _FUNC_WORDS and (self.at("(", k=1) or self.at("'", k=1)):
                return self.function()
            if t.text.startswith("d"):
                d = self.inline_d()
                if d is not None:
                    return d
            if t.text == "e" and self.at("^", k=1):
                self.i += 2
                return Group("exp", (self.atom(),), t.pos, self.last_end())
            return self.name()
        if t.kind in ")}":
            self.fail(f"unbalanced {t.text!r}: nothing opened it")
        if t.kind == "=":
            self.fail("a factor is missing before '='")
        self.fail(f"unexpected {t.text!r}")

    def _operator_function(self) -> bool:
        return self.at("{", k=1) and self.at("word", k=2) and self.peek(2).text in _FUNC_WORDS and self.at("}", k=3)

    def function(self):
        t = self.peek()
        start = t.pos
        spelled_out = t.kind == "cmd" and t.text == "operatorname"  # \operatorname{softplus}
        key = self.peek(2).text if spelled_out else t.text
        self.i += 4 if spelled_out else 1
        primes = 0
        while self.at("'") or (self.at("^") and (self.at("cmd", "prime", k=1)
                                                 or self.at("{", k=1) and self.at("cmd", "prime", k=2))):
            if self.at("'"):
                self.i += 1
            elif self.at("cmd", "prime", k=1):  # \sigma^\prime
                self.i += 2
            else:
                self.i += 3
                self.take("}", "'}' after \\prime")
            primes += 1
        if primes > 1 or (primes and key + "'" not in FUNCTIONS):
            self.fail(f"a derivative of {key} written with primes is not understood here", start)
        power = None
        if self.at("^"):  # \tanh^{2}(z): the square of the function's value
            self.i += 1
            power = self.atom()
        if key == "sigma" and power is None and not (self.at("(") or self.at("{")):
            return Name("sigma", start)  # \sigma alone is a name, not the function
        if not (self.at("(") or self.at("{")):
            self.fail(f"expected '(' after {key}")
        arg = self.group(")" if self.at("(") else "}")
        call = Group(key + "'" * primes, (arg,), start, self.last_end())
        return call if power is None else Group("^", (call, power), start, self.last_end())

    def frac(self):
        """\\frac{a}{b}; a derivative when a is a differential (\\frac{\\partial a}{\\partial b})."""
        start = self.peek().pos
        self.i += 1
        if not self.at("{"):
            self.fail("expected '{' after \\frac")
        brace = self.i
        self.i += 1
        num = self._differential()
        derivative = num is not None
        if derivative:
            self.take("}", "'}' after the numerator's name")
        else:  # a plain fraction: read the numerator again, as an expression
            self.i = brace
            num = self.group("}")
        if not self.at("{"):
            self.fail("expected '{' for the denominator of \\frac")
        if not derivative:
            return Group("/", (num, self.group("}")), start, self.last_end())
        self.i += 1
        den = self._differential()
        if den is None:
            self.fail("the numerator is a derivative (∂ or d) but the denominator is not")
        self.take("}", "'}' after the denominator's name")
        return Derivative(num, den, start, self.last_end())

    def _differential(self) -> Name | None:
        """∂name, d name or dname; None (having consumed nothing useful) if not a differential."""
        t = self.peek()
        if t is None:
            return None
        if t.kind == "cmd" and t.text == "partial":
            self.i += 1
            return self.name()
        if t.kind == "word" and t.text == "d" and (self.at("word", k=1) or self.at("cmd", k=1)):
            self.i += 1
            return self.name()
        if t.kind == "word" and t.text == "d" and self.at("(", k=1):  # d(predicted), as the seed article writes
            self.i += 2
            n = self.name()
            self.take(")", "')' after the name in d(…)")
            return n
        if t.kind == "word" and t.text.startswith("d") and len(t.text) > 1 and t.text[1].isalpha():
            # "dE_total": split the d off the word, then read the rest as a name
            rest = Tok("word", t.text[1:], t.pos + 1)
            self.toks[self.i] = rest
            try:
                return self.name()
            except EquationError:
                self.toks[self.i] = t
                return None
        return None

    def inline_d(self):
        """dSSR/dw1 or dSSR/d(predicted) written inline; None (nothing consumed) if it is not that."""
        start, saved, toks = self.peek().pos, self.i, list(self.toks)
        try:
            num = self._differential()
            if num is not None and self.at("/"):
                self.i += 1
                den = self._differential()
                if den is not None:
                    return Derivative(num, den, start, self.last_end())
        except EquationError:
            pass
        self.i, self.toks = saved, toks
        return None

    def inline_partial(self):
        start = self.peek().pos
        self.i += 1
        num = self.name()
        self.take("/", "'/' in ∂a/∂b")
        if not self.at("cmd", "partial"):
            self.fail("expected ∂ (\\partial) after '/' in ∂a/∂b")
        self.i += 1
        den = self.name()
        return Derivative(num, den, start, self.last_end())

    def name(self) -> Name:
        t = self.peek()
        if t is None:
            self.fail("expected a name")
        base = self._word()
        sub, primes = "", ""
        while True:
            if self.at("_") and not primes:  # b_h1_1: several underscores, as in a spec's own names
                self.i += 1
                sub += ("_" if sub else "") + self._subscript()
            elif self.at("'"):
                self.i += 1
                primes += "'"
            elif self.at("^") and self.at("{", k=1) and self.at("cmd", "prime", k=2) and self.at("}", k=3):
                self.i += 4
                primes += "'"
            elif self.at("^") and self.at("cmd", "prime", k=1):
                self.i += 2
                primes += "'"
            else:
                break
        return Name(base + ("_" + sub if sub else "") + primes, t.pos)

    def _word(self) -> str:
        t = self.peek()
        if t.kind == "word":
            self.i += 1
            return t.text
        if t.kind == "cmd" and t.text in _FONT:
            self.i += 1
            self.take("{", "'{' after \\" + t.text)
            parts = []
            while not self.at("}"):
                u = self.peek()
                if u is None:
                    self.fail(f"unbalanced '{{' after \\{t.text}: it is never closed", len(self.text))
                if u.kind not in ("word", "num", "_"):
                    self.fail(f"expected a name inside \\{t.text}{{…}}")
                parts.append(u.text)
                self.i += 1
            self.i += 1
            if not parts:
                self.fail(f"empty \\{t.text}{{}}")
            return "".join(parts)
        if t.kind == "cmd" and t.text in _DECOR:  # \hat{w}: the name under the accent
            self.i += 1
            self.take("{", "'{' after \\" + t.text)
            base = self._word()
            self.take("}", f"'}}' to close \\{t.text}{{…}}")
            return base
        if t.kind == "cmd" and t.text in GREEK:
            self.i += 1
            return t.text  # \beta, \alpha: a Greek name
        if t.kind == "cmd" and t.text not in _KNOWN:
            close = difflib.get_close_matches(t.text, sorted(_KNOWN), n=1)
            self.fail(f"unknown command \\{t.text}" + (f": did you mean \\{close[0]}?" if close else ""))
        self.fail("expected a name")

    def _subscript(self) -> str:
        t = self.peek()
        if t is None or t.kind not in ("word", "num", "cmd", "{"):
            self.fail("expected a subscript after '_'")
        if t.kind in ("word", "num"):
            self.i += 1
            return t.text
        if t.kind == "cmd":
            return self._word()
        self.i += 1
        parts, depth = [], 0
        while True:
            u = self.peek()
            if u is None:
                self.fail(f"unbalanced '{{' at character {t.pos + 1}: the subscript is never closed", len(self.text))
            if u.kind == "}" and depth == 0:
                self.i += 1
                break
            if u.kind in ("word", "num"):
                parts.append(u.text)
                self.i += 1
            elif u.kind in (",", "_"):
                parts.append("_")
                self.i += 1
            elif u.kind == "cmd":
                parts.append(self._word())
            elif u.kind == "{":  # h_{1_{2}}: nested braces only group
                depth += 1
                self.i += 1
            elif u.kind == "}":
                depth -= 1
                self.i += 1
            else:
                self.fail(f"unexpected {u.text!r} in a subscript")
        if not parts:
            self.fail("empty subscript", t.pos)
        return "".join(parts)


def _wrap(inner, start: int, end: int):
    """A parenthesised expression keeps its span (so a term's text shows the parentheses)."""
    if isinstance(inner, Group):
        return Group(inner.op, inner.args, start, end, True)
    if isinstance(inner, Number):
        return Number(inner.value, start, end)
    return inner


_DISPLAY = re.compile(r"\\(begin|end)\{(equation|align|displaymath|math)\*?\}|(?<!\\)%[^\n]*")


def parse(text: str) -> Parsed:
    """Read `lhs = rhs`; raise `EquationError` (one line, with the position) if it cannot be read."""
    # blank out display wrappers and % comments, keeping character positions for error messages
    text = _DISPLAY.sub(lambda m: " " * len(m.group(0)), text)
    parser = _Parser(text)
    _check_balance(parser.toks, text)
    try:
        return parser.equation()
    except RecursionError:
        raise EquationError("the equation is nested too deeply to read", parser.here(), text) from None


def _check_balance(toks, text: str) -> None:
    """Unbalanced braces or parentheses, said plainly before anything else is read."""
    stack: list[Tok] = []
    for t in toks:
        if t.kind in "({":
            stack.append(t)
        elif t.kind in ")}":
            want = "(" if t.kind == ")" else "{"
            if not stack or stack[-1].kind != want:
                what = "braces" if t.kind == "}" else "parentheses"
                raise EquationError(f"unbalanced {what}: this {t.text!r} closes nothing", t.pos, text)
            stack.pop()
    if stack:
        t = stack[-1]
        what = "braces" if t.kind == "{" else "parentheses"
        raise EquationError(f"unbalanced {what}: the {t.text!r} at character {t.pos + 1} is never closed",
                            len(text), text)


def parse_name(text: str) -> Name | None:
    """A name alone (as a spec's [latex] table writes one), or None if `text` is not one."""
    try:
        p = _Parser(text)
        if not p.toks:
            return None
        n = p.name()
        return n if p.peek() is None else None
    except EquationError:
        return None


# -- from the tree to a sum of products, and to SymPy ------------------------------------------

def contains_derivative(node) -> bool:
    if isinstance(node, Group):
        return any(map(contains_derivative, node.args))
    return isinstance(node, Derivative)


def product_terms(node, text: str = "", top: bool = True) -> list[list]:
    """Expand into a sum of products: each term a list of factors (Derivative or other nodes).

    The equation's own sums are its terms and its products their factors; parentheses around
    sums of derivatives are distributed; a sum without derivatives inside a product, such as
    (1 − h), stays one factor; a minus sign before a term with derivatives becomes a factor −1.
    """
    if not isinstance(node, Group) or not (top or contains_derivative(node)):
        return [[node]]
    if node.op == "+" and (contains_derivative(node) or not node.paren):
        return [t for a in node.args for t in product_terms(a, text, top)]
    if node.op == "neg":
        inner = product_terms(node.args[0], text, top)
        if not contains_derivative(node) and len(inner) == 1 and len(inner[0]) == 1:
            return [[node]]
        return [[Number(sp.Integer(-1), node.pos, node.pos)] + t for t in inner]
    if node.op == "*":
        out = [[]]
        for a in node.args:
            expanded = product_terms(a, text, False)
            if len(out) * len(expanded) > MAX_TERMS:
                raise EquationError(f"more than {MAX_TERMS} terms once the products are multiplied out",
                                    node.pos, text)
            out = [x + y for x, y in itertools.product(out, expanded)]
            if max(map(len, out)) > MAX_FACTORS:  # judging a product costs the cube of its factors
                raise EquationError(f"a product of more than {MAX_FACTORS} factors: a chain-rule product has "
                                    "one factor per step of its path", node.pos, text)
        return out
    if not contains_derivative(node):
        return [[node]]
    what = {"/": "divided", "^": "raised to a power"}.get(node.op, "inside a function")
    raise EquationError(f"a derivative {what}: write ∂L/∂θ as a sum of products of derivatives",
                        node.pos, text)


_SYMPY_OPS = {"+": sp.Add, "*": sp.Mul, "neg": operator.neg, "/": operator.truediv,
              # unevaluated: 9^{9^{9}} is a number to compare, not one to compute exactly
              "^": lambda base, exp: sp.Pow(base, exp, evaluate=False)}


def to_sympy(node, resolve: Callable[[Name], sp.Expr]) -> sp.Expr:
    """The SymPy expression of a derivative-free node; `resolve` turns each Name into a Symbol."""
    if isinstance(node, Number):
        return node.value
    if isinstance(node, Name):
        return resolve(node)
    if isinstance(node, Derivative):
        raise TypeError("a derivative has no evaluated form here")
    return (_SYMPY_OPS.get(node.op) or FUNCTIONS[node.op])(*[to_sympy(a, resolve) for a in node.args])

