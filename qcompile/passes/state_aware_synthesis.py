"""``StateAwareSynthesis``: fewer two-qubit gates where an input qubit is in a known state.

Transformation pass (issue 14, item 2). For every two-qubit block whose entry states
:class:`~qcompile.passes.known_states.KnownStates` knows (a fresh or reset qubit, possibly
rotated), it replaces the block by a unitary that is equal to it on every state the circuit
can feed it, and cheaper (:mod:`qcompile.passes.isometry_synthesis`): a collision with a fresh
reservoir qubit becomes a 1 → 2-qubit isometry with 2 CX instead of a general 3-CX unitary
(so homogenization costs 2 per collision, not 3, spec 000 §4); a block on two known states a
state preparation with at most 1 CX. A block is replaced only if that beats the CX count of
its own best synthesis. The new blocks are ``unitary`` gates for Qiskit's
``UnitarySynthesis`` to put in the target's basis.

Preserves the circuit's action on the states it actually sees — its output distribution and
every channel with resets — but *not* its full operator on arbitrary inputs when
``initial_state="zero"`` (which ``"auto"`` chooses for circuits that measure). After a reset
the assumption is always exact.
"""

from __future__ import annotations

from qiskit.circuit.library import CXGate, UnitaryGate
from qiskit.dagcircuit import DAGCircuit
from qiskit.synthesis import TwoQubitBasisDecomposer
from qiskit.transpiler.basepasses import TransformationPass

from qcompile.passes.isometry_synthesis import cheaper_on_inputs
from qcompile.passes.known_states import KnownStates, block_unitary

__all__ = ["StateAwareSynthesis"]

_CX_DECOMPOSER = TwoQubitBasisDecomposer(CXGate())


class StateAwareSynthesis(TransformationPass):
    """Re-synthesize two-qubit blocks on known inputs (see module docstring)."""

    def __init__(self, initial_state: str = "auto") -> None:
        super().__init__()
        self.requires.append(KnownStates(initial_state))

    def run(self, dag: DAGCircuit) -> DAGCircuit:
        blocks = self.property_set["block_list"] or []
        known = self.property_set["known_states"] or []
        computed = self.property_set["known_block_unitaries"] or {}
        replaced = 0
        for i, (block, inputs) in enumerate(zip(blocks, known, strict=False)):
            if inputs is None or len(inputs.wires) != 2 or not inputs.any_known:
                continue
            unitary = computed[i] if i in computed else block_unitary(block, inputs.wires)
            if unitary is None:
                continue
            present = sum(1 for node in block if len(node.qargs) == 2)
            best = min(present, _CX_DECOMPOSER.num_basis_gates(unitary))
            replacement, cost = cheaper_on_inputs(unitary, inputs.states)
            if replacement is None or cost >= best:
                continue
            dag.replace_block_with_op(
                block,
                UnitaryGate(replacement, check_input=False),
                {w: i for i, w in enumerate(inputs.wires)},
                cycle_check=False,
            )
            replaced += 1
        self.property_set["state_aware_blocks"] = replaced
        return dag
