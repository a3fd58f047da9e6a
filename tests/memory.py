"""Peak memory of a process, for the Dask memory test: a module of its own, importing nothing, so
that a Dask worker asked to run `peak_rss` does not import the test module (PyTorch, JAX) first."""


def peak_rss() -> int:
    """This process's peak resident memory in bytes: VmHWM, which starts afresh at exec (getrusage's
    ru_maxrss would carry the forking parent's peak into a subprocess)."""
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) * 1024 for line in f if line.startswith("VmHWM:"))
