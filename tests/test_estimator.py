"""The Estimator path (issue 16, item 2): Pauli expectation values instead of tomography counts.

Checked against references that share nothing with the code under test: the observables
moved onto a compiled circuit's physical qubits give the uncompiled circuit's exact
expectation values (statevectors, 1e-9); cutting circuits and observables down to the qubits
they use changes no expectation value; the Estimator's homogenization fidelities on the ideal
simulator agree with spec 000's exact reference within 4 standard errors, and on device noise
with the counted-tomography path on the same noise; resilience level 1 (TREX) moves the
device estimate toward the ideal one; IBM jobs (local mode and the device code path through a
stub service) are stored before they are waited on and finished after a lost fetch.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from conftest import SPEC_XI
from device_limits import assert_at_limit, noisy_limit
from qiskit import QuantumCircuit
from qiskit.circuit.random import random_circuit
from qiskit.quantum_info import SparsePauliOp, Statevector
from test_cli import run_cli
from test_ibm_backend import DEVICE, NO_WAIT, Flaky, Interrupted, StubJob, StubService

from qcompile.app.jobs import fetch_job, wait_job
from qcompile.backends import AerBackend, IBMBackend, ResultStore, get_backend
from qcompile.backends.estimator import (
    check_resilience_level,
    compact_pubs,
    physical_observables,
)
from qcompile.backends.retry import RetriesExhausted
from qcompile.errors import InvalidParameter
from qcompile.passes.compile import compile_circuits
from qcompile.protocols import homogenization
from qcompile.protocols.homogenization import run as run_experiment
from qcompile.states.tomography import bloch_from_expectations, bloch_observables


def _expectations(circuit: QuantumCircuit, observables) -> np.ndarray:
    state = Statevector(circuit.remove_final_measurements(inplace=False))
    return np.array([state.expectation_value(o).real for o in observables])


def test_observables_follow_the_compiled_layout_onto_physical_qubits():
    """Homogenization prefixes compiled for FakeTorino (state-aware, routed): X, Y, Z of the
    task qubits moved by the compiled layout = the logical circuit's, to 1e-9."""
    protocol = homogenization(alpha=0.37, reservoir=3, input_state="1", reservoir_state=SPEC_XI)
    tasks = protocol.tomography_tasks()
    compiled, _ = compile_circuits(
        [t.circuit for t in tasks], "fake_torino", seed=2, layout_from=protocol.circuit(),
        initial_state="zero",
    )  # fmt: skip
    for task, circuit in zip(tasks, compiled, strict=True):
        logical = bloch_observables(task)
        physical = physical_observables(circuit, logical)
        qubits, (small,), (small_obs,) = compact_pubs([circuit], [physical])
        assert len(qubits) < circuit.num_qubits
        np.testing.assert_allclose(
            _expectations(small, small_obs), _expectations(task.circuit, logical), atol=1e-9
        )


def test_compacting_keeps_every_expectation_value():
    """A random circuit on 4 of 7 qubits with observables touching an idle qubit too."""
    circuit = QuantumCircuit(7)
    circuit.compose(random_circuit(4, 5, seed=11), [1, 3, 4, 6], inplace=True)
    observables = [SparsePauliOp.from_sparse_list([("XZ", [1, 6], 0.5), ("Y", [3], 1.0)], 7),
                   SparsePauliOp.from_sparse_list([("Z", [2], 1.0)], 7)]  # fmt: skip
    qubits, (small,), (small_obs,) = compact_pubs([circuit], [observables])
    assert qubits == [1, 2, 3, 4, 6]
    np.testing.assert_allclose(
        _expectations(small, small_obs), _expectations(circuit, observables), atol=1e-12
    )


def test_bloch_vectors_from_expectations_carry_their_errors():
    rng = np.random.default_rng(3)
    estimate = bloch_from_expectations([0.3, 0.0, 0.4, 0.9, 0.5, 0.0], [0.01] * 3 + [0.02] * 3,
                                       4000, rng=rng)  # fmt: skip
    np.testing.assert_allclose(estimate.mean[0], [0.3, 0.0, 0.4])
    np.testing.assert_allclose(np.linalg.norm(estimate.mean[1]), 1.0)  # shrunk onto the ball
    spread = estimate.samples[:, 0].std(axis=0, ddof=1)
    np.testing.assert_allclose(spread, 0.01, rtol=0.15)  # 400 Gaussian resamples
    with pytest.raises(ValueError, match="non-finite"):
        bloch_from_expectations([np.nan, 0, 0], [0.1] * 3, 100)


def test_ideal_estimator_reproduces_the_exact_homogenization():
    """Spec 000 on the noiseless simulator through the Estimator (level 0): every fidelity
    within 4 standard errors of the exact reference, errors of the shot-noise size."""
    protocol = homogenization(alpha=0.5, reservoir=3, reservoir_state=SPEC_XI)
    result = run_experiment(protocol, AerBackend(), shots=4000, seed=5, estimator=True,
                            resilience_level=0)  # fmt: skip
    for key in ("system_fidelity", "reservoir_fidelity"):
        measured = np.array(result.observables[key])
        stderr = np.array(result.observables[key + "_stderr"])
        assert np.all(np.abs(measured - np.array(result.reference[key])) <= 4 * stderr + 1e-9)
        assert np.all((stderr > 1e-4) & (stderr < 0.02))
    assert result.mitigation["estimator"]["resilience_level"] == 0
    assert result.mitigation["estimator"]["shots_per_basis"] == 4000


def test_estimator_on_device_noise_agrees_with_counted_tomography_and_trex_helps():
    """aer:fake_torino, N = 2: the Estimator at level 0 estimates the same noisy states as the
    counted tomography (within 4 combined standard errors plus 0.01 for the slightly different
    compiled circuits); level 1 (TREX) brings the system fidelities closer to the ideal."""
    protocol = homogenization(alpha=0.5, reservoir=2)
    backend = AerBackend("fake_torino")
    counted = run_experiment(protocol, backend, shots=4000, seed=7)
    raw = run_experiment(protocol, backend, shots=4000, seed=7, estimator=True,
                         resilience_level=0)  # fmt: skip
    trex = run_experiment(protocol, backend, shots=4000, seed=7, estimator=True,
                          resilience_level=1)  # fmt: skip
    key = "system_fidelity"
    a, b = np.array(counted.observables[key]), np.array(raw.observables[key])
    sigma = np.hypot(counted.observables[key + "_stderr"], raw.observables[key + "_stderr"])
    assert np.all(np.abs(a - b) <= 4 * sigma + 0.01)
    ideal = np.array(raw.ideal[key])
    assert np.abs(np.array(trex.observables[key]) - ideal).mean() < np.abs(b - ideal).mean()
    assert "TREX readout rescaling" in trex.mitigation["estimator"]["techniques"]


def test_estimator_job_on_ibm_local_mode_survives_a_lost_fetch(tmp_path):
    """ibm:<fake> with --estimator: one Estimator job stored with its circuits, observables and
    options before the wait; a lost fetch is finished by ``jobs fetch`` with the same numbers
    (the local job is executed again from the store with its seed)."""
    store = ResultStore()
    protocol = homogenization(alpha=0.5, reservoir=2)
    elsewhere = ResultStore(tmp_path / "elsewhere.db")
    whole = run_experiment(protocol, IBMBackend(DEVICE, store=elsewhere), shots=2000,
                           seed=4, estimator=True, resilience_level=1)  # fmt: skip
    backend = Flaky(DEVICE, store=store, retry=NO_WAIT, fetch_failures=10)
    with pytest.raises(RetriesExhausted):
        run_experiment(protocol, backend, shots=2000, seed=4, store=store, estimator=True,
                       resilience_level=1)  # fmt: skip
    (job,) = store.list_jobs()
    row = store.get_job(job["id"], with_circuits=True)
    assert row["options"]["estimator"]["resilience_level"] == 1
    assert len(row["options"]["observables"]) == len(row["circuits"]) == protocol.collisions + 1
    assert not any(inst.operation.name == "measure" for c in row["circuits"] for inst in c.data)
    stored, result = fetch_job(job["id"], ResultStore())
    assert stored["status"] == "done" and len(stored["counts"][0]["evs"]) == 3
    assert result.observables == whole.observables
    assert result.mitigation["estimator"]["resilience_level"] == 1


def test_estimator_device_code_path_finds_its_job_by_id():
    """The real-device path (Batch + Estimator on the whole device, observables device-wide),
    through a stub service whose device is FakeManila: the process dies after submitting,
    ``jobs wait`` finishes the run; the fidelities are near the reference."""
    service, store = StubService(), ResultStore()

    class EstimatorInterrupted(Interrupted):
        def _estimator_once(self, *args):
            job = super()._estimator_once(*args)
            self.service.jobs[job.job_id()] = StubJob(job)
            return job

    backend = EstimatorInterrupted("ibm_stub", store=store, service=service)
    with pytest.raises(KeyboardInterrupt):
        run_experiment(homogenization(alpha=0.5, reservoir=2), backend, shots=2000, seed=8,
                       store=store, estimator=True, resilience_level=0)  # fmt: skip
    (job,) = store.list_jobs()
    assert not job["local"] and store.get_job(job["id"])["options"]["estimator"]
    stored, result = wait_job(job["id"], ResultStore(), poll_s=0.0, service=service)
    assert stored["status"] == "done" and store.get_run(job["run_id"])["status"] == "done"
    # within 4σ of the noisy limit (tests/device_limits.py): the Estimator at level 0 on the
    # stub's FakeManila noise, through the Aer path
    options = {"estimator": True, "resilience_level": 0}
    limit = noisy_limit(run_experiment, homogenization(alpha=0.5, reservoir=2),
                        "fake_manila", "system_fidelity", **options)  # fmt: skip
    assert_at_limit(result.observables["system_fidelity"],
                    result.observables["system_fidelity_stderr"], limit)  # fmt: skip


@pytest.mark.parametrize(
    ("options", "name"),
    [
        ({"zne": (1, 3)}, "zne"),
        ({"recoverability": True}, "recoverability"),
        ({"resilience_level": 3}, "resilience_level"),
    ],
)
def test_estimator_refuses_what_it_replaces(options, name):
    with pytest.raises(InvalidParameter, match=name):
        run_experiment(homogenization(alpha=0.5, reservoir=1), AerBackend("fake_torino"),
                       shots=100, seed=1, estimator=True, **options)  # fmt: skip


@pytest.mark.parametrize("backend", ["reference", "aer:fake_torino+readout-mitigation"])
def test_estimator_needs_a_backend_with_an_estimator(backend):
    with pytest.raises(InvalidParameter, match="estimator|mitigate_readout"):
        run_experiment(homogenization(alpha=0.5, reservoir=1), get_backend(backend),
                       shots=100, seed=1, estimator=True)  # fmt: skip


def test_resilience_level_reads_text():
    assert check_resilience_level("2") == 2
    with pytest.raises(InvalidParameter, match="resilience_level"):
        check_resilience_level(True)


def test_cli_estimator_run_records_what_it_applied(tmp_path):
    out = tmp_path / "h.json"
    args = ["run", "homogenization", "--alpha", "0.5", "--reservoir", "1", "--backend", "aer",
            "--shots", "1000", "--seed", "2", "--estimator", "--resilience-level", "0"]  # fmt: skip
    assert run_cli(*args, "--json", str(out)) == 0
    data = json.loads(out.read_text())
    assert data["mitigation"]["estimator"]["primitive"].endswith("executor_estimator.Estimator")
    assert len(data["observables"]["system_fidelity"]) == 2
    assert run_cli("run", "homogenization", "--reservoir", "1", "--alpha", "0.5", "--estimator",
                   "--zne", "1,3") == 2  # fmt: skip


def test_sweep_text_options_reach_the_estimator():
    """``sweep --option estimator=true --option resilience_level=0`` arrives as text."""
    from qcompile.protocols.plugin import get_protocol

    plugin = get_protocol("homogenization")
    result = plugin.run(homogenization(alpha=0.5, reservoir=1), AerBackend(), shots=500, seed=1,
                        estimator="true", resilience_level="0")  # fmt: skip
    assert result.mitigation["estimator"]["resilience_level"] == 0
    reference = np.array(result.reference["system_fidelity"])
    stderr = np.array(result.observables["system_fidelity_stderr"])
    assert np.all(np.abs(np.array(result.observables["system_fidelity"]) - reference)
                  <= 4 * stderr + 1e-9)  # fmt: skip


# -- joint states of a few qubits: the open-system runner (lindblad, coherent feedback) -----
def test_joint_state_from_exact_pauli_expectations():
    """4^k − 1 Pauli expectation values of qubits (3, 1) of a random 4-qubit state give its
    reduced density matrix, little-endian over (3, 1), to 1e-12."""
    from qiskit.quantum_info import partial_trace, random_statevector

    from qcompile.states.tomography import pauli_observables, state_from_expectations

    state = random_statevector(16, seed=21)
    observables = pauli_observables(4, [3, 1])
    assert len(observables) == 15
    evs = [state.expectation_value(o).real for o in observables]
    estimate = state_from_expectations(evs, [0.0] * 15, 2, 1000, bootstrap=3)
    expected = partial_trace(state, [0, 2]).reverse_qargs().data
    np.testing.assert_allclose(estimate.mean, expected, atol=1e-12)


EXAMPLES = __import__("pathlib").Path(__file__).parents[1] / "examples"


def test_lindblad_estimator_reproduces_the_ideal_circuit():
    """The XXZ chain (3 qubits, joint state of all three: 63 Pauli strings per time) on the
    noiseless simulator through the Estimator: every observable within 4 standard errors of
    the exact state of the same lowered circuit, plus 0.03 — projecting a linear-inversion
    estimate of a (near-)pure state onto the state space biases it inward by about the shot
    noise of its 63 components (the counted path shows the same bias, smaller per setting)."""
    from qcompile.protocols.lindblad import lindblad, run

    protocol = lindblad(EXAMPLES / "xxz_chain.toml", t_max=0.5, sample_every=0.5)
    result = run(protocol, AerBackend(), shots=4000, seed=3, estimator="true",
                 resilience_level=0)  # fmt: skip
    assert result.mitigation["estimator"]["resilience_level"] == 0
    times = result.ideal["times"]
    for key, values in result.observables.items():
        if key == "times" or key.endswith("_stderr"):
            continue
        ideal = np.array([result.ideal[key][times.index(t)] for t in result.observables["times"]])
        stderr = np.array(result.observables[key + "_stderr"])
        assert np.all(np.abs(np.array(values) - ideal) <= 4 * stderr + 0.03), key
        assert np.all(stderr[1:] > 1e-4)


def test_cli_coherent_feedback_and_lindblad_take_the_estimator(tmp_path):
    out = tmp_path / "cf.json"
    args = ["run", "coherent-feedback", "--t-max", "1", "--dt", "0.1", "--sample-every", "0.5",
            "--backend", "aer", "--shots", "500", "--seed", "1", "--device-every", "1",
            "--estimator", "--resilience-level", "0", "--json", str(out)]  # fmt: skip
    assert run_cli(*args) == 0
    data = json.loads(out.read_text())
    assert data["mitigation"]["estimator"]["shots_per_basis"] == 500
    assert len(data["observables"]["trace_distance"]) == 3
    args = ["run", "lindblad", "--model", str(EXAMPLES / "amplitude_damping.toml"), "--backend",
            "reference", "--estimator"]  # fmt: skip
    assert run_cli(*args) == 2  # no circuits, no Estimator: a clear error, before any work


def test_device_noise_estimator_is_reproducible_with_its_seed():
    """Levels 1 and 2 twirl and the local simulator samples noise: the same seed must give
    the same numbers (a local job executed again, a recipe replayed), here on 7 qubits."""
    protocol = homogenization(alpha=0.5, reservoir=6)
    backend = AerBackend("fake_torino")
    runs = [run_experiment(protocol, backend, shots=500, seed=1, estimator=True,
                           resilience_level=1) for _ in range(2)]  # fmt: skip
    assert runs[0].observables == runs[1].observables


def test_encodings_through_the_estimator_match_the_ideal_circuit():
    """Spec 001's AF code, two collisions, on the noiseless simulator through the Estimator:
    the code fidelity (from six two-qubit states, 15 Pauli strings each) within 4σ + 0.03
    (projection bias, as above) of the exact circuit; level 1 recorded on a noisy backend."""
    from qcompile.backends.propagators import reference_propagators
    from qcompile.protocols.dissipative_qubits import dissipative_qubits
    from qcompile.protocols.plugin import get_protocol

    protocol = dissipative_qubits(J=2, alpha=0.05, t_max=10, dt=0.5, encodings="af")
    result = get_protocol("dissipative-qubits").run(
        protocol,
        AerBackend(),
        solvers={"propagators": reference_propagators},
        collisions=2,
        device_every=2,
        shots=2000,
        seed=4,
        estimator=True,
        resilience_level=0,
    )
    ideal = dict(zip(result.ideal["times"], result.ideal["af"]["fidelity"], strict=True))
    t = result.observables["times"][-1]
    value = result.observables["af"]["fidelity"][-1]
    error = result.observables["af"]["fidelity_stderr"][-1]
    assert 0 < error < 0.05
    assert abs(value - ideal[t]) <= 4 * error + 0.03
    assert result.mitigation["estimator"]["resilience_level"] == 0


def test_an_observable_without_a_finite_error_is_kept_with_the_widest_one():
    """Runtime's level-2 fit can return σ = inf (or a NaN value): kept with σ = 1, listed."""
    from types import SimpleNamespace

    from qcompile.backends.estimator import UNCONSTRAINED_STD, expectation_data

    pubs = [
        SimpleNamespace(data=SimpleNamespace(evs=np.array([0.5, 0.9, np.nan]),
                                             stds=np.array([0.01, np.inf, 0.02]))),
        SimpleNamespace(data=SimpleNamespace(evs=np.array([0.1]), stds=np.array([0.03]))),
    ]  # fmt: skip
    first, second = expectation_data(pubs)
    assert first == {"evs": [0.5, 0.9, 0.0], "stds": [0.01, UNCONSTRAINED_STD, UNCONSTRAINED_STD],
                     "unconstrained": [1, 2]}  # fmt: skip
    assert second == {"evs": [0.1], "stds": [0.03]}
    json.dumps([first, second], allow_nan=False)  # storable as strict JSON


def test_resilience_level_2_removes_the_gate_noise_bias_of_a_two_qubit_circuit():
    """Runtime's level 2 (gate twirling and ZNE) on a two-qubit circuit of three CX on
    FakeManila's noise, ten seeds of 4000 shots: the mean of each ⟨P⟩ is the exact noiseless
    value within 4 standard errors of the mean (from the observed scatter), where level 0
    is off by more in total.

    (The scatter, not the reported σ, is the yardstick: runtime's level-2 errors are not
    calibrated per observable. Measured here: one observable's σ is 10-20× its scatter, the
    others' 0.6×; tests/test_sigma_calibration.py checks that pooled they never understate.)"""
    from qiskit.quantum_info import SparsePauliOp as Pauli

    from qcompile.backends.estimator import (
        estimator_options,
        expectation_data,
        physical_observables,
        run_local,
    )
    from qcompile.passes.targets import fake_backend

    device = fake_backend(DEVICE)
    circuit = QuantumCircuit(2)
    circuit.ry(1.0, 0)
    circuit.cx(0, 1)
    circuit.rx(0.7, 1)
    circuit.cx(0, 1)
    circuit.ry(0.4, 1)
    circuit.cx(1, 0)
    circuit.rz(0.3, 0)
    circuit.cx(0, 1)
    labels = ["ZI", "IZ", "ZZ", "XX"]
    exact = np.array([Statevector(circuit).expectation_value(Pauli(p)).real for p in labels])
    (compiled,), _ = compile_circuits([circuit], device, seed=1, initial_state="any")
    assert compiled.num_nonlocal_gates() >= 2  # the noise to extrapolate away is there
    observables = [physical_observables(compiled, [Pauli(p) for p in labels])]

    def values(level: int) -> np.ndarray:
        return np.array([
            expectation_data(run_local([compiled], observables,
                                       estimator_options(4000, level, seed), device).result()
                             )[0]["evs"]
            for seed in range(10)
        ])  # fmt: skip

    raw, mitigated = values(0), values(2)
    error_of_mean = mitigated.std(axis=0, ddof=1) / np.sqrt(len(mitigated))
    assert np.all(np.abs(mitigated.mean(axis=0) - exact) < 4 * error_of_mean)
    assert np.abs(raw.mean(axis=0) - exact).sum() > 2 * np.abs(mitigated.mean(axis=0) - exact).sum()
