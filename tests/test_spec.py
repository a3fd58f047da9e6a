"""spec.py: the spec format, the dense shorthand, and one clear problem per mistake."""

from __future__ import annotations

from pathlib import Path

import pytest

import derive
from derive.core.spec import SpecError, load, loads

GOOD = """
name = "net"
inputs = ["x1", "x2"]

[[neuron]]
name = "h1"
activation = "sigmoid"
inputs = { x1 = "w1", x2 = "w2" }
bias = "b1"

[[neuron]]
name = "o1"
activation = "tanh"
inputs = { h1 = "w3", x2 = "w4" }
bias = "b1"

[loss]
kind = "half_sse"
outputs = { o1 = "t1" }
"""


def problems(text: str, source="spec.toml") -> list[str]:
    with pytest.raises(SpecError) as e:
        loads(text, source)
    assert all(line.startswith(f"{source}: ") for line in e.value.lines())
    assert all("\n" not in line for line in e.value.lines())
    return e.value.lines()


def one(text: str) -> str:
    (line,) = problems(text)
    return line


def test_good_spec_reads_in_order():
    spec = loads(GOOD)
    assert spec.inputs == ("x1", "x2")
    assert [n.name for n in spec.neurons] == ["h1", "o1"]
    assert spec.neurons[0].net == "z_h1"
    assert spec.parameters == ("w1", "w2", "w3", "w4", "b1")
    assert spec.loss.name == "L" and spec.loss.outputs == (("o1", "t1"),)


def test_neurons_may_come_in_any_order_and_are_sorted_topologically():
    text = GOOD.replace('[[neuron]]\nname = "h1"', '[[neuron]]\nname = "hX"', 1)
    swapped = GOOD.split("[[neuron]]")
    text = swapped[0] + "[[neuron]]" + swapped[2].split("[loss]")[0] + "[[neuron]]" + swapped[1] + \
        "[loss]" + swapped[2].split("[loss]")[1]
    assert [n.name for n in loads(text).neurons] == ["h1", "o1"]


def test_identity_neuron_without_net_name_is_its_own_sum():
    spec = derive.load("examples/softplus.toml")
    assert spec.neuron("predicted").net == "predicted"
    assert spec.neuron("y1").net == "x1"


def test_dense_shorthand_names_follow_the_classic_numbering():
    spec = loads('name = "d"\n[dense]\nsizes = [2, 2, 2]\nactivation = "sigmoid"\n[loss]\nkind = "half_sse"\n')
    assert spec.inputs == ("i1", "i2")
    assert [(n.name, n.inputs, n.bias) for n in spec.neurons] == [
        ("h1", (("i1", "w1"), ("i2", "w2")), "b1"),
        ("h2", (("i1", "w3"), ("i2", "w4")), "b1"),
        ("o1", (("h1", "w5"), ("h2", "w6")), "b2"),
        ("o2", (("h1", "w7"), ("h2", "w8")), "b2"),
    ]
    assert spec.loss.outputs == (("o1", "t1"), ("o2", "t2"))


def test_dense_deeper_per_neuron_bias_and_per_layer_activation():
    spec = loads('name = "d"\n[dense]\nsizes = [1, 2, 2, 1]\nactivation = ["tanh", "relu", "identity"]\n'
                 'bias = "per_neuron"\n[loss]\nkind = "mse"\n')
    assert [n.name for n in spec.neurons] == ["h1_1", "h1_2", "h2_1", "h2_2", "o1"]
    assert [n.bias for n in spec.neurons] == ["b1", "b2", "b3", "b4", "b5"]
    assert [n.activation for n in spec.neurons] == ["tanh", "tanh", "relu", "relu", "identity"]
    assert spec.neuron("o1").net == "o1"
    no_bias = loads('name = "d"\n[dense]\nsizes = [1, 1]\nbias = "none"\n[loss]\nkind = "sse"\n')
    assert no_bias.parameters == ("w1",)


def test_values_data_train_latex():
    spec = derive.load("examples/softplus.toml")
    assert dict(spec.values)["w1"] == 3.34
    assert dict(spec.data)["input"] == (0.0, 0.5, 1.0)
    assert spec.samples == 3
    assert spec.train.learning_rate == 0.1
    assert dict(spec.latex)["SSR"] == r"\mathrm{SSR}"


# -- one clear problem per mistake ---------------------------------------------------------------


def test_empty_file():
    assert one("   \n") == "spec.toml: the spec is empty"


def test_toml_syntax_error_names_the_line():
    line = one('name = "x"\ninputs = ["a"\n[loss]\n')
    assert line.startswith("spec.toml: line ") and "TOML syntax error" in line


def test_unknown_activation():
    assert "neuron[0] (h1).activation: unknown activation 'sigmod'" in one(GOOD.replace('"sigmoid"', '"sigmod"'))


def test_unknown_loss_kind():
    assert "loss.kind: unknown loss kind 'cross'" in one(GOOD.replace('"half_sse"', '"cross"'))


def test_source_that_is_neither_input_nor_neuron():
    line = one(GOOD.replace('h1 = "w3"', 'h9 = "w3"'))
    assert "neuron[1] (o1).inputs.h9: 'h9' is neither an input nor a neuron" in line


def test_cycle():
    text = GOOD.replace('inputs = { x1 = "w1", x2 = "w2" }', 'inputs = { x1 = "w1", o1 = "w2" }')
    assert "the neurons form a cycle: h1 -> o1 -> h1" in one(text)


def test_self_loop_is_a_cycle():
    text = GOOD.replace('inputs = { x1 = "w1", x2 = "w2" }', 'inputs = { x1 = "w1", h1 = "w2" }')
    assert "cycle: h1 -> h1" in one(text)


def test_duplicate_neuron():
    text = GOOD.replace('name = "o1"', 'name = "h1"').replace("{ o1 = ", "{ h1 = ")
    # one cause, one line: no knock-on line for the duplicate's net sum
    assert problems(text) == ["spec.toml: neuron[1].name: 'h1' is already the name of another neuron"]


def test_loss_output_that_is_not_a_neuron():
    assert "loss.outputs.x1: 'x1' is not a neuron" in one(GOOD.replace('{ o1 = "t1" }', '{ o1 = "t1", x1 = "t2" }'))


def test_neuron_name_reused_as_parameter():
    line = one(GOOD.replace('x2 = "w4"', 'x2 = "h1"'))
    assert "neuron[1] (o1).inputs.x2: weight 'h1' is already used as a neuron" in line


def test_bias_named_like_an_input():
    assert "bias 'x1' is already used as an input" in one(GOOD.replace('bias = "b1"\n\n[loss]', 'bias = "x1"\n\n[loss]'))


def test_no_neurons():
    line = one('name = "x"\ninputs = ["a"]\n[loss]\nkind = "sse"\noutputs = {}\n')
    assert "neuron: the spec has no neurons" in line


def test_neuron_that_does_not_reach_the_loss():
    text = GOOD + '\n[[neuron]]\nname = "dead"\nactivation = "tanh"\ninputs = { x1 = "w9" }\n'
    assert "neuron[2] (dead): does not reach the loss" in one(text)


def test_names_must_be_identifiers_never_expressions():
    assert "'w1+w2' is not a name" in one(GOOD.replace('x1 = "w1"', 'x1 = "w1+w2"'))
    assert "is not a name" in one(GOOD.replace('"b1"', '"__import__(\'os\')"', 1))


def test_values_and_data_problems():
    lines = problems(GOOD + '[values]\nw1 = "big"\nq = 1\n[data]\nx1 = [1, 2]\nx2 = [1]\n')
    text = "\n".join(lines)
    assert "values.w1: expected a number, got 'big'" in text
    assert "values.q: 'q' is not a parameter" in text
    assert "data: missing t1" in text
    assert "data: every entry needs the same number of samples, got 1, 2" in text


def test_unknown_keys_are_named():
    assert "spec.toml: neurons: unknown key" in one("neurons = 3\n" + GOOD)
    assert "spec.toml: loss.neurons: unknown key" in one(GOOD + "neurons = 3\n")


def test_dense_and_neurons_together():
    assert "dense: use either [dense] or inputs" in one(GOOD + "[dense]\nsizes = [1, 1]\n")


def test_several_problems_are_reported_together():
    text = GOOD.replace('"sigmoid"', '"sigmod"').replace('"half_sse"', '"cross"')
    assert len(problems(text)) == 2


def test_load_names_the_file(tmp_path: Path):
    f = tmp_path / "broken.toml"
    f.write_text("name = \n")
    with pytest.raises(SpecError) as e:
        load(f)
    assert e.value.lines()[0].startswith(f"{f}: line 1: TOML syntax error")
    with pytest.raises(SpecError, match="cannot read"):
        load(tmp_path / "missing.toml")


def test_spec_module_does_not_import_sympy():
    import ast

    tree = ast.parse(Path(derive.core.spec.__file__).read_text())
    imported = {a.name.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    imported |= {(n.module or "").split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
    assert "sympy" not in imported


def test_from_dict_is_checked_like_a_file():
    doc = {"name": "p", "inputs": ("x",),
           "neuron": [{"name": "h", "activation": "relu", "inputs": {"x": "w"}}],
           "loss": {"kind": "mse", "outputs": {"h": "y"}}}
    assert derive.from_dict(doc).parameters == ("w",)
    doc["neuron"][0]["activation"] = "gelu"
    with pytest.raises(SpecError) as e:
        derive.from_dict(doc)
    assert e.value.lines() == [("<python>: neuron[0] (h).activation: unknown activation 'gelu'; one of "
                               "identity, sigmoid, tanh, softplus, relu, leaky_relu, exp, softmax")]
    with pytest.raises(SpecError, match="expected a table"):
        derive.from_dict(["not", "a", "dict"])
