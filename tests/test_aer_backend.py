"""Aer backends: the active-qubit noise model is Aer's device model, compiled circuits are
correct on the device's qubits, and backend names resolve (or list the valid ones)."""

from __future__ import annotations

import numpy as np
import pytest
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
    from qiskit import QuantumCircuit

    backend = get_backend("aer:fake_torino")
    qc = QuantumCircuit(1, 1)
    qc.x(0)
    qc.x(0)
    qc.measure(0, 0)
    (compiled,), _ = compile_circuits([qc], backend.compile_target, seed=1)
    (counts,) = backend.run([compiled], 20000, seed=2)
    p1 = counts.get("1", 0) / 20000
    assert 0 < p1 < 0.1
