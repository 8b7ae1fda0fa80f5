"""The conventions a user of any well-kept CLI expects (issue 32): ``--version``,
``python -m qcompile``, ``--json -`` (JSON alone on stdout, tables on stderr), and a coarse
``--dt`` that needs no ``--sample-every`` of its own."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from importlib.metadata import version

import pytest

import qcompile


def _qcompile(*args: str, home, check: bool = True) -> subprocess.CompletedProcess:
    env = dict(os.environ, QCOMPILE_HOME=str(home))
    result = subprocess.run(
        [sys.executable, "-m", "qcompile", *args], capture_output=True, text=True, env=env
    )
    if check:
        assert result.returncode == 0, result.stderr
    return result


def test_version_names_qcompile_and_its_libraries(tmp_path):
    result = _qcompile("--version", home=tmp_path)
    line = result.stdout.strip()
    assert line.startswith(f"qcompile {qcompile.__version__} (")
    assert f"qiskit {version('qiskit')}" in line and f"qutip {version('qutip')}" in line
    assert version("qcompile") == qcompile.__version__  # one version, as pip sees it


def test_json_dash_writes_the_json_alone_to_stdout(tmp_path):
    """``run ... --json -``: stdout parses as the run's JSON; the tables went to stderr; the
    run is stored as any other. The exact map's fidelities (spec 000 eq. 4) are the check."""
    result = _qcompile(
        "run", "homogenization", "--alpha", "0.5", "--reservoir", "3", "--input-state", "0",
        "--reservoir-state", "1", "--backend", "reference", "--seed", "2", "--json", "-",
        home=tmp_path,
    )  # fmt: skip
    data = json.loads(result.stdout)
    # |0> against xi = |1> after k partial swaps of alpha = 1/2: F_k = 1 - 2^-k exactly
    fidelities = data["reference"]["system_fidelity"]
    assert fidelities == pytest.approx([1 - 0.5**k for k in range(4)], abs=1e-9)
    assert "reference" in result.stderr and "stored as run" in result.stderr
    listed = json.loads(_qcompile("runs", "list", "--json", "-", home=tmp_path).stdout)
    assert [row["id"] for row in listed] == [data["run_id"]]


def test_protocols_json_dash(tmp_path):
    listing = json.loads(_qcompile("protocols", "--json", "-", home=tmp_path).stdout)
    assert {"homogenization", "lindblad", "gkp", "cat"} <= set(listing)


def test_a_coarse_dt_reports_every_step(tmp_path):
    """The README's coherent-feedback command with dt = 0.2 (> the default spacing 0.1) failed
    with `invalid --sample-every=0.1`; now the reported times are every step, and a dt that
    divides 0.1 keeps the 0.1 spacing."""
    from qcompile.protocols.coherent_feedback import coherent_feedback

    coarse = coherent_feedback(gamma=5, transient_at=0.4, t_max=1.2, dt=0.2)
    assert coarse.sample_every == pytest.approx(0.2)
    assert coherent_feedback(dt=0.02).sample_every == 0.1
    assert coherent_feedback(dt=0.03, t_max=0.9).sample_every == pytest.approx(0.09)
    with pytest.raises(qcompile.InvalidParameter, match="sample_every"):
        coherent_feedback(dt=0.2, t_max=1.2, sample_every=0.1)


def test_progress_off_a_terminal_is_a_line_every_ten_seconds(capsys):
    """In a log (no terminal) long work reports at its start, every ~10 s with the time left
    at the pace so far, and at its end — not a line per step, not silence."""
    from qcompile.cli.common import _PlainProgress

    now = [0.0]
    progress = _PlainProgress(clock=lambda: now[0], every=10.0)
    with progress as update:
        for step in range(101):
            now[0] = step * 0.5  # 50 s of work, 101 reports
            update("shots", step, 100)
    lines = capsys.readouterr().err.strip().splitlines()
    assert lines[0] == "qcompile: shots: 0/100"
    assert lines[-1] == "qcompile: shots: 100/100 after 50 s"
    assert len(lines) == 6  # at 0 (the start), 10, 20, 30, 40 and 50 s (the end)
    assert lines[1] == "qcompile: shots: 20/100 after 10 s, ~40 s left"


def test_third_party_warnings_do_not_reach_users():
    """The CLI shows qcompile's own warnings only (SciPy's sparse-efficiency hints raised in
    Qiskit's synthesis are not the user's to act on); -W/PYTHONWARNINGS still decide."""
    import warnings

    from qcompile.cli import _only_our_warnings

    with warnings.catch_warnings(record=True) as caught:
        _only_our_warnings()
        warnings.warn_explicit("sparse", UserWarning, "x.py", 1, module="scipy.sparse._index")
        warnings.warn_explicit("ours", UserWarning, "y.py", 1, module="qcompile.run.runner")
    assert [str(w.message) for w in caught] == ["ours"]


def test_a_sweep_table_shows_clean_parameters_and_the_main_result(tmp_path, monkeypatch,
                                                                   capsys):  # fmt: skip
    """alpha = 0.1:0.9:5 gives 0.30000000000000004 as a float; the table shows 0.3, and each
    point's final system fidelity, checked against spec 000's exact map (eqs. 4-5): for
    |0> against xi = |1>, F_N = 1 - (1 - p)^N with p = sin^2(pi alpha / 2)."""
    import math

    from test_cli import run_cli

    monkeypatch.setenv("QCOMPILE_HOME", str(tmp_path))
    monkeypatch.setenv("COLUMNS", "200")
    code = run_cli("sweep", "homogenization", "--grid", "alpha=0.1:0.9:5", "--param",
                   "reservoir=3", "--param", "input_state=0", "--param", "reservoir_state=1",
                   "--backend", "reference", "--workers", "1")  # fmt: skip
    assert code == 0
    printed = capsys.readouterr().out
    assert "0.30000000000000004" not in printed and "system_fidelity" in printed
    rows = {
        cells[0]: cells[1:]
        for line in printed.splitlines()
        if len(cells := [c.strip() for c in line.split("│")[1:-1]]) > 2
    }
    for alpha in ("0.1", "0.3", "0.5", "0.7", "0.9"):
        p = math.sin(math.pi * float(alpha) / 2) ** 2
        assert float(rows[alpha][0]) == pytest.approx(1 - (1 - p) ** 3, abs=1e-5), rows[alpha]
