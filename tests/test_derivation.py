"""derivation.py: the IR's lookups, chain sums and validate() catching a broken record."""

from __future__ import annotations

import dataclasses

import pytest
import sympy as sp

import derive
from derive.core.derivation import Delta, DerivationError


@pytest.fixture(scope="module")
def mazur():
    return derive.derive(derive.load("examples/mazur.toml"))


def test_edges_carry_the_local_partials(mazur):
    assert mazur.edge("net_o1", "h1").partial == sp.Symbol("w5", real=True)
    assert mazur.edge("net_o1", "w5").partial == sp.Symbol("h1", real=True)
    assert mazur.edge("net_o1", "b2").partial == 1
    o1 = sp.Symbol("o1", real=True)
    assert mazur.edge("o1", "net_o1").partial == o1 * (1 - o1)
    assert str(mazur.edge("E_total", "o1").display) == "-(-o1 + t1)"  # printed t1 - o1 by derive's printers
    with pytest.raises(KeyError):
        mazur.edge("o2", "w5")


def test_chain_value_equals_the_delta_form(mazur):
    for p in mazur.parameters:
        chained = mazur.chain(p).value()
        factored = sp.Add(*[e.partial * mazur.delta(e.dst) for e in mazur.uses(p)])
        assert sp.expand(chained - factored) == 0


def test_path_count_matches_paths(mazur):
    assert [mazur.path_count(p) for p in mazur.parameters] == [len(mazur.paths(p)) for p in mazur.parameters]
    assert mazur.path_count("b1") == 4


def test_chain_renders_as_latex(mazur):
    tex = mazur.chain("w5").latex()
    assert tex == (r"\frac{\partial E_{\mathrm{total}}}{\partial w_{5}} = "
                   r"\frac{\partial \mathit{net}_{o1}}{\partial w_{5}} \, \frac{\partial o_{1}}{\partial \mathit{net}_{o1}}"
                   r" \, \frac{\partial E_{\mathrm{total}}}{\partial o_{1}}")


def test_pretty_is_the_show_output(mazur):
    text = derive.pretty(mazur, ["w5"])
    assert "∂E_total/∂w5: 1 path from w5 to E_total" in text
    # only the error signals w5's gradient is built from
    assert "δ_net_o1 = o1·(1 - o1) · δ_o1" in text and "δ_h1" not in text and "δ_o2" not in text
    assert "δ_h1 = w5 · δ_net_o1 + w7 · δ_net_o2" in derive.pretty(mazur, ["w1"])


def test_iter_paths_and_downstream(mazur):
    assert tuple(mazur.iter_paths("b1")) == mazur.paths("b1")
    assert mazur.downstream("w5") == ("net_o1", "o1", "E_total")
    assert mazur.downstream("h2") == ("net_o1", "o1", "net_o2", "o2", "E_total")


def test_validate_catches_a_broken_record(mazur):
    mazur.validate()
    # a δ that forgets one of h1's consumers: the path sum no longer matches
    broken = tuple(Delta(dl.node, dl.terms[:1], dl.is_loss) if dl.node == "h1" else dl for dl in mazur.deltas)
    with pytest.raises(DerivationError, match="path sum and δ form disagree"):
        dataclasses.replace(mazur, deltas=broken).validate()
    # an edge between nodes the equations do not connect
    edges = tuple(dataclasses.replace(e, src="w7") if (e.dst, e.src) == ("net_o1", "w5") else e
                  for e in mazur.edges)
    with pytest.raises(DerivationError, match="is not an argument"):
        dataclasses.replace(mazur, edges=edges).validate()
    # an equation used before it is defined
    eqs = (mazur.equations[1],) + (mazur.equations[0],) + mazur.equations[2:]
    with pytest.raises(DerivationError, match="before they are defined"):
        dataclasses.replace(mazur, equations=eqs).validate()
