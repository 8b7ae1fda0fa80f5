"""The benchmark suite machinery on a small slice (timing itself lives in benchmarks/)."""

from __future__ import annotations

import pytest
from test_cli import run_cli

from qcompile.app.benchmark_suite import SuiteCircuit, markdown_table, run_suite
from qcompile.protocols import homogenization


def test_suite_slice_reports_isa_outputs_and_the_3n_bound():
    circuits = [
        SuiteCircuit(
            f"homogenization_N{n}",
            "homogenization",
            homogenization(alpha=0.3, reservoir=n).circuit(),
            3 * n,
        )
        for n in (3, 6)
    ]
    result = run_suite(
        circuits,
        targets=("fake_fez", "all_to_all_cx"),
        compilers=("qcompile", "qiskit_o3"),
        shots=500,
        noisy_max_qubits=4,
    )
    assert len(result["rows"]) == 4
    for row in result["rows"]:
        assert row["qcompile"]["isa"] and row["qiskit_o3"]["isa"]
        assert row["qcompile"]["two_qubit_gates"] == row["bound"]
        assert row["qcompile"]["ratio_two_qubit_gates"] == pytest.approx(
            row["qcompile"]["two_qubit_gates"] / row["qiskit_o3"]["two_qubit_gates"]
        )
        if row["target"] == "fake_fez" and row["circuit"].endswith("N3"):
            assert 0.3 < row["qcompile"]["noisy_fidelity"] <= 1.0  # 4 active qubits: simulated
    checks = result["summary"]["targets_met"]
    assert checks["homogenization_exactly_3N"] and checks["every_output_isa"]
    table = markdown_table(result)
    assert "homogenization_exactly_3N: met" in table


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
                           homogenization(alpha=0.3, reservoir=3).circuit(), 9)  # fmt: skip
    monkeypatch.setattr(suite, "suite_circuits", lambda quick: [circuit])
    real = suite.run_suite
    monkeypatch.setattr(
        suite,
        "run_suite",
        lambda circuits, targets, compilers, **kw: real(
            circuits, targets=("all_to_all_cx",), compilers=compilers, noisy_max_qubits=0
        ),
    )
    path = tmp_path / "bench.md"
    assert run_cli("bench", "--quick", "--against", "qiskit", "--markdown", str(path)) == 0
    printed = capsys.readouterr().out.splitlines()
    rows = [line for line in path.read_text().splitlines() if line.startswith("|")]
    assert len(rows) == 3 and len(rows[0]) > 80
    assert all(row in printed for row in rows)
