"""The generated module, compiled and imported in memory, with its source where tools look for it.

`load_module(d)` is what `derive train` and the tests run.  The module's text is registered in
`linecache` under its file name (tangent's `compile_file` writes a file for the same reason), so
`inspect.getsource`, tracebacks and pdb show the generated code, line by line.

>>> import inspect, derive
>>> m = load_module(derive.derive(derive.load("examples/mazur.toml")))
>>> round(m.loss(m.INITIAL, m.DATA), 9)
0.298371109
>>> inspect.getsource(m.gradients).splitlines()[0]
'def gradients(params, data):'
"""

from __future__ import annotations

import linecache
import types

from ..core.derivation import Derivation
from .arrays import layers_source
from .module import module_source

__all__ = ["load_layers_module", "load_module"]


def load_layers_module(spec, backend: str = "numpy"):
    """The layer-form module of a `[dense]` spec for one of `arrays.BACKENDS` ("numpy", "array-api"),
    compiled and imported like `load_module`'s."""
    return load_module(None, spec=spec, backend=backend)


def load_module(d: Derivation | None, spec=None, backend: str = "numpy"):
    """The generated module of `d`, compiled and imported (not added to `sys.modules`).

    The source is derive's own template: the network's names enter it only as checked
    identifiers and quoted string literals, never as code.
    """
    name = f"{(spec or d.spec).name}_gradients"
    source = layers_source(spec, backend) if d is None else module_source(d)
    filename = f"<derive:{name}.py>"
    # mtime None: linecache.checkcache keeps the entry (there is no file to compare it with)
    linecache.cache[filename] = (len(source), None, source.splitlines(keepends=True), filename)
    module = types.ModuleType(name)
    module.__file__ = filename
    module.__loader__ = None
    exec(compile(source, filename, "exec"), module.__dict__)  # noqa: S102 -- our template
    return module
