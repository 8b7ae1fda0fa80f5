"""The benchmark suite machinery on a small slice (timing itself lives in benchmarks/)."""

from __future__ import annotations

import pytest
from test_cli import run_cli

from qcompile.app.benchmark_suite import SuiteCircuit, markdown_table, run_suite
from qcompile.protocols import homogenization


def _measured(circuit):
    circuit = circuit.copy()
    circuit.measure_all()
    return circuit


def test_suite_slice_reports_isa_outputs_and_the_2n_bound():
    """Measured homogenization circuits (experiments from |0…0⟩): qcompile's state-aware
    synthesis reaches 2N − 1 ≤ 2N two-qubit gates; ratios and checks are those of the rows."""
    circuits = [
        SuiteCircuit(
            f"homogenization_N{n}",
            "homogenization",
            _measured(homogenization(alpha=0.3, reservoir=n).circuit()),
            2 * n,
        )
        for n in (3, 6)
    ]
    result = run_suite(
        circuits,
        targets=("fake_fez", "all_to_all_cx"),
        compilers=("qcompile", "qiskit_o3"),
        shots=500,
        noisy_max_qubits=4,
        repeats=1,
    )
    assert len(result["rows"]) == 4
    for row in result["rows"]:
        assert row["qcompile"]["isa"] and row["qiskit_o3"]["isa"]
        assert row["qcompile"]["two_qubit_gates"] == row["bound"] - 1
        assert row["best_peer_two_qubit_gates"] == row["qiskit_o3"]["two_qubit_gates"]
        assert row["qcompile"]["ratio_two_qubit_gates"] == pytest.approx(
            row["qcompile"]["two_qubit_gates"] / row["qiskit_o3"]["two_qubit_gates"]
        )
        if row["target"] == "fake_fez" and row["circuit"].endswith("N3"):
            assert 0.3 < row["qcompile"]["noisy_fidelity"] <= 1.0  # 4 active qubits: simulated
            assert 0 < row["qcompile"]["estimated_success"] < 1
    checks = result["summary"]["targets_met"]
    assert checks["homogenization_le_2N"] and checks["every_output_isa"]
    assert checks["protocol_two_qubit_le_best_peer_every_circuit"]
    table = markdown_table(result)
    assert "homogenization_le_2N: met" in table


def test_estimated_success_is_the_product_of_calibrated_errors():
    """Independent of the suite: a hand-built ISA circuit on FakeFez, its ESP from the
    target's own error table."""
    from qiskit import QuantumCircuit

    from qcompile.app.benchmark_suite import estimated_success
    from qcompile.passes.targets import fake_backend

    backend = fake_backend("fake_fez")
    qc = QuantumCircuit(backend.num_qubits, 2)
    a, b = next(iter(backend.target["cz"]))
    qc.sx(a)
    qc.cz(a, b)
    qc.measure([a, b], [0, 1])
    target = backend.target
    expected = (
        (1 - target["sx"][(a,)].error)
        * (1 - target["cz"][(a, b)].error)
        * (1 - target["measure"][(a,)].error)
        * (1 - target["measure"][(b,)].error)
    )
    assert estimated_success(qc, backend) == pytest.approx(expected, rel=1e-12)
    assert estimated_success(qc, None) is None


@pytest.mark.parametrize(
    "args,flag",
    [
        (["--suite", "random"], "--suite"),
        (["--against", "cirq"], "--against"),
        (["--targets", "fake_moon"], "--targets"),
    ],
)
def test_bench_bad_input(args, flag, capsys):
    assert run_cli("bench", *args) == 2
    assert flag in capsys.readouterr().err


def test_compile_cli_reports_48_for_n16_on_torino(tmp_path):
    """As an operator (`--initial-state any`; the default compiles what run runs: 31)."""
    path = tmp_path / "c.json"
    assert (
        run_cli(
            "compile",
            "homogenization",
            "--alpha",
            "0.3",
            "--reservoir",
            "16",
            "--target",
            "fake_torino",
            "--initial-state",
            "any",
            "--json",
            str(path),
        )
        == 0
    )
    import json

    data = json.loads(path.read_text())
    assert data["circuit"]["two_qubit_gates"] == 48
    assert {"two_qubit_gates", "depth"} <= set(data["circuit"]) and data["compile_time_s"] > 0


def test_bench_markdown_rows_are_never_wrapped(monkeypatch, capsys, tmp_path):
    """Piped (80 columns) the printed markdown is the written file, line for line: a wrapped
    row is not a table row. The suite itself is replaced by one small row."""
    import qcompile.app.benchmark_suite as suite

    circuit = SuiteCircuit("homogenization_N3", "homogenization",
                           homogenization(alpha=0.3, reservoir=3).circuit(), 6)  # fmt: skip
    monkeypatch.setattr(suite, "suite_circuits", lambda quick: [circuit])
    real = suite.run_suite
    monkeypatch.setattr(
        suite,
        "run_suite",
        lambda circuits, targets, compilers, **kw: real(
            circuits,
            targets=("all_to_all_cx",),
            compilers=compilers,
            noisy_max_qubits=0,
            repeats=1,
        ),
    )
    path = tmp_path / "bench.md"
    assert run_cli("bench", "--quick", "--against", "qiskit", "--markdown", str(path)) == 0
    printed = capsys.readouterr().out.splitlines()
    rows = [line for line in path.read_text().splitlines() if line.startswith("|")]
    assert len(rows) == 3 and len(rows[0]) > 80
    assert all(row in printed for row in rows)


def test_compile_cli_initial_state_zero_reaches_2n_minus_1(tmp_path, capsys):
    """`--initial-state zero`: the circuit runs from |0…0⟩, so every collision with a fresh
    reservoir qubit is a 2-CX isometry (the first, on two known states, 1); bad values are
    refused naming the flag."""
    import json

    path = tmp_path / "c.json"
    args = ["compile", "homogenization", "--alpha", "0.3", "--reservoir", "16"]
    assert run_cli(*args, "--initial-state", "zero", "--json", str(path)) == 0
    data = json.loads(path.read_text())
    assert data["circuit"]["two_qubit_gates"] == 2 * 16 - 1 and data["initial_state"] == "zero"
    assert run_cli(*args, "--initial-state", "plus") == 2
    assert "--initial-state" in capsys.readouterr().err


def test_a_failing_peer_is_recorded_and_the_run_goes_on(monkeypatch):
    import qcompile.app.benchmark_suite as suite

    def broken(circuit, backend, seed):
        raise RuntimeError("peer broke")

    monkeypatch.setitem(suite.COMPILERS, "qiskit_o2", broken)
    circuits = [
        SuiteCircuit(
            "homogenization_N2",
            "homogenization",
            _measured(homogenization(alpha=0.3, reservoir=2).circuit()),
            4,
        )  # fmt: skip
    ]
    result = run_suite(circuits, targets=("all_to_all_cx",),
                       compilers=("qcompile", "qiskit_o2", "qiskit_o3"), repeats=1)  # fmt: skip
    (row,) = result["rows"]
    assert row["qiskit_o2"] == {"error": "RuntimeError: peer broke"}
    assert row["best_peer_two_qubit_gates"] == row["qiskit_o3"]["two_qubit_gates"] == 6
    assert "| error |" in markdown_table(result)
