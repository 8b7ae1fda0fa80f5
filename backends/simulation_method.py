"""Which Aer method samples a batch of circuits fastest — the same distribution either way.

A collision model resets its ancillas mid-circuit. Aer's default (statevector) method cannot
sample such a circuit from one final state: it re-runs the whole circuit once per shot
(4000 shots of a 6-qubit lowered XXZ chain: 13 s). Its density-matrix method applies a reset
as the channel it is, so every shot is sampled from one final ρ: the cost is one run at
4ⁿ instead of ``shots`` runs at 2ⁿ. The counts follow the same distribution (noise included:
the density matrix carries the noise channels exactly instead of sampling them per shot).

Chosen when a circuit resets a qubit after a gate, every circuit is made of instructions
the density-matrix method has and measures only at the end (a mid-circuit measurement would
again force one run per shot), has at most :data:`MAX_QUBITS` qubits (a 16 MB ρ) and
2ⁿ · :data:`SHOTS_PER_LEVEL` ≤ shots — the measured crossover: a 10-qubit Ising-memory
circuit at 1500 shots took 21 s as a density matrix and 12 s per shot.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache

from qiskit.circuit import QuantumCircuit

__all__ = ["MAX_QUBITS", "SHOTS_PER_LEVEL", "simulation_method"]

#: Widest circuit simulated as a density matrix (4¹⁰ entries: 16 MB).
MAX_QUBITS = 10

#: Density-matrix simulation needs at least this many shots per basis state to pay.
SHOTS_PER_LEVEL = 8

_DIRECTIVES = {"barrier", "delay"}


@cache
def _density_matrix_instructions() -> frozenset[str]:
    """What Aer's density-matrix method executes (fewer gates than its statevector: no
    ``cry``, no multi-controlled gates, no ``initialize``)."""
    from qiskit_aer import AerSimulator

    return frozenset(AerSimulator(method="density_matrix").configuration().basis_gates)


def _mid_circuit_resets(circuit: QuantumCircuit) -> bool | None:
    """Whether a qubit is reset after a gate acted on it; ``None`` if the circuit cannot be
    sampled from one final state at all (an operation after a measurement, control flow) or
    holds an instruction the density-matrix method lacks."""
    touched: set = set()
    measured: set = set()
    resets = False
    supported = _density_matrix_instructions()
    for instruction in circuit.data:
        operation = instruction.operation
        if operation.name in _DIRECTIVES:
            continue
        if operation.name == "measure":
            measured.update(instruction.qubits)
            continue
        if operation.num_qubits == 0 or getattr(operation, "blocks", ()):
            return None  # control flow, or something Aer must evaluate per shot
        if operation.name not in supported:
            return None
        if measured.intersection(instruction.qubits):
            return None  # an operation after a measurement: per-shot sampling again
        if operation.name == "reset":
            resets = resets or bool(touched.intersection(instruction.qubits))
        touched.update(instruction.qubits)
    return resets


def simulation_method(circuits: Sequence[QuantumCircuit], shots: int) -> str:
    """``"density_matrix"`` where it samples ``circuits`` faster (see the module docstring),
    else ``"automatic"`` (Aer's own choice)."""
    if not circuits or shots < 1:
        return "automatic"
    width = max(c.num_qubits for c in circuits)
    if width > MAX_QUBITS or 2**width * SHOTS_PER_LEVEL > shots:
        return "automatic"
    resets = [_mid_circuit_resets(c) for c in circuits]
    if None not in resets and any(resets):
        return "density_matrix"
    return "automatic"
