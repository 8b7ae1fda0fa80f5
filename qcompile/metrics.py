"""Cost metrics of a circuit: active qubits, two-qubit gates, two-qubit depth, depth.

The depths are :meth:`qiskit.circuit.QuantumCircuit.depth`'s (directives such as barriers
synchronise the bits they touch without adding a layer; measurements tie a qubit to its
clbit), computed with the counts in one pass over the instructions — a compiled circuit's
operations would be built as Python objects on every pass (they are read by name here),
which dominated the cost of ranking the compile candidates. Circuits with control flow or
classical variables are measured by Qiskit's own methods.
"""

from __future__ import annotations

from qiskit.circuit import QuantumCircuit

__all__ = ["circuit_metrics"]


def _is_two_qubit(instruction) -> bool:
    return instruction.operation.num_qubits == 2 and instruction.operation.name != "barrier"


def _metrics_by_qiskit(circuit: QuantumCircuit) -> dict[str, int]:
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


def circuit_metrics(circuit: QuantumCircuit) -> dict[str, int]:
    """Active qubits, two-qubit gate count, two-qubit depth and depth of ``circuit``."""
    if circuit.num_vars:
        return _metrics_by_qiskit(circuit)
    index = {bit: i for i, bit in enumerate(circuit.qubits)}
    index.update({bit: len(index) + i for i, bit in enumerate(circuit.clbits)})
    depth = [0] * len(index)  # every instruction but directives adds a layer
    depth2 = [0] * len(index)  # only two-qubit gates add a layer
    active: set[int] = set()
    two_qubit = 0
    for instruction in circuit.data:  # names and flags without building the operations
        name = instruction.name
        if instruction.is_control_flow() or name == "store":
            return _metrics_by_qiskit(circuit)
        qubits = [index[q] for q in instruction.qubits]
        bits = qubits + [index[c] for c in instruction.clbits]
        if name not in ("barrier", "delay"):
            active.update(qubits)
        is_two = len(qubits) == 2 and name != "barrier"
        two_qubit += is_two
        if not bits:
            continue
        layer = max(depth[b] for b in bits) + (not instruction.is_directive())
        layer2 = max(depth2[b] for b in bits) + is_two
        for b in bits:
            depth[b] = layer
            depth2[b] = layer2
    return {
        "num_qubits": len(active),
        "two_qubit_gates": two_qubit,
        "two_qubit_depth": max(depth2, default=0),
        "depth": max(depth, default=0),
    }
