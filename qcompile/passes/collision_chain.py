"""The collision-chain pattern: every two-qubit gate touches one hub qubit.

Homogenization (spec 000 §2) and collision models are chains: a system qubit S (the hub)
interacts with partners R_1, R_2, … one after the other, each partner's interaction a
contiguous block on the hub's wire. Placed along a path S, R_1, R_2, … of the coupling graph,
the hub can walk down the path by one SWAP after each block, and that SWAP fuses with the
block into one two-qubit unitary (SWAP·U^α = U^{α+1}: still 3 two-qubit gates, spec 000 §4).
"""

from __future__ import annotations

from dataclasses import dataclass

from qiskit.dagcircuit import DAGCircuit, DAGOpNode

__all__ = ["CollisionChain", "find_collision_chain"]

_IGNORED = ("barrier", "delay")


@dataclass(frozen=True)
class CollisionChain:
    """``hub`` and ``partners`` as DAG qubit indices; ``last_gate[k]`` ends partner k's block."""

    hub: int
    partners: tuple[int, ...]
    last_gate: tuple[DAGOpNode, ...]


def find_collision_chain(dag: DAGCircuit) -> CollisionChain | None:
    """The chain in ``dag``, or ``None`` if its two-qubit gates do not form one.

    Requires: at least two partners; no gate on three or more qubits (barriers aside); no
    control flow; a hub shared by every two-qubit gate; each partner's gates consecutive on
    the hub's wire.
    """
    index = {q: i for i, q in enumerate(dag.qubits)}
    pairs = []
    for node in dag.topological_op_nodes():
        if node.op.name in _IGNORED or len(node.qargs) < 2:
            continue
        if len(node.qargs) > 2 or node.is_control_flow():
            return None
        pairs.append((node, index[node.qargs[0]], index[node.qargs[1]]))
    if len(pairs) < 2:
        return None
    candidates = {pairs[0][1], pairs[0][2]}
    for _, a, b in pairs[1:]:
        candidates &= {a, b}
    if len(candidates) != 1:
        return None
    hub = candidates.pop()
    partners: list[int] = []
    last: dict[int, DAGOpNode] = {}
    for node, a, b in pairs:
        partner = b if a == hub else a
        if not partners or partners[-1] != partner:
            if partner in last:
                return None  # a partner met twice (e.g. a second round): not a simple chain
            partners.append(partner)
        last[partner] = node
    if len(partners) < 2:
        return None
    return CollisionChain(hub, tuple(partners), tuple(last[p] for p in partners))
