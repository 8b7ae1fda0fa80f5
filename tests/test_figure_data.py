"""What a figure shows is the JSON it comes from.

Each run is made by the CLI with ``--json``; the figure is drawn from that JSON (as
``--plot`` draws it) and its data are read back from the matplotlib artists: every line's
points, every error bar's centre and half-length. Each series the figure promises — device
points with their standard errors, the ideal circuit, the reference — must be among them,
equal to the JSON's numbers (1e-12).
"""

from __future__ import annotations

import json
from pathlib import Path

import matplotlib
import numpy as np
import pytest
from matplotlib.container import ErrorbarContainer
from test_cli import run_cli

from qcompile.app.plots import plot_result
from qcompile.results import RunResult

matplotlib.use("Agg")


def plotted(fig) -> list[tuple[np.ndarray, np.ndarray, np.ndarray | None]]:
    """``(x, y, yerr)`` of every line and error bar of ``fig`` (``yerr`` None for a line)."""
    found = []
    for ax in fig.axes:
        in_bars = set()
        for container in ax.containers:
            if not isinstance(container, ErrorbarContainer):
                continue
            line, caps, bars = container.lines
            in_bars.update([line, *caps])
            yerr = None
            if bars:
                segments = bars[0].get_segments()
                yerr = np.array([(s[1][1] - s[0][1]) / 2 for s in segments])
            found.append((np.asarray(line.get_xdata(), float),
                          np.asarray(line.get_ydata(), float), yerr))  # fmt: skip
        for line in ax.get_lines():
            if line not in in_bars:
                found.append((np.asarray(line.get_xdata(), float),
                              np.asarray(line.get_ydata(), float), None))  # fmt: skip
    return found


def assert_plotted(fig, x, y, yerr=None) -> None:
    """A series with these points (and these error bars) is drawn in ``fig``."""
    x, y = np.asarray(x, float), np.asarray(y, float)
    for px, py, perr in plotted(fig):
        if px.shape != x.shape or not np.allclose(px, x, rtol=0, atol=1e-12):
            continue
        if not np.allclose(py, y, rtol=0, atol=1e-12):
            continue
        if yerr is None or (perr is not None and np.allclose(perr, yerr, rtol=0, atol=1e-12)):
            return
    raise AssertionError(f"no series with x = {x}, y = {y}, yerr = {yerr} in the figure")


def _run(tmp_path, *args: str) -> tuple[dict, object]:
    path = tmp_path / "run.json"
    assert run_cli("run", *args, "--json", str(path), "--plot", str(tmp_path / "run.png")) == 0
    data = json.loads(path.read_text())
    return data, plot_result(RunResult.from_dict(data))


def test_homogenization_figure_is_its_json(tmp_path):
    data, fig = _run(tmp_path, "homogenization", "--alpha", "0.5", "--reservoir", "2",
                     "--backend", "aer", "--shots", "500", "--seed", "3",
                     "--recoverability")  # fmt: skip
    obs, ideal, ref = data["observables"], data["ideal"], data["reference"]
    k = np.arange(len(ref["system_fidelity"]))
    assert_plotted(fig, k, ref["system_fidelity"])
    assert_plotted(fig, k, ideal["system_fidelity"])
    assert_plotted(fig, k, obs["system_fidelity"], obs["system_fidelity_stderr"])
    j = np.arange(1, len(ref["reservoir_fidelity"]) + 1)
    assert_plotted(fig, j, ref["reservoir_fidelity"])
    assert_plotted(fig, j, obs["reservoir_fidelity"], obs["reservoir_fidelity_stderr"])
    block = data["recoverability"]
    exact, measured = block["reference"], block["measured"]
    assert_plotted(fig, exact["k"], exact["delta"])
    assert_plotted(fig, measured["k"], measured["delta"], measured["delta_stderr"])
    # the recovery fidelity is drawn as its infidelity 1 − F_e
    assert_plotted(fig, exact["k"], 1 - np.array(exact["recovery_fidelity"]))
    assert_plotted(fig, measured["k"], 1 - np.array(measured["recovery_fidelity"]),
                   measured["recovery_fidelity_stderr"])  # fmt: skip


def test_coherent_feedback_figure_is_its_json(tmp_path):
    data, fig = _run(tmp_path, "coherent-feedback", "--t-max", "0.4", "--dt", "0.1",
                     "--sample-every", "0.2", "--backend", "aer", "--shots", "300",
                     "--seed", "1", "--device-every", "1")  # fmt: skip
    obs, ideal, ref = data["observables"], data["ideal"], data["reference"]
    assert_plotted(fig, ref["times"], ref["trace_distance"])
    assert_plotted(fig, ideal["times"], ideal["trace_distance"])
    assert_plotted(fig, obs["times"], obs["trace_distance"], obs["trace_distance_stderr"])


def test_dissipative_qubits_figure_is_its_json(tmp_path):
    data, fig = _run(tmp_path, "dissipative-qubits", "--J", "2", "--alpha", "0.05",
                     "--t-max", "1", "--dt", "0.5", "--encodings", "af,physical",
                     "--backend", "aer", "--shots", "300", "--seed", "1")  # fmt: skip
    obs, ideal, ref = data["observables"], data["ideal"], data["reference"]
    for name in ("af", "physical"):
        for key in ("fidelity", "leakage", "purity"):
            if key not in ref[name]:
                continue
            assert_plotted(fig, ref["times"], ref[name][key])
            if key in obs.get(name, {}):
                assert_plotted(fig, obs["times"], obs[name][key], obs[name][f"{key}_stderr"])
        assert_plotted(fig, ideal["times"], ideal[name]["fidelity"])


def test_a_users_lindblad_figure_is_its_json(tmp_path):
    """The generic comparison figure, one panel per observable of the model file."""
    model = Path(__file__).parents[1] / "examples" / "amplitude_damping.toml"
    data, fig = _run(tmp_path, "lindblad", "--model", str(model), "--t-max", "1",
                     "--backend", "aer", "--shots", "300", "--seed", "2")  # fmt: skip
    obs, ideal, ref = data["observables"], data["ideal"], data["reference"]
    for observable in ("X", "Y", "Z", "excited"):
        assert_plotted(fig, ref["times"], ref[observable])
        assert_plotted(fig, ideal["times"], ideal[observable])
        assert_plotted(fig, obs["times"], obs[observable], obs[f"{observable}_stderr"])


def test_the_check_sees_a_wrong_series(tmp_path):
    """Not vacuous: a value changed, or error bars halved, is not found."""
    data, fig = _run(tmp_path, "homogenization", "--alpha", "0.5", "--reservoir", "2",
                     "--backend", "aer", "--shots", "500", "--seed", "3")  # fmt: skip
    obs = data["observables"]
    k = np.arange(len(obs["system_fidelity"]))
    wrong = np.array(obs["system_fidelity"]) + np.eye(len(k))[1] * 1e-3
    with pytest.raises(AssertionError, match="no series"):
        assert_plotted(fig, k, wrong)
    with pytest.raises(AssertionError, match="no series"):
        assert_plotted(fig, k, obs["system_fidelity"], np.array(obs["system_fidelity_stderr"]) / 2)
