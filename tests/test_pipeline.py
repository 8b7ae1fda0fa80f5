"""The one runner (qcompile.run.pipeline) beyond the basic data flow: mitigation
(qcompile.run.mitigated_execution) for any data-flow protocol — a third party's protocol gets
readout mitigation and zero-noise extrapolation without a line of its own —, the Ising memory
and the bosonic reference runs on it, and a protocol's own run options."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys

import numpy as np
import pytest
from test_plugins import DATA_FLOW_SOURCE, _damped, _install

from qcompile.backends import get_backend
from qcompile.errors import InvalidParameter
from qcompile.protocols.ising_memory import ising_memory
from qcompile.protocols.plugin import get_protocol, refresh
from qcompile.run.mitigated_execution import _extrapolated
from qcompile.run.recipe import execute, make_recipe
from qcompile.run.zne import richardson_weights


@pytest.fixture
def damp(tmp_path, monkeypatch):
    """`damp` (R_y(θ), then amplitude damping p; test_plugins) installed in the session."""
    site = tmp_path / "site"
    site.mkdir()
    _install(site, "damp_plugin", DATA_FLOW_SOURCE, "damp = damp_plugin")
    monkeypatch.syspath_prepend(str(site))
    refresh()
    yield
    monkeypatch.undo()
    sys.modules.pop("damp_plugin", None)
    refresh()


def test_richardson_extrapolation_of_every_observable_with_an_error():
    """Points on E(λ) = a + bλ + cλ² at λ = 1, 3, 5 extrapolate to a exactly (1e-12), lists
    element by element; errors propagate as √(Σ w_i² σ_i²); values without an error and
    the method (marked) are the scale-1 ones."""
    scales = (1, 3, 5)

    def point(lam: float) -> dict:
        return {"p": 0.9 - 0.05 * lam + 0.002 * lam**2, "p_stderr": 0.01 * lam,
                "v": [0.5 + 0.1 * lam, -0.2 * lam], "v_stderr": [0.01, 0.02],
                "shots": 1000, "method": "counted"}  # fmt: skip

    out = _extrapolated([point(s) for s in scales], scales)
    w = richardson_weights(scales)
    assert out["p"] == pytest.approx(0.9, abs=1e-12)
    assert out["v"] == pytest.approx([0.5, 0.0], abs=1e-12)
    sigma = 0.01 * np.array(scales)
    assert out["p_stderr"] == pytest.approx(math.sqrt(np.sum(w**2 * sigma**2)))
    assert out["v_stderr"][1] == pytest.approx(0.02 * math.sqrt(np.sum(w**2)))
    assert out["shots"] == 1000 and out["method"] == "counted, zero-noise extrapolated"


def test_a_third_party_protocol_gets_zne_on_device_noise(damp):
    """`damp` (no mitigation code of its own) with zne=1,3,5 on FakeTorino noise: the
    extrapolated ⟨Z⟩, ⟨X⟩ within 4σ of the closed form, their errors at least |w_1| times the
    raw ones (√(Σ w_i² σ_i²) ≥ |w_1| σ_1), the record complete."""
    recipe = make_recipe("damp", {"theta": 1.1, "p": 0.3}, shots=8000, seed=4, zne="1,3,5")
    assert recipe["options"]["zne"] == "1,3,5"
    result = execute(recipe, get_backend("aer:fake_torino"))
    exact, obs, zne = _damped(1.1, 0.3), result.observables, result.mitigation["zne"]
    assert zne["scale_factors"] == [1, 3, 5] and zne["shots_overhead"] == 3
    assert sum(zne["weights"]) == pytest.approx(1.0)
    assert zne["folding"].startswith("global") and "by_scale" not in zne
    for key, value in exact.items():
        assert abs(obs[key] - value) < 4 * obs[f"{key}_stderr"]
        assert obs[f"{key}_stderr"] >= abs(zne["weights"][0]) * zne["raw"][f"{key}_stderr"] - 1e-12
        assert abs(zne["raw"][key] - value) < 0.1


def test_a_third_party_protocol_gets_readout_mitigation(damp):
    """`damp` on a readout-mitigated fake device: mitigated values within 4σ of the closed
    form, the same shots before the inversion kept under mitigation.readout.raw."""
    recipe = make_recipe("damp", {"theta": 0.8, "p": 0.2}, shots=8000, seed=6)
    result = execute(recipe, get_backend("aer:fake_torino+readout-mitigation"))
    exact, readout = _damped(0.8, 0.2), result.mitigation["readout"]
    assert readout["method"] == "mthree" and set(readout["raw"]) == {"Z", "Z_stderr", "X",
                                                                     "X_stderr"}  # fmt: skip
    for key, value in exact.items():
        assert abs(result.observables[key] - value) < 4 * result.observables[f"{key}_stderr"]


def test_mitigation_options_are_refused_before_any_work(damp):
    """The Estimator needs a protocol with estimator observables, a circuit backend; ZNE
    device noise; a protocol without circuits takes neither — each one InvalidParameter."""
    plugin = get_protocol("damp")
    protocol = plugin.from_mapping({})
    with pytest.raises(InvalidParameter, match="estimator.*estimator_observables"):
        plugin.run(protocol, get_backend("aer"), estimator=True)
    with pytest.raises(InvalidParameter, match="zne.*device-noise"):
        plugin.run(protocol, get_backend("aer"), zne=(1, 3))
    toy = get_protocol("photonic-ising-toy")
    with pytest.raises(InvalidParameter, match="zne.*runs no circuits"):
        toy.run(toy.from_mapping({}), get_backend("reference"), zne=(1, 3))
    memory = get_protocol("ising-memory")
    with pytest.raises(InvalidParameter, match="estimator.*circuit backend"):
        memory.run(memory.from_mapping({"size": 2}), get_backend("reference"), estimator=True)


def test_ising_memory_is_a_data_flow_protocol_with_its_old_entry_point():
    """The registry runs the Ising memory through the one runner (recipes still name the
    ``ising`` runner); ``run_ising_memory`` still works, deprecated, with its solvers: the
    exact ME stub's value comes back as the reference, the circuit's answer within 4σ of the
    exact collision chain."""
    from qcompile.protocols.plugin import DataFlowPlugin
    from qcompile.run.ising_memory import run_ising_memory

    assert isinstance(get_protocol("ising-memory"), DataFlowPlugin)
    assert make_recipe("ising-memory", {"size": 2})["runner"] == "ising"
    protocol = ising_memory(size=2, delta=0.05, time=2.0, dt=0.5, trajectories=1)
    with pytest.warns(DeprecationWarning, match="run_ising_memory"):
        result = run_ising_memory(protocol, get_backend("aer"), exact=lambda m, rates, t: 0.25,
                                  shots=2000, seed=1)  # fmt: skip
    obs = result.observables
    assert result.reference["success_probability"] == 0.25
    assert result.ideal["success_probability"] == pytest.approx(
        protocol.collision_chain_success(4), abs=1e-12
    )
    assert abs(obs["success_probability"] - result.ideal["success_probability"]) < (
        4 * obs["success_probability_stderr"]
    )


def test_the_cli_offers_zne_to_a_data_flow_protocol(damp, tmp_path):
    """`qcompile run damp --zne 1,3`: an option `damp` never declared, generated for every
    data-flow protocol with circuits; the JSON records the extrapolation (weights 3/2, −1/2:
    Richardson through λ = 1, 3), the extrapolated ⟨Z⟩ within 4σ of the closed form. The
    Estimator is not offered to a protocol without estimator observables."""
    out = tmp_path / "damp.json"
    env = os.environ | {"PYTHONPATH": str(tmp_path / "site"), "QCOMPILE_HOME": str(tmp_path)}
    done = subprocess.run(
        [sys.executable, "-m", "qcompile.cli", "run", "damp", "--theta", "1.1",
         "--backend", "aer:fake_torino", "--shots", "4000", "--seed", "2", "--zne", "1,3",
         "--json", str(out)],
        env=env, capture_output=True, text=True,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    data = json.loads(out.read_text())
    assert data["mitigation"]["zne"]["weights"] == pytest.approx([1.5, -0.5])
    exact = _damped(1.1, 0.3)["Z"]
    assert abs(data["observables"]["Z"] - exact) < 4 * data["observables"]["Z_stderr"]
    names = [p.name for p in get_protocol("damp").RUN_OPTIONS]
    assert names == ["zne"]
    assert [p.name for p in get_protocol("ising-memory").RUN_OPTIONS] == [
        "zne",
        "estimator",
        "resilience_level",
    ]


def test_run_options_reach_the_hooks_and_the_recipe(tmp_path):
    """GKP on the reference backend runs on the one runner: its ``horizon`` option reaches
    ``simulate`` (the solver is asked for times up to it) and is recorded, so the stored
    recipe replays it (it was dropped before: a replay fitted over the default horizon). With
    a solver whose ⟨Z⟩ is exactly e^{−0.3t} the rate is 0.3 (1e-9) and the truncation bias
    0.3 minus the exact torus rate. An undeclared option is refused."""
    from qcompile.backends import ResultStore
    from qcompile.protocols.gkp import gkp

    horizons = []

    def evolve(jumps, hamiltonian, rho0, times, observables):
        horizons.append(float(times[-1]))
        return [np.exp(-0.3 * np.asarray(times))]

    store = ResultStore(tmp_path / "runs.db")
    plugin = get_protocol("gkp")
    protocol = gkp(epsilon=0.15, cutoff=40, noise="quadrature", sigma=0.02)
    first = plugin.run(protocol, get_backend("reference"), solvers={"evolve": evolve},
                       horizon=12.0, seed=1, store=store)  # fmt: skip
    recipe = store.get_run(first.run_id)["recipe"]
    assert recipe["options"]["horizon"] == 12.0 and recipe["runner"] == "gkp"
    again = execute(recipe, get_backend("reference"), solvers={"evolve": evolve})
    assert horizons == [12.0, 12.0]
    torus = protocol.rate_reference()["torus_rate"]
    for result in (first, again):
        assert result.observables["rate"] == pytest.approx(0.3, abs=1e-9)
        assert result.observables["truncation_bias"] == pytest.approx(0.3 - torus, abs=1e-9)
        assert result.reference["torus_rate"] == torus and result.backend == "reference"
    memory = get_protocol("ising-memory")
    with pytest.raises(InvalidParameter, match="bogus.*run option of ising-memory"):
        memory.run(memory.from_mapping({"size": 2}), get_backend("reference"), bogus=1)
