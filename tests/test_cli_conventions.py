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
