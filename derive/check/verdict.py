"""What derive check says: the verdict on one equation, the kinds of problem it names, its report.

A `Verdict` is plain data (frozen dataclasses, tuples in the order the equation was written):
the terms with the paths each covers, the problems in plain words, and the correct equation.
`report` lays it out for the terminal; `str(verdict)` is the same text.

>>> v = Verdict(False, "∂L/∂w5 = ∂o1/∂w5", "E_total", "w5", (Term("∂o1/∂w5", (), False),),
...             (Problem("does-not-reach-loss", 1, "the product stops at o1"),), "", "")
>>> print(v)
∂L/∂w5 = ∂o1/∂w5
<BLANKLINE>
incorrect: 1 problem
term 1: ∂o1/∂w5
  - the product stops at o1
<BLANKLINE>
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["KINDS", "Mistake", "Problem", "Term", "Verdict", "report", "report_html"]

# Every kind of problem the checker names, and what it means.
KINDS = {
    "unknown-name": "a name that is not in the network",
    "independent": "a factor ∂a/∂b whose numerator a is a parameter, input or target: an independent "
                   "variable does not change when b does, so ∂a/∂b = 0",
    "no-dependence": "a factor ∂a/∂b whose numerator a does not depend on b (or is upside down)",
    "not-a-step": "a factor ∂a/∂a, which is 1 and takes no step",
    "off-path": "a factor through a quantity that lies on no path from θ to the loss",
    "does-not-link": "a product whose factors do not link up into one chain",
    "does-not-start-at-param": "a product that does not start at θ",
    "does-not-reach-loss": "a product that does not reach the loss",
    "wrong-value": "an evaluated factor that is not the local partial it stands for",
    "constant-factor": "a product off by a constant: a factor of 2 missing or extra, a wrong sign",
    "extra-factor": "an evaluated factor in a product whose derivatives already link θ to the loss",
    "missing-path": "a path from θ to the loss that no term covers",
    "duplicate-path": "a path from θ to the loss covered more than once",
    "left-side": "a left side that is not the derivative of a quantity that depends on θ",
}


@dataclass(frozen=True)
class Problem:
    kind: str  # a key of KINDS
    term: int  # 1-based term number; 0 for the equation as a whole
    message: str  # plain words
    factor: str = ""  # the factor it is about, as "∂w7/∂h1", if any


@dataclass(frozen=True)
class Term:
    text: str  # the product, with network names: "∂h1/∂w1 · ∂o1/∂h1 · ∂L/∂o1"
    paths: tuple[tuple[str, ...], ...]  # the paths it covers
    ok: bool
    meant: tuple[tuple[str, ...], ...] = ()  # for a wrong term: the paths it seems meant for


@dataclass(frozen=True)
class Verdict:
    """What `check` found.  `str()` gives the report `derive check` prints."""

    correct: bool
    equation: str  # the learner's equation with network names
    loss: str  # the numerator of the left side (the loss, normally)
    wrt: str  # the denominator (θ)
    terms: tuple[Term, ...]
    problems: tuple[Problem, ...]
    correct_equation: str  # LaTeX, one product of local partials per path; "" if there is none
    correct_text: str  # the same for the terminal
    compact_equation: str = ""  # LaTeX, each weighted sum skipped: ∂h1/∂w1 ∂o1/∂h1 ∂L/∂o1 (the seed's answer)
    compact_text: str = ""
    notes: tuple[str, ...] = ()  # how names were read ("L is read as the loss E_total")

    def __str__(self) -> str:
        return report(self)

    def _repr_html_(self) -> str:
        """The verdict in a notebook: the same report as a block, the correct equation typeset."""
        return report_html(self)


@dataclass(frozen=True)
class Mistake:
    """One typical wrong form of a parameter's equation, with the verdict on it."""

    title: str
    equation: str  # LaTeX
    verdict: Verdict

    @property
    def why(self) -> str:
        """Why it is wrong, in plain words: the verdict's first explanation of each kind, one per line
        (the same mistake in every term is said once; `verdict.problems` has them all)."""
        first: dict[str, str] = {}
        for p in self.verdict.problems:
            first.setdefault(p.kind, p.message)
        return "\n".join(first.values())


def report_html(v: Verdict) -> str:
    """The report of `report` as one HTML block: every line escaped, the verdict in colour, the
    correct equation (LaTeX) as MathML.

    >>> v = Verdict(False, "∂L/∂w5 = <b>", "L", "w5", (), (Problem("left-side", 0, "a & b"),), "", "")
    >>> "&lt;b&gt;" in report_html(v) and "a &amp; b" in report_html(v) and "<b>" not in report_html(v)
    True
    """
    import html

    from ..printing.mathml import mathml

    ok = v.correct
    lines = report(v).rstrip("\n").split("\n")
    verdict = next((i for i, line in enumerate(lines) if line.startswith(("correct:", "incorrect:"))), None)
    out = []
    for i, line in enumerate(lines):
        if line == f"  {v.correct_equation}" and v.correct_equation or line == f"  {v.compact_equation}" and v.compact_equation:
            out.append(f'<div style="margin:2px 0 2px 2em">{mathml(line.strip(), display=False)}</div>')
        elif i == verdict:
            color = "#00734d" if ok else "#b34700"
            out.append(f'<div style="font-weight:bold;color:{color}">{"✔" if ok else "✘"} {html.escape(line)}</div>')
        else:
            out.append(f'<div style="white-space:pre-wrap">{html.escape(line) or "&#160;"}</div>')
    border = "#00734d" if ok else "#b34700"
    return (f'<div class="derive-verdict" style="border-left:4px solid {border};padding:4px 10px;'
            f'font:14px/1.45 system-ui,sans-serif">{"".join(out)}</div>')


def report(v: Verdict) -> str:
    """The verdict as `derive check` prints it."""
    out = [v.equation] if v.equation else []
    out += [f"({n})" for n in v.notes]
    out.append("")
    if v.correct:
        n = len(v.terms)
        out.append(f"correct: {n} term{'s' if n != 1 else ''}, every path from {v.wrt} to {v.loss} exactly once")
        for i, t in enumerate(v.terms):
            out.append(f"  term {i + 1}: {t.text}")
            out += [f"    covers {' → '.join(p)}" for p in t.paths]
        return "\n".join(out) + "\n"
    n = len(v.problems)
    out.append(f"incorrect: {n} problem{'s' if n != 1 else ''}")
    out += [f"  - {p.message}" for p in v.problems if p.term == 0]
    for i, t in enumerate(v.terms):
        mine = [p for p in v.problems if p.term == i + 1]
        if not mine:
            continue
        out.append(f"term {i + 1}: {t.text}")
        out += [f"  - {p.message}" for p in mine]
        if len(t.meant) == 1:
            out.append(f"  (it seems meant for the path {' → '.join(t.meant[0])})")
        elif t.meant:
            out.append(f"  (it seems meant for the paths {'; '.join(' → '.join(p) for p in t.meant)})")
    if v.correct_text:
        out += ["", f"the correct equation, one product of local partials per path from {v.wrt} to {v.loss}:",
                f"  {v.correct_text}", f"  {v.correct_equation}"]
        if v.compact_text:
            out += ["or, skipping each weighted sum into its activation (∂h/∂w = ∂h/∂net · ∂net/∂w):",
                    f"  {v.compact_text}", f"  {v.compact_equation}"]
    return "\n".join(out) + "\n"
