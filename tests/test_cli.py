"""The ``qcompile`` command: spec 000 reproduced from the CLI, JSON contract, clear errors."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from conftest import SPEC_XI
from qiskit import qpy
from test_homogenization import SPEC_RESERVOIR, SPEC_TABLE

from qcompile.cli import main


def run_cli(*args: str) -> int:
    try:
        main(list(args))
    except SystemExit as exc:
        return int(exc.code or 0)
    return 0


@pytest.mark.parametrize("alpha", sorted(SPEC_TABLE))
def test_cli_reproduces_spec_table_on_ideal_backend(alpha, tmp_path):
    path = tmp_path / "out.json"
    code = run_cli(
        "run",
        "homogenization",
        "--alpha",
        str(alpha),
        "--reservoir",
        "10",
        "--reservoir-state",
        SPEC_XI,
        "--backend",
        "aer",
        "--seed",
        "1",
        "--json",
        str(path),
    )
    assert code == 0
    data = json.loads(path.read_text())
    for k, expected in SPEC_TABLE[alpha].items():
        assert data["observables"]["system_fidelity"][k] == pytest.approx(expected, abs=1e-5)
        assert data["reference"]["system_fidelity"][k] == pytest.approx(expected, abs=1e-5)


def test_cli_json_contract_and_plot(tmp_path, capsys):
    path, png = tmp_path / "r.json", tmp_path / "r.png"
    code = run_cli(
        "run",
        "homogenization",
        "--alpha",
        "0.2",
        "--reservoir",
        "4",
        "--reservoir-state",
        SPEC_XI,
        "--backend",
        "aer:fake_torino",
        "--shots",
        "500",
        "--seed",
        "3",
        "--json",
        str(path),
        "--plot",
        str(png),
    )
    assert code == 0
    data = json.loads(path.read_text())
    for key in (
        "protocol",
        "parameters",
        "backend",
        "seed",
        "circuit",
        "observables",
        "reference",
        "versions",
    ):
        assert key in data
    assert {"num_qubits", "two_qubit_gates", "depth"} <= set(data["circuit"])
    assert len(data["observables"]["system_fidelity"]) == 5  # k = 0..N
    assert len(data["observables"]["reservoir_fidelity"]) == 4
    assert len(data["observables"]["system_fidelity_stderr"]) == 5
    assert data["reference"]["reservoir_fidelity"] == pytest.approx(SPEC_RESERVOIR, abs=1e-5)
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    printed = capsys.readouterr().out
    assert "reference" in printed and "stored as run" in printed


@pytest.mark.parametrize(
    "args,flag",
    [
        (["--alpha", "0.1", "--eta", "0.2"], "--alpha"),
        ([], "--alpha"),
        (["--alpha", "0.1", "--reservoir", "0"], "--reservoir"),
        (["--alpha", "0.1", "--reservoir", "200"], "--reservoir"),
        (["--alpha", "0.1", "--reservoir-state", "1,1,0"], "--reservoir-state"),
        (["--alpha", "0.1", "--input-state", "up"], "--input-state"),
        (["--alpha", "0.1", "--backend", "aer:fake_nowhere"], "fake_torino"),
        (["--alpha", "0.1", "--backend", "aer", "--shots", "0"], "--shots"),
        (["--alpha", "0.1", "--json", "/nonexistent-dir/x.json"], "--json"),
    ],
)
def test_bad_input_is_one_line_exit_2_nothing_written(args, flag, tmp_path, capsys):
    out = tmp_path / "r.json"
    if "--json" not in args:
        args = [*args, "--json", str(out)]
    code = run_cli("run", "homogenization", *args)
    captured = capsys.readouterr()
    assert code == 2
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("qcompile: error:")
    assert flag in lines[0]
    assert "Traceback" not in captured.err + captured.out
    assert not out.exists()
    assert list(tmp_path.glob("*.tmp")) == []


def test_compile_writes_qpy_and_report(tmp_path, capsys):
    circ, report = tmp_path / "c.qpy", tmp_path / "c.json"
    code = run_cli(
        "compile",
        "homogenization",
        "--alpha",
        "0.3",
        "--reservoir",
        "6",
        "--target",
        "fake_torino",
        "--initial-state",
        "any",
        "-o",
        str(circ),
        "--json",
        str(report),
    )
    assert code == 0
    with circ.open("rb") as handle:
        (circuit,) = qpy.load(handle)
    data = json.loads(report.read_text())
    two_qubit = sum(1 for inst in circuit.data if inst.operation.num_qubits == 2)
    assert data["circuit"]["two_qubit_gates"] == two_qubit >= 3 * 6  # an operator: 3 each
    assert data["compile_time_s"] > 0
    assert "two_qubit_gates" in capsys.readouterr().out


def test_protocols_lists_parameters_and_ranges(tmp_path, capsys):
    path = tmp_path / "p.json"
    assert run_cli("protocols", "--json", str(path)) == 0
    listing = json.loads(path.read_text())
    names = {p["name"] for p in listing["homogenization"]["parameters"]}
    assert {"alpha", "eta", "reservoir", "rounds", "input_state", "reservoir_state"} <= names
    assert "--reservoir" in capsys.readouterr().out


def test_runs_are_listed_after_a_run(capsys):
    assert (
        run_cli(
            "run", "homogenization", "--alpha", "0.2", "--reservoir", "2", "--backend", "reference"
        )
        == 0
    )
    capsys.readouterr()
    assert run_cli("runs", "list") == 0
    assert "homogenization" in capsys.readouterr().out


def test_console_script_entry_point():
    """The installed command, as a user runs it: help works and a bad value exits 2."""
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "qcompile.cli",
            "run",
            "homogenization",
            "--alpha",
            "0.1",
            "--reservoir",
            "-3",
        ],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 2
    assert "--reservoir" in done.stderr and "Traceback" not in done.stderr


def test_runs_list_filters_and_json(tmp_path, capsys):
    for alpha in ("0.2", "0.3"):
        assert run_cli("run", "homogenization", "--alpha", alpha, "--reservoir", "2",
                       "--backend", "reference") == 0  # fmt: skip
    assert run_cli("run", "homogenization", "--alpha", "0.2", "--reservoir", "0") == 2
    listing = tmp_path / "runs.json"
    assert run_cli("runs", "list", "--protocol", "homogenization", "--status", "done",
                   "--since", "2000-01-01", "--json", str(listing)) == 0  # fmt: skip
    rows = json.loads(listing.read_text())
    assert len(rows) == 2 and {r["status"] for r in rows} == {"done"}
    assert rows[0]["created"] >= rows[1]["created"]  # newest first
    assert run_cli("runs", "list", "--protocol", "lindblad", "--json", str(listing)) == 0
    assert json.loads(listing.read_text()) == []
    assert run_cli("runs", "list", "--since", "2999-01-01", "--json", str(listing)) == 0
    assert json.loads(listing.read_text()) == []
    capsys.readouterr()
    assert run_cli("runs", "list", "--status", "weird") == 2
    assert "--status" in capsys.readouterr().err
    assert run_cli("runs", "list", "--since", "yesterday") == 2
    assert "--since" in capsys.readouterr().err


@pytest.mark.parametrize("protocol", ["cat", "gkp"])
def test_bad_shots_on_the_oscillator_circuits_fail_before_any_work(protocol, capsys):
    """`--shots 0` on gkp/cat circuits ran for a minute, then raised from Qiskit; now every
    runner checks shots and seed before anything is stored."""
    from qcompile.backends import ResultStore

    assert run_cli("run", protocol, "--backend", "aer", "--shots", "0") == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--shots" in err[0]
    assert ResultStore().list_runs() == []
