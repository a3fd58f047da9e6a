"""Explain: the derivation as documents a person reads (LaTeX/PDF, Markdown, a web page, the terminal).

- `document`: the document model, plain data: every formula printed, every number formatted.
- `worked`: the worked example's numbers, as the classic step-by-step examples show them.
- `diagram`: the network drawn as plain data (TikZ and Mermaid come from the templates).
- `forms`: how each equation reads (a weighted sum in spec order, f(net), Σ partial·δ).
- `texmath`: where long formulas break into aligned rows.
- `render`: the templates rendered, and LaTeX compiled to PDF.
- `web`: the interactive web page (SVG diagram, MathML, paths lit by a small script) and the
  notebook view of a Derivation.
- `terminal`: `pretty(d)`, what `derive show` prints.

Uses the core, printing, and the checker (for the "check yourself" section).
"""
