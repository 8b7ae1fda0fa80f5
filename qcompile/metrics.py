"""Cost metrics of a circuit: active qubits, two-qubit gates, two-qubit depth, depth."""

from __future__ import annotations

from qiskit.circuit import QuantumCircuit

__all__ = ["circuit_metrics"]


def _is_two_qubit(instruction) -> bool:
    return instruction.operation.num_qubits == 2 and instruction.operation.name != "barrier"


def circuit_metrics(circuit: QuantumCircuit) -> dict[str, int]:
    """Active qubits, two-qubit gate count, two-qubit depth and depth of ``circuit``."""
    active = {
        circuit.find_bit(q).index
        for inst in circuit.data
        if inst.operation.name not in ("barrier", "delay")
        for q in inst.qubits
    }
    return {
        "num_qubits": len(active),
        "two_qubit_gates": sum(1 for inst in circuit.data if _is_two_qubit(inst)),
        "two_qubit_depth": circuit.depth(filter_function=_is_two_qubit),
        "depth": circuit.depth(),
    }
