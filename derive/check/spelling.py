"""Names as a learner spells them, read as the network's own names.

Exact first, then ignoring '_', then ignoring case: w_{1}, w_1 and w1 are all w1; net_{h1} is
net_h1; a name as the spec's [latex] table typesets it is that name; out_h1 is h1 (the classic
example's name for a neuron's output) and net_h1 is h1's weighted sum when the spec names them
otherwise; L and E are the loss when no node has that name.  A spelling that fits two names
is refused, never guessed.

>>> import derive
>>> from derive.check.parse import parse_name
>>> names = Names(derive.derive(derive.load("examples/mazur.toml")))
>>> names.resolve(parse_name("w_{1}")), names.resolve(parse_name("L"))
(('w1', '', 1), ('E_total', '', 2))
"""

from __future__ import annotations

import difflib

from ..core.derivation import Derivation
from ..printing.printers import LatexPrinter
from .parse import Name, parse_name

__all__ = ["Names"]


class Names:
    """Resolves names as written to the network's names: exact first, then ignoring '_'."""

    def __init__(self, d: Derivation):
        spec = d.spec
        self.kind: dict[str, str] = {}  # network name -> "input", "target", "parameter" or "node"
        for names, kind in ((spec.inputs, "input"), (spec.targets, "target"), (d.parameters, "parameter"),
                            ([eq.name for eq in d.equations], "node")):
            self.kind.update(dict.fromkeys(names, kind))
        entries: list[tuple[int, str, str]] = [(0, n, n) for n in self.kind]
        printer = LatexPrinter(dict(spec.latex))
        typeset = {n: parse_name(printer.name(n)) for n in self.kind}
        entries += [(1, shown.exact, n) for n, shown in typeset.items() if shown is not None]
        aliases = {"L": d.loss, "E": d.loss}
        for neuron in spec.neurons:
            aliases[f"out_{neuron.name}"] = neuron.name
            aliases[f"net_{neuron.name}"] = neuron.net
        for output, target in spec.loss.outputs:  # the classic example's target_o1 for o1's target
            aliases[f"target_{output}"] = target
        entries += [(2, a, n) for a, n in aliases.items() if a not in self.kind]
        self.exact: dict[tuple[int, str], set[str]] = {}
        self.loose: dict[tuple[int, str], set[str]] = {}
        for prio, key, n in entries:
            self.exact.setdefault((prio, key), set()).add(n)
            self.loose.setdefault((prio, key.replace("_", "")), set()).add(n)
            self.loose.setdefault((3, key.replace("_", "").lower()), set()).add(n)  # Observed for observed

    def resolve(self, name: Name) -> tuple[str | None, str, int]:
        """(network name or None, why not, how it was matched: 0 as the name itself, 1 as the spec
        typesets it, 2 through an alias, 3 ignoring case; -1 when it was not)."""
        lookups = ((self.exact, name.exact, (0, 1, 2)), (self.loose, name.loose, (0, 1, 2)),
                   (self.loose, name.loose.lower(), (3,)))
        for table, key, prios in lookups:
            for prio in prios:
                found = table.get((prio, key))
                if found and len(found) == 1:
                    return next(iter(found)), "", prio
                if found:
                    return None, f"{name.exact!r} could be any of {', '.join(sorted(found))}: write it exactly", -1
        close = difflib.get_close_matches(name.exact, sorted(self.kind), n=1, cutoff=0.6)
        return None, f"{name.exact!r} is not a name in this network" + (
            f"; did you mean {close[0]}?" if close else ""), -1
