"""``qcompile compile P`` shows what ``qcompile run P`` runs (issue 32): with no
``--initial-state`` it compiles the circuits a run submits — from |0…0⟩, or a repeated step
as an operator — so both report the same two-qubit count for the same parameters and seed;
``--initial-state any`` gives the operator. Every protocol with circuits compiles on its
defaults."""

from __future__ import annotations

import json

import pytest
from test_cli import run_cli

EXAMPLES = "examples/amplitude_damping.toml"

#: protocol -> parameters shared by `compile` and `run` (small: each run takes seconds)
CASES = {
    "homogenization": ["--alpha", "0.3", "--reservoir", "5"],
    "coherent-feedback": ["--t-max", "0.4", "--dt", "0.1"],
    "lindblad": ["--model", EXAMPLES, "--t-max", "0.5", "--dt", "0.05", "--sample-every", "0.5"],
    "dissipative-qubits": [
        "--encodings",
        "af",
        "--collisions",
        "2",
        "--t-max",
        "10",
        "--dt",
        "0.5",
    ],  # fmt: skip
    "ising-memory": ["--size", "2", "--time", "1", "--dt", "0.5"],
}


def _json(capsys, *args: str) -> dict:
    capsys.readouterr()
    assert run_cli(*args, "--json", "-") == 0, capsys.readouterr().err
    return json.loads(capsys.readouterr().out)


def _run_two_qubit_gates(circuit: dict) -> int:
    """A run's compiled two-qubit count: the `circuit` block's own, or (states path, whose
    block also holds the lowering's count) its `compiled` entry."""
    compiled = circuit.get("compiled")
    return (compiled or circuit)["two_qubit_gates"]


@pytest.mark.parametrize("protocol", sorted(CASES))
def test_compile_reports_the_two_qubit_count_run_submits(protocol, tmp_path, monkeypatch,
                                                         capsys):  # fmt: skip
    from documented_commands import ROOT

    monkeypatch.chdir(ROOT)
    monkeypatch.setenv("QCOMPILE_HOME", str(tmp_path))
    args = CASES[protocol]
    compiled = _json(capsys, "compile", protocol, *args, "--target", "fake_torino", "--seed",
                     "1")  # fmt: skip
    ran = _json(capsys, "run", protocol, *args, "--backend", "aer:fake_torino", "--seed", "1",
                "--shots", "100")  # fmt: skip
    assert compiled["initial_state"] == "zero"
    assert compiled["circuit"]["two_qubit_gates"] == _run_two_qubit_gates(ran["circuit"])


def test_homogenization_compiles_to_2n_minus_1_as_run_and_3n_as_an_operator(
    tmp_path, monkeypatch, capsys
):
    """Spec 000 §4: a collision with a fresh reservoir qubit is a 1 → 2-qubit isometry (2 CX;
    the first, with two known inputs, 1), a general (SWAP)^α 3 — the analytic counts."""
    monkeypatch.setenv("QCOMPILE_HOME", str(tmp_path))
    n = 6
    base = ["compile", "homogenization", "--alpha", "0.3", "--reservoir", str(n), "--target",
            "fake_torino"]  # fmt: skip
    assert _json(capsys, *base)["circuit"]["two_qubit_gates"] == 2 * n - 1
    operator = _json(capsys, *base, "--initial-state", "any")
    assert operator["initial_state"] == "any" and operator["circuit"]["two_qubit_gates"] == 3 * n


def test_a_step_protocol_compiles_its_step_as_an_operator(tmp_path, monkeypatch, capsys):
    """GKP's and the cat's run compile one collision step, which acts on any oscillator state:
    compile's default for them is that operator (ancillas known after their resets)."""
    monkeypatch.setenv("QCOMPILE_HOME", str(tmp_path))
    cat = _json(capsys, "compile", "cat", "--target", "fake_torino")
    assert cat["initial_state"] == "auto"
    zero = _json(capsys, "compile", "cat", "--target", "fake_torino", "--initial-state", "zero")
    assert zero["circuit"]["two_qubit_gates"] < cat["circuit"]["two_qubit_gates"]


def test_every_protocol_with_circuits_compiles_on_its_defaults(tmp_path, monkeypatch, capsys):
    """The Ising memory's default T = 800 is 1600 rounds, more than a circuit backend runs:
    compile shows one round and says so; a protocol without circuits says it has none."""
    monkeypatch.setenv("QCOMPILE_HOME", str(tmp_path))
    memory = _json(capsys, "compile", "ising-memory", "--target", "fake_torino")
    assert "one collision round" in memory["note"]
    one_round = _json(capsys, "compile", "ising-memory", "--time", "0.5", "--target",
                      "fake_torino")  # fmt: skip
    assert "note" not in one_round
    assert memory["circuit"]["two_qubit_gates"] == one_round["circuit"]["two_qubit_gates"]
    for protocol in ("gkp", "dissipative-qubits"):
        assert _json(capsys, "compile", protocol, "--target", "fake_torino")["circuit"]
    capsys.readouterr()
    assert run_cli("compile", "photonic-ising-toy") == 2
    assert "defines no single circuit" in capsys.readouterr().err


@pytest.mark.parametrize("bad", [["--target", "nope"], ["--target", "fake_torino", "--seed", "-1"]])
def test_a_states_path_compile_refuses_bad_input_by_name_before_compiling(bad, capsys):
    """Compiling as the run does starts with the target and seed checked (no traceback from
    the transpiler for a negative seed)."""
    capsys.readouterr()
    assert run_cli("compile", "coherent-feedback", *CASES["coherent-feedback"], *bad) == 2
    name = bad[-2]
    assert f"invalid {name}=" in capsys.readouterr().err
