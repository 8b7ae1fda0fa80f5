"""Exact single-qubit reduced states of a circuit (noiseless, infinite shots).

A unitary circuit is simulated as a statevector ψ and each ρ_q = tr_{¬q} |ψ⟩⟨ψ| is read off
by one tensor contraction; a circuit with resets falls back to a full density matrix. This is
the "ideal" of every comparison; its limits are stated as :class:`ResourceLimit` errors.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from qiskit.circuit import QuantumCircuit
from qiskit.quantum_info import DensityMatrix, Statevector, partial_trace

from qcompile.errors import ResourceLimit

__all__ = ["reduced_qubit_states", "MAX_STATEVECTOR_QUBITS", "MAX_DENSITY_MATRIX_QUBITS"]

MAX_STATEVECTOR_QUBITS = 26
MAX_DENSITY_MATRIX_QUBITS = 12


def reduced_qubit_states(circuit: QuantumCircuit, qubits: Sequence[int]) -> list[np.ndarray]:
    """The 2×2 reduced density matrices of ``qubits`` after ``circuit`` acting on |0…0⟩."""
    n = circuit.num_qubits
    has_reset = any(inst.operation.name == "reset" for inst in circuit.data)
    if has_reset:
        if n > MAX_DENSITY_MATRIX_QUBITS:
            raise ResourceLimit(
                f"exact simulation of a circuit with resets needs a {n}-qubit density matrix; "
                f"at most {MAX_DENSITY_MATRIX_QUBITS} qubits are allowed"
            )
        rho = DensityMatrix(circuit)
        return [
            np.asarray(partial_trace(rho, [k for k in range(n) if k != q]).data) for q in qubits
        ]
    if n > MAX_STATEVECTOR_QUBITS:
        raise ResourceLimit(
            f"exact simulation needs a {n}-qubit statevector; at most "
            f"{MAX_STATEVECTOR_QUBITS} qubits are allowed (give --shots, or fewer qubits)"
        )
    psi = np.asarray(Statevector(circuit).data)
    states = []
    for q in qubits:
        # little-endian: index = Σ b_k 2^k, so axis 1 of this view is qubit q.
        view = psi.reshape(2 ** (n - q - 1), 2, 2**q)
        states.append(np.einsum("aib,ajb->ij", view, view.conj()))
    return states
