r"""LaTeX math as presentation MathML, for the web page: browsers typeset it without a script or a font.

The page shows the same formulas as the PDF: the document model's LaTeX (printed by `LatexPrinter`
from the derivation) is converted by `latex2mathml` (a pure-Python converter, on PyPI), then
parsed and written out again through an allow-list of MathML elements and attributes, so that
nothing but MathML reaches the page whatever the LaTeX held (latex2mathml copies \text{...}
verbatim; a name's [latex] value is a harmless subset already, see `derive.core.spec`).

>>> mathml(r"w_{1} \to h")
'<math display="inline"><msub><mi>w</mi><mn>1</mn></msub><mo>→</mo><mi>h</mi></math>'
>>> "<script" in mathml(r"\text{<script>alert(1)</script>}")
False
"""

from __future__ import annotations

import html
import re
import xml.etree.ElementTree as ET
from functools import lru_cache

__all__ = ["mathml", "mathml_prose"]

_NS = "{http://www.w3.org/1998/Math/MathML}"
# The presentation elements latex2mathml writes for derive's LaTeX, and the attributes they carry.
ELEMENTS = frozenset({
    "math", "mrow", "mi", "mn", "mo", "ms", "mtext", "mspace", "msub", "msup", "msubsup", "mfrac", "msqrt", "mroot",
    "mover", "munder", "munderover", "mtable", "mtr", "mtd", "mstyle", "mpadded", "mphantom", "menclose"})
ATTRIBUTES = frozenset({
    "display", "mathvariant", "stretchy", "fence", "form", "width", "height", "depth", "columnalign", "rowspacing",
    "columnspacing", "displaystyle", "scriptlevel", "lspace", "rspace", "accent", "accentunder", "movablelimits",
    "linethickness", "notation", "separator", "largeop", "symmetric", "minsize", "maxsize"})
_SAFE_VALUE = re.compile(r"[\w .%+-]*")


class _Unsafe(ValueError):
    pass


def _clean(e: ET.Element) -> None:
    tag = e.tag.removeprefix(_NS)
    if tag not in ELEMENTS:
        raise _Unsafe(tag)
    e.tag = tag
    for k, v in list(e.attrib.items()):
        if k not in ATTRIBUTES or not _SAFE_VALUE.fullmatch(v):
            del e.attrib[k]
    for child in e:
        _clean(child)


def _collapse(e: ET.Element) -> None:
    """An mrow with one child is that child (latex2mathml nests them deeply): smaller pages."""
    for k, child in enumerate(list(e)):
        _collapse(child)
        if child.tag == "mrow" and len(child) == 1 and not (child.text or "").strip() and not child.attrib:
            inner = child[0]
            inner.tail = child.tail
            e[k] = inner


@lru_cache(maxsize=8192)
def mathml(tex: str, display: bool = False) -> str:
    """`tex` as one <math> element; text that cannot be converted is shown as escaped text."""
    from latex2mathml.converter import convert

    try:
        root = ET.fromstring(convert(tex.replace(r"\quad", r"\;")))
        _clean(root)
        _collapse(root)
    except Exception:  # noqa: BLE001 - any failure of the converter shows the text, never markup
        return f'<math display="inline"><mtext>{html.escape(tex)}</mtext></math>'
    root.attrib.clear()
    root.set("display", "block" if display else "inline")
    if len(root) == 1 and root[0].tag == "mrow" and not root[0].attrib:  # <math><mrow>…</mrow></math>
        inner = root[0]
        root.remove(inner)
        root.text = inner.text
        root.extend(list(inner))
    return ET.tostring(root, encoding="unicode", short_empty_elements=True)


def mathml_prose(text: str) -> str:
    """derive's own sentences with $…$ math: the words escaped as HTML, each span as MathML.

    >>> mathml_prose("for $z > 0$ & <b>")
    'for <math display="inline"><mi>z</mi><mo>&gt;</mo><mn>0</mn></math> &amp; &lt;b&gt;'
    """
    parts = text.split("$")
    return "".join(mathml(p) if k % 2 else html.escape(p, quote=False) for k, p in enumerate(parts))
