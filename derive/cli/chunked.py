"""`derive train --dask --data DIR`: a data set on disk as Dask arrays, read chunk by chunk, never whole.

DIR holds the inputs as `X.zarr` (or `X.npy`), an (N, n₀) array with one column per input in
the spec's order, and the targets as `T.zarr` (or `T.npy`), (N, K), one column per target.
A zarr array keeps its own chunks along N (the columns become one chunk); a `.npy` file is read
in slices of `npy_rows` rows, each slice by the task that needs it (memory-mapped, so a worker
reads only its rows).  Every problem is one line naming the file: a `UsageError`.

`open_data` needs dask (and zarr for .zarr); they are the `dask` extra of derive.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .base import UsageError

__all__ = ["CHUNK_BYTES", "first_line", "open_data"]

# Rows per task of a .npy file: about 64 MB of float64 a chunk, so that a worker holds a few
# chunks at a time whatever N is, and each task's work dwarfs its scheduling (a few ms).
CHUNK_BYTES = 64 * 2**20


def open_data(folder: str, inputs: tuple[str, ...], targets: tuple[str, ...]) -> tuple[dict, dict]:
    """{"X": dask array (N, len(inputs)), "T": dask array (N, len(targets))} from `folder`, and
    {"X": path, "T": path}: the files they are read from, for the messages of errors found later."""
    root = Path(folder)
    if not root.is_dir():
        raise UsageError(f"--data {folder}: not a directory (it should hold X.zarr and T.zarr, or X.npy and T.npy)")
    x_path, x = _array(root, "X", inputs, "input")
    t_path, t = _array(root, "T", targets, "target")
    if x.shape[0] != t.shape[0]:
        raise UsageError(f"{t_path}: {t.shape[0]} rows, and {x_path} has {x.shape[0]}: give one row of targets "
                         "per sample")
    x = x.rechunk({1: -1})
    return {"X": x, "T": t.rechunk({0: x.chunks[0], 1: -1})}, {"X": x_path, "T": t_path}


def _array(root: Path, key: str, columns: tuple[str, ...], what: str):
    found = [p for p in (root / f"{key}.zarr", root / f"{key}.npy") if p.exists()]
    if not found:
        raise UsageError(f"{root}: no {key}.zarr or {key}.npy: --data DIR holds the {what}s as {key}.zarr "
                         f"(or {key}.npy), an (N, {len(columns)}) array")
    path = found[0]
    try:
        a = _zarr(path) if path.suffix == ".zarr" else _npy(path)
    except UsageError:
        raise
    except ImportError as e:  # zarr for .zarr: not in derive's own dependencies
        raise UsageError(f"{path}: reading it needs {e.name} (not installed): pip install 'derive[dask]'") from None
    except Exception as e:  # noqa: BLE001 -- a damaged or foreign file: zarr and NumPy raise many kinds
        raise UsageError(f"{path}: cannot read it as a {path.suffix[1:]} array: {first_line(e)}") from None
    if a.ndim != 2 or a.shape[1] != len(columns) or a.shape[0] == 0:
        names = ", ".join(columns) if len(columns) <= 4 else f"{columns[0]} … {columns[-1]}"
        raise UsageError(f"{path}: shape {tuple(a.shape)}: expected (N, {len(columns)}) with N > 0, "
                         f"one column per {what} ({names})")
    if a.dtype.kind != "f" or a.dtype.itemsize > 8:  # (each chunk becomes float64 as it is read)
        raise UsageError(f"{path}: {a.dtype} numbers: expected floating-point ones (float64, float32 or float16)")
    return path, a


def _zarr(path: Path):
    import dask.array as da

    return da.from_zarr(str(path))


def _npy(path: Path):
    import dask
    import dask.array as da

    header = np.load(path, mmap_mode="r")  # reads the header only: shape and dtype
    shape, dtype = header.shape, header.dtype
    del header
    if len(shape) != 2:
        return da.zeros(shape, dtype=dtype)  # (a placeholder for the shape error, never computed)
    rows = max(1, CHUNK_BYTES // max(1, shape[1] * dtype.itemsize))
    load = dask.delayed(_rows, pure=True)
    parts = [da.from_delayed(load(str(path), lo, min(lo + rows, shape[0])), (min(lo + rows, shape[0]) - lo, shape[1]),
                             dtype=dtype) for lo in range(0, shape[0], rows)]
    return da.concatenate(parts) if parts else da.zeros(shape, dtype=dtype)


def _rows(path: str, lo: int, hi: int) -> np.ndarray:
    """Rows lo … hi − 1 of a .npy file, read on the worker that needs them."""
    return np.array(np.load(path, mmap_mode="r")[lo:hi])


def first_line(e: Exception) -> str:
    text = str(e).strip().splitlines()
    return text[0] if text else type(e).__name__
