"""``KnownStates``: which two-qubit blocks start with a qubit in a known pure state.

Analysis pass (issue 14, item 1). Walks the circuit in topological order with a single-qubit
pure state per wire, or ``None`` where the state is not known:

* every wire starts in |0⟩ when the circuit is an *experiment* — ``initial_state="zero"``, or
  ``"auto"`` and the circuit measures something (Qiskit runs circuits from |0…0⟩); a circuit
  without measurements is an operator, whose inputs are unknown (``"auto"``, ``"any"``).
  ``property_set["initial_state"]``, if set (:class:`SetInitialState`), overrides the pass's own;
* ``reset`` puts its wire in |0⟩ whatever came before;
* a single-qubit gate with a matrix moves a known state; ``measure``, control flow, gates on
  three or more qubits and gates without a matrix make their wires unknown;
* each two-qubit block (``property_set["block_list"]`` of :class:`Collect2qBlocks`) is taken
  whole: its entry states are recorded; if both are known and the block's output is a product
  state, or one is known and the block only turns it into another fixed state, the outputs
  stay known, otherwise they become unknown;
* once no wire is known and no ``reset`` is left, the walk stops: every later block starts
  unknown.

Sets ``property_set["known_states"]``: a list, one entry per block of ``block_list``, of
:class:`BlockInputs`; and ``property_set["known_block_unitaries"]``: the matrices it computed,
by block index. Preserves the circuit (analysis only).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
from qiskit.dagcircuit import DAGCircuit
from qiskit.quantum_info import Operator
from qiskit.transpiler.basepasses import AnalysisPass
from qiskit.transpiler.passes import Collect2qBlocks

from qcompile.passes.isometry_synthesis import kron, local_action

__all__ = [
    "BlockInputs",
    "KnownStates",
    "SetInitialState",
    "INITIAL_STATES",
    "block_unitary",
]

INITIAL_STATES = ("auto", "zero", "any")
_ZERO = np.array([1.0, 0.0], dtype=complex)
_TRANSPARENT = ("barrier", "delay")


@dataclass(frozen=True)
class BlockInputs:
    """A block's two wires (in the order of its matrix: ``wires[0]`` is qubit 0) and the pure
    state each starts in (``None``: unknown)."""

    wires: tuple
    states: tuple

    @property
    def any_known(self) -> bool:
        return any(s is not None for s in self.states)


def block_wires(block) -> tuple:
    """The two wires of a block, in order of first appearance."""
    wires: list = []
    for node in block:
        for q in node.qargs:
            if q not in wires:
                wires.append(q)
    return tuple(wires)


_SWAP = np.eye(4)[[0, 2, 1, 3]]


def _op_matrix(node) -> np.ndarray | None:
    if node.is_parameterized() or node.is_control_flow():
        return None
    matrix = node.matrix
    if matrix is None:
        try:
            matrix = Operator(node.op).data
        except Exception:  # an op without a matrix definition
            return None
    return matrix


def _on_qubit0(m: np.ndarray) -> np.ndarray:
    """1 ⊗ m (little-endian: m on qubit 0), without the cost of ``np.kron``."""
    out = np.zeros((4, 4), dtype=complex)
    out[:2, :2] = m
    out[2:, 2:] = m
    return out


def _on_qubit1(m: np.ndarray) -> np.ndarray:
    """m ⊗ 1 (m on qubit 1)."""
    out = np.zeros((4, 4), dtype=complex)
    for i in range(2):
        for j in range(2):
            out[2 * i, 2 * j] = out[2 * i + 1, 2 * j + 1] = m[i, j]
    return out


def block_unitary(block, wires) -> np.ndarray | None:
    """The 4×4 matrix of a two-qubit block on ``wires`` (little-endian), or ``None`` if an
    op has none. Runs of single-qubit gates are multiplied as 2×2 matrices first."""
    if len(wires) != 2:
        return None
    unitary = np.eye(4, dtype=complex)
    pending: list = [None, None]  # the product of single-qubit gates not yet applied

    def flush() -> np.ndarray:
        result = unitary
        if pending[0] is not None:
            result = _on_qubit0(pending[0]) @ result
        if pending[1] is not None:
            result = _on_qubit1(pending[1]) @ result
        pending[0] = pending[1] = None
        return result

    for node in block:
        matrix = _op_matrix(node)
        if matrix is None:
            return None
        if len(node.qargs) == 1:
            k = 0 if node.qargs[0] == wires[0] else 1
            pending[k] = matrix if pending[k] is None else matrix @ pending[k]
            continue
        unitary = flush()
        if node.qargs[0] != wires[0]:  # the gate's qubit 0 is the block's qubit 1
            matrix = _SWAP @ matrix @ _SWAP
        unitary = matrix @ unitary
    return flush()


def _outputs(unitary: np.ndarray, states: tuple) -> tuple:
    """Output states of a two-qubit block from its input states (``None``: unknown)."""
    a, b = states
    if a is not None and b is not None:
        out = unitary @ kron(b, a)
        return _product_factors(out) or (None, None)
    qubit, state = (0, a) if a is not None else (1, b)
    if local_action(unitary, state, qubit) is None:
        return None, None
    probe = kron(state, _ZERO) if qubit == 1 else kron(_ZERO, state)
    factors = _product_factors(unitary @ probe)
    return (None, factors[1]) if qubit == 1 else (factors[0], None)


def _product_factors(state: np.ndarray) -> tuple | None:
    """(qubit-0 state, qubit-1 state) of a two-qubit product state, ``None`` if entangled."""
    left, singular, right = np.linalg.svd(state.reshape(2, 2))  # [i1, i0]
    if singular[1] > 1e-9:
        return None
    return singular[0] * right[0], left[:, 0]


def _condensed_order(dag: DAGCircuit, blocks) -> Iterator:
    """Op nodes and blocks (as their index), lazily, in a topological order in which each
    block is one step: a block's tail on one wire may come after a later block's head on the
    other wire in a topological order of the nodes, so the blocks are scheduled as units,
    wire by wire (Kahn's algorithm on the condensed graph; blocks are convex, so it is
    acyclic)."""
    owner = {node._node_id: i for i, block in enumerate(blocks) for node in block}
    queues: dict = {}  # wire → keys of its items in order
    items: dict = {}  # key → (item, its wires)
    for wire in dag.qubits:
        queue: list = []
        for node in dag.nodes_on_wire(wire, only_ops=True):
            item = owner.get(node._node_id, node)
            key = _key(item)  # (node objects are fresh wrappers per call: compare keys)
            if not queue or queue[-1] != key:
                queue.append(key)
            items.setdefault(key, (item, set()))[1].add(wire)
        queues[wire] = queue
    head = {wire: 0 for wire in queues}

    def ready(key) -> bool:
        return all(head[w] < len(queues[w]) and queues[w][head[w]] == key for w in items[key][1])

    pending = [queue[0] for queue in queues.values() if queue]
    done: set = set()
    while pending:
        key = pending.pop()
        if key in done or not ready(key):
            continue
        done.add(key)
        yield items[key][0]
        for w in items[key][1]:
            head[w] += 1
            if head[w] < len(queues[w]):
                pending.append(queues[w][head[w]])


def _key(item) -> tuple:
    return ("block", item) if isinstance(item, int) else ("node", item._node_id)


class SetInitialState(AnalysisPass):
    """Record how the circuit's inputs are to be taken (``"auto"``, ``"zero"``, ``"any"``) for
    every later :class:`KnownStates` of the same run."""

    def __init__(self, initial_state: str) -> None:
        super().__init__()
        if initial_state not in INITIAL_STATES:
            raise ValueError(f"initial_state must be one of {INITIAL_STATES}")
        self.initial_state = initial_state

    def run(self, dag: DAGCircuit) -> None:
        self.property_set["initial_state"] = self.initial_state


class KnownStates(AnalysisPass):
    """Known pure states at the entry of every two-qubit block (see module docstring)."""

    def __init__(self, initial_state: str = "auto") -> None:
        super().__init__()
        if initial_state not in INITIAL_STATES:
            raise ValueError(f"initial_state must be one of {INITIAL_STATES}")
        self.initial_state = initial_state
        self.requires.append(Collect2qBlocks())

    def _zero_start(self, dag: DAGCircuit) -> bool:
        initial = self.property_set["initial_state"] or self.initial_state
        if initial == "auto":
            return "measure" in dag.count_ops(recurse=False)
        return initial == "zero"

    def run(self, dag: DAGCircuit) -> None:
        blocks = self.property_set["block_list"] or []
        start = _ZERO if self._zero_start(dag) else None
        state = {q: start for q in dag.qubits}
        known: list = [None] * len(blocks)
        unitaries: dict[int, np.ndarray | None] = {}
        resets_left = dag.count_ops(recurse=False).get("reset", 0)
        known_wires = len(state) if start is not None else 0

        def put(wire, value) -> None:
            nonlocal known_wires
            known_wires += (value is not None) - (state[wire] is not None)
            state[wire] = value

        # once no wire is known and no reset is left, nothing can become known again
        items = _condensed_order(dag, blocks) if known_wires or resets_left else ()
        for item in items:
            if not isinstance(item, int):
                resets_left -= item.op.name == "reset"
                self._advance(item, state, put)
            else:
                wires = block_wires(blocks[item])
                inputs = BlockInputs(wires, tuple(state[w] for w in wires))
                known[item] = inputs
                outputs = (None,) * len(wires)
                if len(wires) == 2 and inputs.any_known:
                    unitaries[item] = unitary = block_unitary(blocks[item], wires)
                    if unitary is not None:
                        outputs = _outputs(unitary, inputs.states)
                for w, s in zip(wires, outputs, strict=True):
                    put(w, s)
            if not known_wires and not resets_left:
                break
        for i, inputs in enumerate(known):  # the blocks after that: nothing known
            if inputs is None:
                wires = block_wires(blocks[i])
                known[i] = BlockInputs(wires, (None,) * len(wires))
        self.property_set["known_states"] = known
        self.property_set["known_block_unitaries"] = unitaries

    @staticmethod
    def _advance(node, state: dict, put) -> None:
        name = node.op.name
        if name == "reset":
            put(node.qargs[0], _ZERO)
            return
        if name in _TRANSPARENT:
            return
        if len(node.qargs) == 1 and not node.is_control_flow() and not node.cargs:
            current = state[node.qargs[0]]
            if current is not None:
                matrix = node.matrix if not node.is_parameterized() else None
                if matrix is None:
                    try:
                        matrix = Operator(node.op).data
                    except Exception:
                        matrix = None
                put(node.qargs[0], None if matrix is None else matrix @ current)
            return
        for q in node.qargs:
            put(q, None)
