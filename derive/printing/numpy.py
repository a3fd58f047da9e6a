"""The SymPy printer for generated NumPy code: safe Python names, `np.` functions, sums t − y.

`GradientPrinter` prints an expression in the node symbols of a Derivation as Python source,
mapping every symbol through a name table (a user's `lambda` becomes `lambda_`, δ_h1 becomes
`delta_h1`).  A symbol missing from the table is an error, never printed as it is: no user
text reaches the generated code except through that table.

>>> import sympy as sp
>>> t1, o1, lam = sp.Symbol("t1"), sp.Symbol("o1"), sp.Symbol("lambda")
>>> p = GradientPrinter({"t1": "t1", "o1": "o1", "lambda": "lambda_"})
>>> p.doprint(sp.Mul(-1, t1 - o1, evaluate=False))
'-(t1 - o1)'
>>> p.doprint(lam * sp.exp(o1))
'lambda_*np.exp(o1)'
"""

from __future__ import annotations

from sympy.printing.numpy import NumPyPrinter

from .printers import PositiveFirst

__all__ = ["GradientPrinter"]


class GradientPrinter(PositiveFirst, NumPyPrinter):
    """NumPy source for one expression: names from `names`, NumPy as `np`, positive terms first."""

    def __init__(self, names: dict[str, str], settings=None):
        super().__init__({"fully_qualified_modules": True, **(settings or {})})
        self.names = names  # read at print time: the caller may add names later

    def _print_Symbol(self, expr):
        if expr.name not in self.names:
            raise KeyError(f"no Python name for the symbol {expr.name!r}")
        return self.names[expr.name]

    def _module_format(self, fqn, register=True):
        # the generated module does `import numpy as np`
        fqn = super()._module_format(fqn, register)
        return "np." + fqn[len("numpy."):] if fqn.startswith("numpy.") else fqn
