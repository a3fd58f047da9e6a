"""Codegen: a Derivation in, the standalone NumPy module `<name>_gradients.py` out (the layer
form also for any array-API library: PyTorch, JAX, CuPy, Dask).

- `names`: every network name as a safe Python identifier, deterministic (`python_names`).
- `lines`: the `Line` record and how sums and tuples wrap.
- `scalar`: one line per net sum, activation, δ and gradient (narrow or irregular networks).
- `matrix`: one matrix product per layer, for `[dense]` stacks wide enough to gain.
- `arrays`: the layer form (array parameters W1, b1, ...) from the layer records, for NumPy or,
  with the namespace a parameter, for the array API standard (`BACKENDS`).
- `module`: the module's text from templates/gradients.py.j2 (`module_source`).
- `load`: the module compiled and imported so that `inspect.getsource` and pdb work.

Uses the core and printing only.
"""

from .load import load_layers_module, load_module
from .module import module_source
from .names import RESERVED, python_names

__all__ = ["RESERVED", "load_layers_module", "load_module", "module_source", "python_names"]
