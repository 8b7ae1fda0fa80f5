"""``CollisionChainRouting``: walk the hub of a collision chain down its path.

Transformation pass on a laid-out (physical) circuit. If the circuit is a collision chain
whose hub starts next to its first partner and whose partners sit on consecutive qubits of a
path, it inserts one SWAP right after each partner's block, so the hub ends each block next
to the following partner. Later stages consolidate ``block · SWAP`` into one two-qubit
unitary: for (SWAP)^α that is U^{α+1}, 3 two-qubit gates per collision (spec 000 §4).
Preserves the circuit's operator up to the final qubit permutation, which it records in
``property_set["final_layout"]`` with Qiskit's convention. Does nothing (and leaves routing
to the next pass) when the pattern or the placement does not hold.
"""

from __future__ import annotations

from qiskit.circuit.library import SwapGate
from qiskit.transpiler import Layout, Target
from qiskit.transpiler.basepasses import TransformationPass

from qcompile.passes.collision_chain import find_collision_chain
from qcompile.passes.seed_independence import SEED_INDEPENDENT, MarkSeedIndependent

__all__ = ["SEED_INDEPENDENT", "CollisionChainRouting", "MarkSeedIndependent"]


class CollisionChainRouting(TransformationPass):
    """Route a collision chain by fused hub swaps (see module docstring)."""

    def __init__(self, target: Target) -> None:
        super().__init__()
        self.target = target

    def run(self, dag):
        if self.target is None:
            return dag
        chain = find_collision_chain(dag)
        if chain is None:
            return dag
        coupling = self.target.build_coupling_map()
        edges = {tuple(e) for e in coupling.get_edges()}
        adjacent = lambda a, b: (a, b) in edges or (b, a) in edges  # noqa: E731
        sequence = [chain.hub, *chain.partners]
        if not all(adjacent(a, b) for a, b in zip(sequence, sequence[1:], strict=False)):
            return dag
        ends = {node._node_id: k for k, node in enumerate(chain.last_gate)}
        layout = Layout({q: i for i, q in enumerate(dag.qubits)})  # wire → current position
        new = dag.copy_empty_like()
        hub_wire = dag.qubits[chain.hub]
        for node in dag.topological_op_nodes():
            qargs = tuple(new.qubits[layout[q]] for q in node.qargs)
            new.apply_operation_back(node.op, qargs, node.cargs, check=False)
            k = ends.get(node._node_id)
            if k is not None and k + 1 < len(chain.partners):
                here = layout[hub_wire]
                there = chain.partners[k]  # the partner's position: it has not moved
                new.apply_operation_back(
                    SwapGate(), (new.qubits[here], new.qubits[there]), (), check=False
                )
                layout.swap(here, there)
        self.property_set["collision_chain_routed"] = True
        if self.property_set["final_layout"] is None:
            self.property_set["final_layout"] = layout
        else:
            self.property_set["final_layout"] = self.property_set["final_layout"].compose(
                layout, dag.qubits
            )
        return new
