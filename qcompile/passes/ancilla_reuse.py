"""``AncillaReuse``: put qubits whose work is done back to use, by reset.

Transformation pass (before layout). A qubit is *retired* after its last operation; a later
qubit whose first operation comes after that (in a topological order, so no cycle can form)
may take over its wire after a ``reset`` — N fresh reservoir qubits become one reused one
(spec 000 §4), at the price of one reset per reuse. Preserves the circuit's channel on every
qubit that is still in use, and all classical results.

The choice between fresh and reused qubits is a cost model (``mode="auto"``): reuse when the
circuit is wider than the target, or when the idle error a fresh qubit accumulates waiting
for its first gate, t_wait·(1/T₁ + 1/T₂), exceeds the reset's error. Waiting times are
estimated from the two-qubit depth before the qubit's first gate and the target's mean
two-qubit gate duration. ``mode="always"`` / ``"never"`` override it.
"""

from __future__ import annotations

import numpy as np
from qiskit.circuit import QuantumRegister, Reset
from qiskit.dagcircuit import DAGCircuit
from qiskit.transpiler import Target
from qiskit.transpiler.basepasses import TransformationPass

__all__ = ["AncillaReuse"]


def _mean_property(target: Target, kind: str) -> tuple[float, float]:
    """(mean error, mean duration) of the target's two-qubit gates or of ``reset``."""
    errors, durations = [], []
    for name in target.operation_names:
        props = target[name]
        if props is None:
            continue
        op = target.operation_from_name(name)
        wanted = name == "reset" if kind == "reset" else (op.num_qubits == 2 and name != "reset")
        if not wanted:
            continue
        for prop in props.values():
            if prop is None:
                continue
            if prop.error is not None:
                errors.append(prop.error)
            if prop.duration is not None:
                durations.append(prop.duration)
    return (
        float(np.mean(errors)) if errors else 0.0,
        float(np.mean(durations)) if durations else 0.0,
    )


class AncillaReuse(TransformationPass):
    """Reuse retired qubits through reset, by the cost model of the module docstring."""

    def __init__(self, target: Target | None = None, *, mode: str = "auto") -> None:
        super().__init__()
        if mode not in ("auto", "always", "never"):
            raise ValueError("mode must be 'auto', 'always' or 'never'")
        self.target, self.mode = target, mode

    def _worth_it(self, dag: DAGCircuit, wait_layers: int) -> bool:
        if self.mode != "auto":
            return self.mode == "always"
        if self.target is None:
            return False
        if dag.num_qubits() > self.target.num_qubits:
            return True
        reset_error, _ = _mean_property(self.target, "reset")
        _, gate_time = _mean_property(self.target, "two_qubit")
        props = [p for p in (self.target.qubit_properties or []) if p is not None and p.t1 and p.t2]
        if not props or not gate_time:
            return False
        rate = float(np.mean([1 / p.t1 + 1 / p.t2 for p in props]))
        reset_cost = reset_error or 1e-3
        return wait_layers * gate_time * rate > reset_cost

    def run(self, dag: DAGCircuit) -> DAGCircuit:
        if self.mode == "never":
            return dag
        order = {node._node_id: i for i, node in enumerate(dag.topological_op_nodes())}
        two_qubit_depth_before = {}
        layer_of: dict = {}
        for node in dag.topological_op_nodes():  # two-qubit layers before each node
            depth = max((layer_of.get(q, 0) for q in node.qargs), default=0)
            if len(node.qargs) == 2:
                depth += 1
            for q in node.qargs:
                layer_of[q] = depth
            two_qubit_depth_before[node._node_id] = depth
        spans = {}
        for q in dag.qubits:
            ops = [n for n in dag.nodes_on_wire(q, only_ops=True) if n.op.name != "barrier"]
            if ops:
                spans[q] = (
                    min(order[n._node_id] for n in ops),
                    max(order[n._node_id] for n in ops),
                    ops[0],
                    ops[-1],
                )
        if any(n.op.name == "barrier" for n in dag.op_nodes()):
            return dag  # a barrier across retired and new qubits would tie them: leave as is
        wires = sorted(spans, key=lambda q: spans[q][0])
        host: dict = {}  # qubit → the qubit whose wire it takes over
        free: list = []  # wires that may be taken over
        busy_until: dict = {}  # wire → order of its last operation so far
        for q in wires:
            first, last, first_node, _ = spans[q]
            candidates = [w for w in free if busy_until[w] < first]
            if candidates and self._worth_it(dag, two_qubit_depth_before[first_node._node_id]):
                wire = min(candidates, key=lambda w: busy_until[w])
                free.remove(wire)
                host[q] = wire
            else:
                wire = q
            busy_until[wire] = last
            free.append(wire)  # retired once its last op is behind: candidates filter by time
        if not host:
            return dag
        kept = [q for q in dag.qubits if q not in host]
        new = DAGCircuit()
        new.name, new.metadata, new.global_phase = dag.name, dag.metadata, dag.global_phase
        register = QuantumRegister(len(kept), "q")
        new.add_qreg(register)
        for creg in dag.cregs.values():
            new.add_creg(creg)
        for clbit in dag.clbits:
            if clbit not in new.clbits:
                new.add_clbits([clbit])

        def root(q):
            while q in host:
                q = host[q]
            return q

        index = {q: register[i] for i, q in enumerate(kept)}
        started = set()
        for node in dag.topological_op_nodes():
            for q in node.qargs:
                if q in host and q not in started:
                    new.apply_operation_back(Reset(), (index[root(q)],), (), check=False)
                started.add(q)
            new.apply_operation_back(
                node.op, tuple(index[root(q)] for q in node.qargs), node.cargs, check=False
            )
        return new
