"""Printing: SymPy printer subclasses, one per target, and the one jinja2 Environment factory.

- `printers`: `LatexPrinter` (the user's names typeset, sums positive-first) and `TextPrinter`
  (the terminal); `latex`, `text`, `latex_name`, `latex_factor`.
- `numpy`: `GradientPrinter`, NumPy source through a name table (no user text reaches code).
- `mathml`: LaTeX as allow-listed presentation MathML, for the web page.
- `templates`: where the templates are, and `environment(kind)`, the one Environment factory.

Printers turn expressions into text and do no layout; templates lay out and contain no math.
Uses the core only.
"""

from .printers import LatexPrinter, TextPrinter, default_latex_name, latex, latex_factor, latex_name, text

__all__ = ["LatexPrinter", "TextPrinter", "default_latex_name", "latex", "latex_factor", "latex_name", "text"]
