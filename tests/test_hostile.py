"""Hostile and broken input (issue 12): each case is its minimal reproducer, run as a user would.

Every bad spec must end in one line on stderr naming the file and the field, exit status 2, no
traceback, and nothing written; generated modules must import and refuse bad arguments with a
ValueError naming the key.
"""

from __future__ import annotations

import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest

import derive
from derive.codegen import load_module, module_source

ROOT = Path(__file__).parent.parent

CHAIN = '''name = "c"
inputs = ["x"]
[[neuron]]
name = "h"
activation = "sigmoid"
inputs = { x = "w1" }
bias = "b"
[loss]
kind = "half_sse"
outputs = { h = "y" }
'''


def run(*args, cwd=ROOT, stdin=None):
    return subprocess.run([sys.executable, "-m", "derive.cli", *args], cwd=cwd, input=stdin,
                          capture_output=True, text=True, timeout=300, check=False)


def refused(tmp_path, text: str, *command) -> str:
    """Run `derive show` (or `command`) on a spec with `text`: exit 2, one line, nothing written."""
    spec = tmp_path / "bad.toml"
    spec.write_bytes(text.encode("utf-8") if isinstance(text, str) else text)
    out = tmp_path / "out"
    r = run(*(command or ("show",)), str(spec), *(["-o", str(out)] if command else []))
    assert r.returncode == 2, (r.stdout[-500:], r.stderr[-2000:])
    assert r.stderr.count("\n") == 1 and "Traceback" not in r.stderr, r.stderr
    assert r.stderr.startswith(f"derive: {spec}: "), r.stderr
    assert not out.exists()
    return r.stderr


# -- 1. [latex] values reach LaTeX only from a harmless subset ---------------------------------

@pytest.mark.parametrize("value", [r"\\input{/etc/hostname}", r"\\def\\x{\\x}\\x", r"\\catcode`\\@=11",
                                   r"\\immediate\\write18{ls}", r"x%y", r"{", r"\\\\", "a\\nb"])
def test_latex_values_outside_the_subset_are_refused(tmp_path, value):
    err = refused(tmp_path, CHAIN + f'[latex]\nh = "{value}"\n', "explain")
    assert "latex.h: " in err and "not allowed" in err or "brace" in err or "never closed" in err


@pytest.mark.parametrize("value", [r"\\hat{w}_1", "w^{(1)}", r"\\bar{w}", "w_1^{[1]}", "y'", r"\\mathrm{SSR}"])
def test_ordinary_typeset_names_are_accepted(value):
    d = derive.derive(derive.loads(CHAIN + f'[latex]\nw1 = "{value}"\n'))
    assert dict(d.spec.latex)["w1"] == value.replace("\\\\", "\\")


# -- 3. net = name on a neuron that is not the identity ------------------------------------------

def test_net_named_like_a_non_identity_neuron_is_an_error(tmp_path):
    err = refused(tmp_path, CHAIN.replace('name = "h"', 'name = "h"\nnet = "h"'))
    assert "neuron[0] (h).net: 'h' is the neuron's own name: only an identity neuron" in err


def test_net_named_like_an_identity_neuron_is_fine():
    spec = derive.loads(CHAIN.replace('name = "h"', 'name = "h"\nnet = "h"').replace("sigmoid", "identity"))
    assert spec.neurons[0].net == "h"


# -- 5. wrong value types ------------------------------------------------------------------------

@pytest.mark.parametrize("old, new, field", [
    ('activation = "sigmoid"', 'activation = ["sigmoid"]', "neuron[0] (h).activation"),
    ('kind = "half_sse"', "kind = { a = 1 }", "loss.kind"),
])
def test_wrong_value_types_are_one_line(tmp_path, old, new, field):
    assert f": {field}: " in refused(tmp_path, CHAIN.replace(old, new))


@pytest.mark.parametrize("activation", ["{a = 1}", '[["tanh"], "relu"]'])
def test_wrong_dense_activation_types_are_one_line(tmp_path, activation):
    text = f'name = "d"\n[dense]\nsizes = [2, 2, 1]\nactivation = {activation}\n[loss]\nkind = "sse"\n'
    assert ": dense.activation: " in refused(tmp_path, text)


# -- 6. huge numbers, a byte-order mark ----------------------------------------------------------

@pytest.mark.parametrize("section", ["[values]\nw1 = {n}\n", "[data]\nx = {n}\ny = 1\n", "[train]\nlearning_rate = {n}\n"])
@pytest.mark.parametrize("digits", [310, 5000])
def test_huge_integers_are_one_line(tmp_path, section, digits):
    err = refused(tmp_path, CHAIN + section.format(n="9" * digits))
    assert "300 digits" in err


def test_a_byte_order_mark_is_read_past():
    spec = derive.loads("\ufeff" + CHAIN)
    assert spec.name == "c"


def test_a_file_with_a_byte_order_mark_runs(tmp_path):
    spec = tmp_path / "bom.toml"
    spec.write_bytes(b"\xef\xbb\xbf" + CHAIN.encode())
    assert run("show", str(spec)).returncode == 0


# -- 8. generated modules always import ----------------------------------------------------------

def test_a_title_with_a_nul_is_refused_and_a_module_never_holds_one(tmp_path):
    refused(tmp_path, CHAIN.replace('name = "c"', 'name = "c"\ntitle = "a\\u0000b"'))
    spec = derive.from_dict({"name": "c", "inputs": ["x"], "neuron": [
        {"name": "h", "activation": "tanh", "inputs": {"x": "w"}}], "loss": {"kind": "sse", "outputs": {"h": "y"}}})
    from derive.codegen.lines import doc_text
    assert "\x00" not in doc_text("a\x00b\x1b[31m") and "\x1b" not in doc_text("\x1b[31m")
    load_module(derive.derive(spec))


def test_a_parameter_named_debug_is_renamed():
    d = derive.derive(derive.loads(CHAIN.replace('"w1"', '"__debug__"')))
    m = load_module(d)
    g = m.gradients({"__debug__": 0.5, "b": 0.1}, {"x": [1.0, 2.0], "y": [0.0, 1.0]})
    assert set(g) == {"__debug__", "b"} and "__debug___ =" in module_source(d)


# -- 10. sizes past the documented limits --------------------------------------------------------

@pytest.mark.parametrize("sizes", ["[100000, 100000, 1]", "[2, 1000000000, 1]", str([2] * 200)])
def test_dense_sizes_past_the_limits_are_one_line(tmp_path, sizes):
    err = refused(tmp_path, f'name = "d"\n[dense]\nsizes = {sizes}\n[loss]\nkind = "sse"\n')
    assert "dense.sizes: " in err and "README's limits" in err


def test_too_many_samples_and_steps_are_one_line(tmp_path):
    data = "[data]\nx = [" + ", ".join(["1.0"] * 10_001) + "]\ny = 1.0\n"
    assert ": data.x: 10,001 samples" in refused(tmp_path, CHAIN + data)
    assert ": train.steps: " in refused(tmp_path, CHAIN + "[train]\nsteps = 1000000000000\n")


def test_a_deep_network_of_neurons_is_checked_against_the_depth_limit(tmp_path):
    neurons = "".join(f'[[neuron]]\nname = "h{k}"\nactivation = "tanh"\ninputs = {{ {"x" if k == 0 else f"h{k - 1}"} = "w{k}" }}\n'
                      for k in range(150))
    text = f'name = "deep"\ninputs = ["x"]\n{neurons}[loss]\nkind = "sse"\noutputs = {{ h149 = "y" }}\n'
    assert "150 deep" in refused(tmp_path, text)


def test_paths_of_a_deep_network_are_walked_without_recursion():
    text = 'name = "d"\n[dense]\nsizes = [1' + ", 1" * 99 + ']\nactivation = "tanh"\n[loss]\nkind = "sse"\n'
    d = derive.derive(derive.loads(text))
    assert len(d.paths("w1")[0]) == 2 * 99 + 2


# -- 11. generated modules refuse bad arguments with the key named ------------------------------

@pytest.fixture(scope="module")
def chain_module():
    return load_module(derive.derive(derive.loads(CHAIN)))


GOOD_PARAMS = {"w1": 0.5, "b": 0.1}
GOOD_DATA = {"x": [1.0, 2.0], "y": [0.0, 1.0]}


@pytest.mark.parametrize("params, data, says", [
    ({"w1": 0.5}, GOOD_DATA, "params has no 'b'"),
    (GOOD_PARAMS, {"x": [1.0]}, "data has no 'y'"),
    ({"w1": np.ones(3), "b": 0.1}, GOOD_DATA, "params['w1'] is an array"),
    ({"w1": None, "b": 0.1}, GOOD_DATA, "params['w1']: expected finite numbers"),
    (GOOD_PARAMS, {"x": [None, 1.0], "y": [0.0, 1.0]}, "data['x']: expected finite numbers"),
    (GOOD_PARAMS, {"x": np.ones((2, 2)), "y": [0.0, 1.0]}, "data['x'] has shape (2, 2)"),
    (GOOD_PARAMS, {"x": [], "y": []}, "no samples"),
    (GOOD_PARAMS, {"x": "abc", "y": 1.0}, "data['x']: expected numbers"),
])
def test_bad_arguments_are_a_value_error_naming_the_key(chain_module, params, data, says):
    for fn in (chain_module.loss, chain_module.gradients, chain_module.forward):
        if fn is chain_module.forward and "'y'" in says:
            continue  # forward needs no targets
        with pytest.raises(ValueError, match=says.replace("(", r"\(").replace(")", r"\)").replace("[", r"\[")):
            fn(params, data)


def test_an_overflowing_output_is_a_value_error_not_inf_with_warnings():
    m = load_module(derive.derive(derive.loads(CHAIN.replace("sigmoid", "exp"))))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no RuntimeWarning may escape
        with pytest.raises(ValueError, match="not finite"):
            m.loss({"w1": 1000.0, "b": 0.0}, {"x": [1.0], "y": [0.0]})
        with pytest.raises(ValueError, match="not finite"):
            m.gradients({"w1": 1000.0, "b": 0.0}, {"x": [1.0], "y": [0.0]})
        assert np.isfinite(m.loss({"w1": 1.0, "b": 0.0}, {"x": [1.0], "y": [0.0]}))


# -- 14. one cause, one line -----------------------------------------------------------------

def test_dense_sizes_of_one_layer_is_one_line_showing_the_value(tmp_path):
    err = refused(tmp_path, 'name = "d"\n[dense]\nsizes = [2]\n[loss]\nkind = "sse"\n')
    assert "dense.sizes" in err and "[2]" in err and "loss.outputs" not in err


def test_an_unknown_dense_bias_is_one_line(tmp_path):
    err = refused(tmp_path, 'name = "d"\n[dense]\nsizes = [2, 2, 1]\nbias = "shared"\n[loss]\nkind = "sse"\n')
    assert "dense.bias" in err


def test_the_name_rule_says_what_it_accepts():
    with pytest.raises(derive.SpecError, match="not starting with a digit"):
        derive.loads(CHAIN.replace('"w1"', '"1w"'))
    assert derive.loads(CHAIN.replace('"w1"', '"_w1"')).parameters[0] == "_w1"


# -- 7, 9, 13. derive check: never a traceback, bounded time, messages that help -----------------

def _check_cli(equation: str, spec="examples/mazur.toml"):
    return run("check", spec, equation)


@pytest.mark.parametrize("equation, says", [
    ("L = x²", "the left side should be one derivative"),
    (r"\frac{\partial L}{\partial w_1} = " + "9" * 5000, "a number of more than 100 digits"),
    (r"\frac{\partial L}{\partial w_5} = \frac{\partial o_1}{\partial w_5} " + "w_5 " * 512,
     "a product of more than 64 factors"),
    ("x" * 30_000, "longer than 20,000 characters"),
    (r"\frac{\partail L}{\partial w_1} = 1", r"unknown command \partail: did you mean \partial?"),
])
def test_check_refuses_unreadable_equations_in_one_line(equation, says):
    r = _check_cli(equation)
    assert r.returncode == 2 and r.stderr.count("\n") == 1 and "Traceback" not in r.stderr, r.stderr
    assert says in r.stderr


def test_sigma_prime_is_read_as_the_derivative():
    from derive.check import check
    d = derive.derive(derive.load(ROOT / "examples" / "mazur.toml"))
    v = check(d, r"\frac{\partial E}{\partial w_5} = h_1 \sigma^\prime(net_{o1}) \cdot -(t_1 - o_1)")
    assert v.correct, str(v)


def test_an_unknown_name_lists_the_targets_and_the_classic_target_name_is_read():
    from derive.check import check
    d = derive.derive(derive.load(ROOT / "examples" / "mazur.toml"))
    v = check(d, r"\frac{\partial E}{\partial w_5} = \frac{\partial o_1}{\partial w_5} \cdot -(target_{o1} - out_{o1})")
    assert v.correct and "target_o1 is read as t1" in v.notes, str(v)
    v = check(d, r"\frac{\partial E}{\partial w_5} = \frac{\partial o_1}{\partial w_5} \cdot -(tt_1 - o_1)")
    assert "targets: t1, t2" in str(v) and "did you mean t1?" in str(v)


def test_the_report_echoes_the_learners_typeset_name():
    from derive.check import check
    d = derive.derive(derive.load(ROOT / "examples" / "qa_chain.toml"))
    v = check(d, r"\frac{\partial L}{\partial b} = \frac{\partial y'}{\partial b} \frac{\partial L}{\partial y'}")
    assert "∂y'/∂b" in str(v).splitlines()[0] and "∂yp" not in str(v).splitlines()[0]


# -- 1. pdflatex reads nothing outside its folder, has a time limit, and dies with derive --------

def _need_tex():
    import os
    import shutil
    if shutil.which("pdflatex") is None:
        if os.environ.get("DERIVE_REQUIRE_TEX"):
            pytest.fail("pdflatex is required (DERIVE_REQUIRE_TEX=1)")
        pytest.skip("pdflatex not installed")


def test_pdflatex_cannot_read_a_file_outside_its_folder(tmp_path):
    _need_tex()
    from derive.explain.render import PdfError, compile_pdf
    secret = tmp_path / "secret.txt"
    secret.write_text("TOPSECRET-4711\n")
    tex = ("\\documentclass{article}\\begin{document}\\input{" + str(secret) + "}\\end{document}\n")
    try:
        pdf = compile_pdf(tex, "probe")
    except PdfError as e:
        assert "TOPSECRET" not in str(e)
        return
    assert b"TOPSECRET" not in pdf


@pytest.mark.parametrize("value", [r"\\input{secret.txt}", r"\\input secret.txt", "secret.txt", r"\\mathrm{secret}"])
def test_a_secret_beside_the_spec_never_reaches_the_output(tmp_path, value):
    _need_tex()
    (tmp_path / "secret.txt").write_text("TOPSECRET-4711\n")
    spec = tmp_path / "c.toml"
    spec.write_text(CHAIN + f'[latex]\nh = "{value}"\n')
    out = tmp_path / "out"
    r = run("explain", str(spec), "--format", "pdf", "-o", str(out), cwd=tmp_path)
    assert r.returncode in (0, 2) and "Traceback" not in r.stderr
    for f in out.glob("*") if out.exists() else ():
        data = f.read_bytes()
        assert b"TOPSECRET" not in data
        if f.suffix == ".pdf":
            text = subprocess.run(["pdftotext", str(f), "-"], capture_output=True, text=True, check=False).stdout
            assert "TOPSECRET" not in text


def test_a_terminated_build_leaves_no_tex_folder_and_no_pdflatex(tmp_path):
    _need_tex()
    import glob
    import os
    import signal
    import tempfile
    import time
    before = set(glob.glob(os.path.join(tempfile.gettempdir(), "derive-tex-*")))
    mark = f"DERIVE_TEST_MARK={os.getpid()}-{time.time_ns()}"  # inherited by this build's pdflatex only
    proc = subprocess.Popen([sys.executable, "-m", "derive.cli", "build", str(ROOT / "examples" / "skip.toml"),
                             "-o", str(tmp_path / "out")], cwd=ROOT, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True, env={**os.environ, mark.split("=")[0]: mark.split("=")[1]})
    deadline = time.time() + 120
    while time.time() < deadline and not (set(glob.glob(os.path.join(tempfile.gettempdir(), "derive-tex-*")))
                                          - before):
        time.sleep(0.05)  # wait until pdflatex's folder exists: the build is typesetting
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=60) != 0, proc.stderr.read()
    time.sleep(0.5)
    left = set(glob.glob(os.path.join(tempfile.gettempdir(), "derive-tex-*"))) - before
    assert left == set(), (left, [os.listdir(f) for f in left], proc.stderr.read())
    assert not (tmp_path / "out").exists() or not list((tmp_path / "out").glob("*"))
    ps = subprocess.run(["ps", "-eo", "pid,ppid,etimes,comm"], capture_output=True, text=True, check=False).stdout

    def ours(pid: str) -> bool:  # other pdflatex runs on the machine (parallel test runs) are not this test's
        try:
            return mark.encode() in Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
        except OSError:
            return not Path("/proc").is_dir()  # no /proc: count every orphan
    orphans = [line for line in ps.splitlines()
               if "pdflatex" in line and line.split()[1] == "1" and ours(line.split()[0])]
    assert not orphans, orphans


# -- 2. user text is escaped for the format it lands in -----------------------------------------

def test_a_title_reaches_markdown_as_text_not_html(tmp_path):
    spec = tmp_path / "c.toml"
    spec.write_text(CHAIN.replace('name = "c"', 'name = "c"\ntitle = "<script>alert(1)</script> *bold*"'))
    assert run("explain", str(spec), "--format", "md", "-o", str(tmp_path)).returncode == 0
    md = (tmp_path / "c.md").read_text()
    assert "<script>" not in md and "&lt;script&gt;alert(1)&lt;/script&gt; \\*bold\\*" in md


# -- 4. explain survives names the checker cannot read and equations it will not judge ------------

@pytest.mark.parametrize("value", [r"\\hat{w}_1", "w^{(1)}", r"\\bar{w}", "w_1^{[1]}"])
def test_explain_works_with_typeset_parameter_names(tmp_path, value):
    spec = tmp_path / "m.toml"
    spec.write_text((ROOT / "examples" / "mazur.toml").read_text() + f'\n[latex]\nw1 = "{value}"\n')
    r = run("build", str(spec), "-o", str(tmp_path / "out"))
    assert r.returncode == 0, r.stderr
    assert value.replace("\\\\", "\\") in (tmp_path / "out" / "mazur.tex").read_text()


def test_explain_leaves_out_checks_it_cannot_judge_with_a_note(tmp_path):
    text = 'name = "deep"\n[dense]\nsizes = [2' + ", 2" * 14 + ', 1]\nactivation = "tanh"\n[loss]\nkind = "sse"\n'
    spec = tmp_path / "deep.toml"
    spec.write_text(text)
    r = run("explain", str(spec), "--format", "md", "-o", str(tmp_path))
    assert r.returncode == 0, r.stderr
    md = (tmp_path / "deep.md").read_text()
    assert "The common wrong forms of this equation are left out" in md and "paths" in md


# -- 10, 12. bounded reads, all-or-nothing writes ------------------------------------------------

def test_check_reads_a_bounded_amount_of_an_endless_file():
    r = subprocess.run([sys.executable, "-m", "derive.cli", "check", "examples/mazur.toml", "--file", "/dev/zero"],
                       cwd=ROOT, capture_output=True, text=True, timeout=60, check=False)
    assert r.returncode == 2 and r.stderr.count("\n") == 1


def test_build_writes_all_files_or_none(tmp_path, monkeypatch):
    from derive.cli import files as files_module
    out = tmp_path / "out"
    out.mkdir()
    (out / "mazur.md").write_text("old")
    real = files_module.os.fdopen
    calls = []

    def failing(fd, *a, **k):  # the third file cannot be written
        calls.append(fd)
        if len(calls) == 3:
            raise OSError(28, "No space left on device")
        return real(fd, *a, **k)

    monkeypatch.setattr(files_module.os, "fdopen", failing)
    from derive.cli import main
    monkeypatch.setenv("PATH", "/nonexistent")  # no pdflatex: three text files
    assert main(["build", str(ROOT / "examples" / "mazur.toml"), "-o", str(out)]) == 2
    assert sorted(p.name for p in out.iterdir()) == ["mazur.md"] and (out / "mazur.md").read_text() == "old"


def test_a_hundred_layers_show_and_explain_in_bounded_time_and_size(tmp_path):
    spec = tmp_path / "deep.toml"
    spec.write_text('name = "deep"\n[dense]\nsizes = [2' + ", 2" * 98 + ', 1]\nactivation = "tanh"\n'
                    '[loss]\nkind = "sse"\n')
    r = run("show", str(spec))
    assert r.returncode == 0 and len(r.stdout) < 5_000_000, (r.returncode, len(r.stdout))
    d = derive.derive(derive.load(spec))
    assert d.path_count("w1") == 2**97  # counted, never listed
    r = run("explain", str(spec), "--format", "md", "-o", str(tmp_path))
    assert r.returncode == 0, r.stderr[-500:]
    assert "left out" in (tmp_path / "deep.md").read_text()


def test_terminal_escapes_in_an_equation_are_not_echoed():
    r = _check_cli("\\frac{\\partial L}{\\partial w_1} = \x1b[31m h_1\x07")
    assert r.returncode == 2 and "\x1b" not in r.stderr and "\x07" not in r.stderr


def test_a_spec_that_never_ends_is_refused():
    r = subprocess.run([sys.executable, "-m", "derive.cli", "show", "/dev/zero"], cwd=ROOT, capture_output=True,
                       text=True, timeout=60, check=False)
    assert r.returncode == 2 and r.stderr.count("\n") == 1 and "MiB" in r.stderr


@pytest.mark.parametrize("value, says", [("x_1_2", "second subscript"), ("x^1^2", "second superscript"),
                                         ("_", "nothing after it"), ("x_", "nothing after it"),
                                         (r"\hat", "needs an argument"), ("x^2'", "prime after a superscript")])
def test_latex_that_would_not_typeset_is_refused_naming_the_field(tmp_path, value, says):
    """Found in review: balanced, allowed LaTeX such as x_1_2 broke pdflatex ("Double subscript") and
    the web page's MathML, far from the spec line that caused it."""
    spec = tmp_path / "c.toml"
    spec.write_text(CHAIN + f"\n[latex]\nw1 = {_toml(value)}\n")
    r = run("show", str(spec))
    assert r.returncode == 2 and "latex.w1" in r.stderr and says in r.stderr, r.stderr
    assert "Traceback" not in r.stderr


@pytest.mark.parametrize("value", [r"\hat{w}_1", "w^{(1)}", "w_1^{[1]}", "w'^{2}", r"\mathit{net}_{h1}", "{x}_1"])
def test_latex_that_typesets_is_accepted(tmp_path, value):
    spec = tmp_path / "c.toml"
    spec.write_text(CHAIN + f"\n[latex]\nw1 = {_toml(value)}\n")
    assert run("show", str(spec)).returncode == 0


def _toml(text: str) -> str:
    """`text` as a TOML basic string."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'



def test_two_names_typeset_alike_are_refused(tmp_path):
    """x1 and x_1 are both x_{1} in a document: the reader could not tell them apart."""
    spec = tmp_path / "c.toml"
    spec.write_text(CHAIN.replace('inputs = ["x"]', 'inputs = ["x", "x_1"]'))
    r = run("show", str(spec))
    assert r.returncode == 0, r.stderr  # x and x_1 differ
    spec.write_text(CHAIN.replace('inputs = ["x"]', 'inputs = ["x", "x_1", "x1"]'))
    r = run("show", str(spec))
    assert r.returncode == 2 and "'x_1' and 'x1' would both be typeset as x_{1}" in r.stderr, r.stderr
    spec.write_text(CHAIN.replace('inputs = ["x"]', 'inputs = ["x", "x_1", "x1"]') + '\n[latex]\nx1 = "x_{(1)}"\n')
    assert run("show", str(spec)).returncode == 0
