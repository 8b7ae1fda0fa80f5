"""Aer backends: the active-qubit noise model is Aer's device model, compiled circuits are
correct on the device's qubits, and backend names resolve (or list the valid ones)."""

from __future__ import annotations

import numpy as np
import pytest
from qiskit import QuantumCircuit, transpile
from qiskit.quantum_info import Statevector, partial_trace
from qiskit_aer import AerSimulator

from qcompile.backends import get_backend
from qcompile.backends.aer import active_qubits, compact, restricted_noise_model
from qcompile.errors import BackendUnavailable
from qcompile.passes.compile import compile_circuits
from qcompile.passes.targets import fake_backend
from qcompile.protocols import homogenization


def test_restricted_noise_equals_full_device_noise():
    """Exact noisy density matrices: active-qubit model vs AerSimulator.from_backend."""
    device = fake_backend("fake_torino")
    h = homogenization(alpha=0.3, reservoir=2, reservoir_state="polar:2.2,0")
    (compiled,), _ = compile_circuits([h.circuit()], device, seed=3)
    qubits = active_qubits([compiled])
    full = compiled.copy()
    full.save_density_matrix(qubits=qubits, label="rho")
    rho_full = (
        AerSimulator.from_backend(device, method="density_matrix").run(full).result().data()["rho"]
    )
    small = compact(compiled, qubits)
    small.save_density_matrix(qubits=range(len(qubits)), label="rho")
    sim = AerSimulator(noise_model=restricted_noise_model(device, qubits), method="density_matrix")
    rho_small = sim.run(small).result().data()["rho"]
    assert np.allclose(np.asarray(rho_small), np.asarray(rho_full), atol=1e-10)
    # and the noise is really there: the state is mixed
    assert np.real(np.trace(np.asarray(rho_small) @ np.asarray(rho_small))) < 0.999


@pytest.mark.parametrize(
    "device,reservoir", [("fake_torino", 3), ("fake_sherbrooke", 3), ("fake_torino", 8)]
)
def test_compiled_circuit_on_device_qubits_has_the_exact_states(device, reservoir):
    """Compile with a shared layout, relabel onto the active qubits, follow the routing
    permutation (the fused chain swaps included): every qubit's reduced state equals the
    iterated map's."""
    h = homogenization(
        alpha=0.37, reservoir=reservoir, input_state="+i", reservoir_state="polar:2.2,0.5"
    )
    (compiled,), report = compile_circuits([h.circuit()], device, seed=5, layout_from=h.circuit())
    assert report.two_qubit_gates >= 3 * h.reservoir
    qubits = active_qubits([compiled])
    small = compact(compiled, qubits)
    final = compiled.layout.final_index_layout(filter_ancillas=True)
    psi = Statevector(small)
    system, reservoir = h.iterated_map()
    for virtual, expected in enumerate([system[-1], *reservoir]):
        where = qubits.index(final[virtual])
        others = [q for q in range(small.num_qubits) if q != where]
        assert np.allclose(partial_trace(psi, others).data, expected, atol=1e-8)


def test_backend_names():
    assert get_backend("aer").name == "aer"
    assert get_backend("aer:fake_torino").name == "aer:fake_torino"
    assert get_backend("aer:FAKE_SHERBROOKE").name == "aer:fake_sherbrooke"
    with pytest.raises(BackendUnavailable, match="fake_torino"):
        get_backend("aer:fake_nowhere")
    with pytest.raises(BackendUnavailable, match="valid names"):
        get_backend("qpu")


def test_noisy_run_counts_follow_the_noise():
    """Readout and gate noise move |0⟩ counts away from 100%, but only a little."""

    backend = get_backend("aer:fake_torino")
    qc = QuantumCircuit(1, 1)
    qc.x(0)
    qc.x(0)
    qc.measure(0, 0)
    (compiled,), _ = compile_circuits([qc], backend.compile_target, seed=1)
    (counts,) = backend.run([compiled], 20000, seed=2)
    p1 = counts.get("1", 0) / 20000
    assert 0 < p1 < 0.1


def _collision_circuit() -> QuantumCircuit:
    """Amplitude damping of qubit 0 by three collisions with a reset ancilla (qubit 1)."""

    qc = QuantumCircuit(3, 3)
    qc.ry(2.2, 0)
    qc.h(2)
    for _ in range(3):
        qc.cry(0.9, 0, 1)
        qc.cx(1, 0)
        qc.reset(1)
        qc.cz(0, 2)
    qc.measure(range(3), range(3))
    return qc


def test_density_matrix_sampling_of_mid_circuit_resets_has_the_exact_distribution():
    """Circuits with mid-circuit resets are sampled from one density matrix (fast); the counts
    follow the exact distribution of qiskit.quantum_info's DensityMatrix (total variation
    within 3/sqrt(shots)), and the choice of method follows its rules."""
    from qiskit.quantum_info import DensityMatrix

    from qcompile.backends.simulation_method import simulation_method

    assert simulation_method([_collision_circuit()], 4000) == "automatic"  # cry: no DM gate
    qc = transpile(_collision_circuit(), basis_gates=["cx", "ry", "rz", "sx", "x", "h", "cz"])
    assert simulation_method([qc], 4000) == "density_matrix"
    assert simulation_method([qc], 16) == "automatic"  # too few shots to pay
    mid = qc.copy_empty_like()
    mid.ry(1.0, 0)
    mid.measure(0, 0)
    mid.reset(0)
    mid.x(0)
    mid.measure(0, 1)
    assert simulation_method([qc, mid], 4000) == "automatic"  # a measurement mid-circuit
    no_reset = QuantumCircuit(3)
    no_reset.h(0)
    no_reset.measure_all()
    assert simulation_method([no_reset], 4000) == "automatic"

    shots = 20_000
    counts = get_backend("aer").run([qc], shots, seed=4)[0]
    rho = DensityMatrix(qc.remove_final_measurements(inplace=False))
    exact = rho.probabilities_dict()
    tv = 0.5 * sum(abs(counts.get(k, 0) / shots - p) for k, p in exact.items())
    assert tv < 3 / np.sqrt(shots), tv
