"""Which compiled circuits every transpiler seed would compile alike (issue 14, item 4).

:func:`~qcompile.passes.compile.compile_best` compiles each circuit with several seeds and
keeps the cheapest, because Sabre's layout and routing depend on the seed. Two cases make the
other seeds pointless, and these passes record them in the circuit's metadata
(:data:`SEED_INDEPENDENT`) so the caller can stop at one:

* the collision-chain passes laid out and routed the circuit — they use no seed;
* routing inserted no SWAP (a perfect layout: VF2's, or a chain's): another seed can only
  move the circuit to other physical qubits, at the same two-qubit count and depth.
"""

from __future__ import annotations

from qiskit.transpiler.basepasses import AnalysisPass, TransformationPass

__all__ = ["SEED_INDEPENDENT", "MarkRoutedWithoutSwaps", "MarkSeedIndependent"]

#: Metadata key :class:`MarkSeedIndependent` sets on a circuit every seed compiles alike.
SEED_INDEPENDENT = "qcompile_seed_independent"


class MarkRoutedWithoutSwaps(AnalysisPass):
    """After routing: sets ``property_set["routed_without_swaps"]`` when the routed circuit
    holds no ``swap`` (a circuit that had SWAPs of its own is conservatively not marked).
    Preserves the circuit."""

    def run(self, dag) -> None:
        self.property_set["routed_without_swaps"] = "swap" not in dag.count_ops()


class MarkSeedIndependent(TransformationPass):
    """Record :data:`SEED_INDEPENDENT` in the circuit's metadata when the collision-chain
    passes routed it or routing inserted no SWAP (see the module docstring). Preserves the
    circuit; only its metadata changes."""

    def run(self, dag):
        if self.property_set["collision_chain_routed"] or self.property_set["routed_without_swaps"]:
            dag.metadata = {**(dag.metadata or {}), SEED_INDEPENDENT: True}
        return dag
