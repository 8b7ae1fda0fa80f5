"""Coherent feedback end to end: the CLI's JSON contract, Fig. 1 from the circuits, the γ
sweep's falling plateau, and a device-noise run with plant tomography."""

from __future__ import annotations

import json

import numpy as np
import pytest
from device_limits import assert_at_limit, estimator_mean
from test_cli import run_cli

from qcompile.backends import ResultStore, get_backend
from qcompile.backends.reference import lindblad_reference
from qcompile.protocols.coherent_feedback import FIG1_TABLE, coherent_feedback, plateau
from qcompile.protocols.plugin import get_protocol


def test_cli_fig1_on_ideal_circuits(tmp_path, capsys):
    path, png = tmp_path / "cf.json", tmp_path / "cf.png"
    code = run_cli(
        "run",
        "coherent-feedback",
        "--gamma",
        "5",
        "--transient-at",
        "1",
        "--t-max",
        "6",
        "--dt",
        "0.01",
        "--backend",
        "aer",
        "--seed",
        "2",
        "--json",
        str(path),
        "--plot",
        str(png),
    )
    assert code == 0
    data = json.loads(path.read_text())
    for block in ("observables", "ideal", "reference"):
        assert len(data[block]["times"]) == len(data[block]["trace_distance"])
    lookup = dict(
        zip(data["observables"]["times"], data["observables"]["trace_distance"], strict=True)
    )
    for t, expected in FIG1_TABLE.items():
        if t in lookup:
            assert lookup[t] == pytest.approx(expected, abs=1e-3)
    assert max(v for t, v in lookup.items() if t < 1) < 1e-10
    printed = capsys.readouterr().out
    assert "reproduced within 1e-3" in printed
    assert png.read_bytes()[:4] == b"\x89PNG"


def test_cli_reference_backend_only(tmp_path):
    path = tmp_path / "ref.json"
    assert (
        run_cli(
            "run",
            "coherent-feedback",
            "--gamma",
            "5",
            "--t-max",
            "2",
            "--dt",
            "0.1",
            "--backend",
            "reference",
            "--json",
            str(path),
        )
        == 0
    )
    data = json.loads(path.read_text())
    assert data["observables"] == {} and data["ideal"] == {}
    assert max(data["reference"]["trace_distance"]) < 1e-10  # ideal start: Theorem 1


def test_persistent_noise_plateau_falls_with_gamma_for_reference_and_circuits(tmp_path, capsys):
    path = tmp_path / "sweep.json"
    code = run_cli(
        "run",
        "coherent-feedback",
        "--noise",
        "persistent",
        "--gamma",
        "0,5,10,20",
        "--t-max",
        "12",
        "--dt",
        "0.05",
        "--backend",
        "aer",
        "--seed",
        "1",
        "--json",
        str(path),
    )
    assert code == 0
    data = json.loads(path.read_text())
    rows = data["plateau"]
    for key in ("reference", "ideal"):
        values = [row[key] for row in rows]
        assert all(b < a for a, b in zip(values, values[1:], strict=False)), (key, values)
    # the circuits follow the reference to O(dt)
    for row in rows:
        assert row["ideal"] == pytest.approx(row["reference"], abs=0.02)
    assert "plateau falls as gamma grows" in capsys.readouterr().out


def test_device_noise_run_with_plant_tomography():
    """Short run on FakeTorino's noise: the tomographic D(t) carries bootstrap errors, the
    ideal circuit matches the reference to within its own step-size error, and the device is
    at its noisy limit (two-sided, tests/device_limits.py)."""
    plugin = get_protocol("coherent-feedback")
    options = {"solvers": {"lindblad_reference": lindblad_reference}, "device_every": 2}
    cf = coherent_feedback(gamma=5, transient_at=0.4, t_max=0.8, dt=0.2, sample_every=0.2)
    store = ResultStore()
    result = plugin.run(cf, get_backend("aer:fake_torino"), shots=1000, seed=3, store=store,
                        **options)  # fmt: skip
    obs = result.observables
    assert obs["times"] == [0.0, 0.4, 0.8]
    assert all(e > 0 for e in obs["trace_distance_stderr"])
    # the collision model's error is O(dt) or smaller: |ideal(dt) − ideal(dt/2)| bounds the
    # error of ideal(dt) by 2× for a first-order method (4/3× for second order)
    half = coherent_feedback(gamma=5, transient_at=0.4, t_max=0.8, dt=0.1, sample_every=0.2)
    finer = plugin.run(half, get_backend("aer"), shots=100, seed=1, **options).ideal
    step = np.abs(np.subtract(result.ideal["trace_distance"], finer["trace_distance"]))
    gap = np.abs(np.subtract(result.ideal["trace_distance"], result.reference["trace_distance"]))
    assert np.all(gap <= 2 * step + 1e-9), (gap, step)
    limit = estimator_mean(plugin.run, cf, "fake_torino", "trace_distance", 1000, **options)
    assert_at_limit(obs["trace_distance"], obs["trace_distance_stderr"], limit)
    assert result.circuit["compiled"]["two_qubit_gates"] > 0
    assert store.get_run(result.run_id)["status"] == "done"


@pytest.mark.parametrize(
    "args,flag",
    [
        (["--gamma", "-1"], "--gamma"),
        (["--dt", "0"], "--dt"),
        (["--dt", "7"], "--dt"),
        (["--rule", "sideways"], "--rule"),
        (["--gamma", "five"], "--gamma"),
    ],
)
def test_cli_bad_input(args, flag, capsys):
    assert run_cli("run", "coherent-feedback", "--backend", "reference", *args) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and flag in err[0]


def test_plateau_helper_uses_the_last_period():
    times = np.linspace(0, 10, 1001)
    values = np.where(times > 10 - np.pi, 0.3, 0.9)
    assert plateau(times, values) == pytest.approx(0.3)
