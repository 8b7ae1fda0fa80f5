"""The one runner's step path (qcompile.run.step_pipeline): GKP and the cat qubit at circuit
level. Their options are checked before anything is stored (a sweep checks its points with
the same checks), a run's recipe replays it (``steps_on_device`` included), the device value
agrees with the iterated compiled step, a third party's step (amplitude damping) reproduces
its closed form, and the former runners still work, deprecated, with the same numbers."""

from __future__ import annotations

import math
from types import SimpleNamespace

import numpy as np
import pytest
from qiskit import QuantumCircuit

from qcompile.backends import ResultStore, get_backend
from qcompile.errors import InvalidParameter
from qcompile.protocols.plugin import get_protocol
from qcompile.run.recipe import execute


@pytest.mark.parametrize(
    ("name", "options", "backend", "match"),
    [
        ("gkp", {"steps_on_device": -1}, "aer", "steps_on_device"),
        ("gkp", {"grid_qubits": 40}, "aer", "grid_qubits"),
        ("gkp", {"dt": 0.5}, "aer", "dt"),
        ("gkp", {"horizon": -2.0}, "aer", "horizon"),
        ("gkp", {"colour": "red"}, "aer", "colour.*a run option of gkp"),
        ("gkp", {"zne": (1, 3)}, "aer", "zne"),
        ("gkp", {"grid_qubits": 5}, "reference", "circuit options grid_qubits"),
        ("gkp", {"horizon": 0.0}, "reference", "horizon"),
        ("cat", {"steps_on_device": 1.5}, "aer", "steps_on_device"),
        ("cat", {"shots": 0}, "aer", "shots"),
        ("cat", {"horizon": 5.0}, "reference", "circuit options horizon"),
    ],
)
def test_bad_options_are_refused_before_anything_is_stored(name, options, backend, match):
    """``check`` (what a sweep runs first) and ``run`` refuse alike, and nothing is stored."""
    plugin = get_protocol(name)
    protocol = plugin.from_mapping({})
    store = ResultStore()
    with pytest.raises(InvalidParameter, match=match):
        plugin.check(protocol, get_backend(backend), **options)
    with pytest.raises(InvalidParameter, match=match):
        plugin.run(protocol, get_backend(backend), store=store, **options)
    assert store.list_runs() == []


def test_the_step_path_refuses_a_backend_without_unitaries():
    """The Kraus pairs come from Aer's unitary simulator: a circuit backend without one is
    refused by name, before any work."""

    class Sampler:
        name = "sampler-only"
        runs_circuits = True
        noisy = False

    with pytest.raises(InvalidParameter, match="backend.*sampler-only.*unitary"):
        get_protocol("cat").check(get_protocol("cat").from_mapping({}), Sampler())


def test_a_stored_gkp_run_replays_with_its_device_steps():
    """The recipe records ``steps_on_device`` (not the default 3) and replays the run to the
    same numbers; on the ideal simulator the device's ⟨Z⟩ after one step agrees with the
    iterated compiled step within 4σ."""
    plugin = get_protocol("gkp")
    store = ResultStore()
    first = plugin.run(plugin.from_mapping({"sigma": 0.05}), get_backend("aer"), store=store,
                       seed=2, grid_qubits=4, steps_on_device=1, shots=2000)  # fmt: skip
    recipe = store.get_run(first.run_id)["recipe"]
    assert recipe["options"]["steps_on_device"] == 1
    again = execute(recipe, get_backend("aer"))
    assert again.observables == first.observables and again.ideal == first.ideal
    device = first.observables["device"]
    assert device["steps"] == 1
    assert abs(device["z"] - first.ideal["z_after_steps"]) < 4 * device["z_stderr"]


def test_the_former_oscillator_runners_still_work_with_the_same_numbers():
    """``run_cat_circuits`` warns and gives the plugin's result."""
    from qcompile.backends.solvers import default_solvers
    from qcompile.run.oscillator_circuits import run_cat_circuits

    plugin = get_protocol("cat")
    protocol = plugin.from_mapping({"photons": 0.5, "cutoff": 16})
    solvers = default_solvers()
    with pytest.warns(DeprecationWarning, match="run_cat_circuits"):
        old = run_cat_circuits(protocol, get_backend("aer"), evolve=solvers["evolve"],
                               evolve_states=solvers["evolve_states"],
                               sector_slowest=solvers["sector_slowest"], seed=4, shots=500,
                               steps_on_device=1)  # fmt: skip
    new = plugin.run(protocol, get_backend("aer"), seed=4, shots=500, steps_on_device=1)
    assert old.observables == new.observables and old.ideal == new.ideal


GAMMA, DT = 0.7, 0.05


def _damping_step(protocol, options):
    """A qubit's amplitude damping as one collision: CRY(θ) from the qubit onto the ancilla,
    then CX back, p = sin²(θ/2) = 1 − e^{−γ dt}."""
    p = 1 - math.exp(-GAMMA * DT)
    collision = QuantumCircuit(2)
    collision.cry(2 * math.asin(math.sqrt(p)), 0, 1)
    collision.cx(1, 0)
    steps = options.get("steps_on_device", 3)
    return SimpleNamespace(
        collisions=[SimpleNamespace(label="decay", circuit=collision, jump=None)], dt=DT,
        state=np.array([0.0, 1.0]), readout=np.array([1.0, -1.0]), readout_key="z",
        circuit={"encoding": "one qubit"}, recipe={"steps_on_device": steps},
        stage="damping", steps_on_device=steps,
    )  # fmt: skip


def _damping_estimate(protocol, step, kraus, solvers, report):
    """The excited population's decay rate from the compiled collision's Kraus pair."""
    ((k0, k1),) = kraus
    rho = np.diag([0.0, 1.0]).astype(complex)
    after = k0 @ rho @ k0.conj().T + k1 @ rho @ k1.conj().T
    return {"rate": -math.log(after[1, 1].real) / step.dt}, {"rate": GAMMA}


DAMPING = SimpleNamespace(
    NAME="damping", RUN_OPTIONS=(), reference=lambda protocol: {"rate": GAMMA},
    lower_step=_damping_step, estimate_step=_damping_estimate,
)  # fmt: skip


def test_a_third_party_step_protocol_reproduces_amplitude_damping():
    """A step-path protocol written outside qcompile: the rate from the compiled collision's
    Kraus pair is γ to 1e-9, and the device's ⟨Z⟩ after n steps from |1⟩ is 1 − 2e^{−nγdt}
    within 4σ (ideal Aer, 4000 shots)."""
    from qcompile.run.step_pipeline import run_steps

    protocol = SimpleNamespace(name="damping", parameters=lambda: {})
    result = run_steps(DAMPING, protocol, get_backend("aer"), seed=3, steps_on_device=5)
    assert result.observables["rate"] == pytest.approx(GAMMA, rel=1e-9)
    device = result.observables["device"]
    exact = 1 - 2 * math.exp(-5 * GAMMA * DT)
    assert device["steps"] == 5 and result.shots == 4000
    assert abs(device["z"] - exact) < 4 * device["z_stderr"]
    assert result.circuit["encoding"] == "one qubit" and result.reference == {"rate": GAMMA}
