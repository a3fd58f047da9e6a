"""The core: from a spec to the Derivation, and numbers from it.  Imports nothing else of derive.

- `spec`: TOML (or Python data) to a frozen `NetSpec`, every problem named by file and field;
  `[dense]` and `[[layer]]` tables expand into neurons and keep their layer records.
- `ops`: the op registry, one entry per weighted sum, activation and loss.
- `kinds`: the layer-kind registry, one entry per kind of layer (dense so far), and the `Layer` record.
- `layers`: the layer IR, `LayerForm`: a layered network's matrix form, checked against the
  `Derivation` entry by entry; `layering` finds the layers of `[[neuron]]` tables or says why not.
- `naming`: every naming convention (δ_v, z_h, delta_v, dL_dw, ...) spelled once.
- `graph`: the one place where network meaning becomes math: one equation per named quantity.
- `chain`: local partials edge by edge, δ backwards from the loss: equations to a `Derivation`.
- `derivation`: the `Derivation` IR, its lookups, lazy paths and `validate()`.
- `interpret`: the one interpreter of a Derivation at numbers (forward values, local partials,
  δ, gradients); `evaluate`, `validate` and the checker all run it.
"""
