"""Optimize a circuit before it meets the device's coupling map (issue 14, item 3).

Sabre lays out and routes a circuit gate by gate. A protocol step that is not yet
consolidated — a GKP grid step's 190 ``cp``/``rzz`` gates on 6 qubits, an Ising-memory
round of controlled rotations, a cat step — gets SWAPs inserted for interactions that
two-qubit block synthesis would have merged away, and optimization after routing cannot
undo them: the SWAPs sit between the blocks. So :func:`~qcompile.passes.compile.compile_best`
first compiles each circuit *without* a coupling map (qcompile's all-to-all pipeline: block
consolidation, state-aware synthesis, Pauli-network synthesis, into CX + RZ/SX/X) and routes
that. On the benchmark suite this takes the GKP grid-5 step on FakeTorino from 473 to 389
two-qubit gates, the Ising-memory M = 3 step from 479 to 139 and the cat step from 806 to
511; collision chains (already 2N − 1) are unchanged.

The logical circuit acts on the same qubits in the same order: a circuit whose all-to-all
compilation elided a permutation (``ElidePermutations``, a wire relabelling recorded as a
final layout) is kept as it was, so the final layout the device compilation reports is the
whole story. Everything else is exact: the all-to-all pipeline preserves the circuit's
operator (or, for a circuit that measures, its output distribution from |0…0⟩ — the same
assumption the device pipeline makes, ``initial_state``).
"""

from __future__ import annotations

from collections.abc import Sequence

from qiskit.circuit import QuantumCircuit
from qiskit.converters import circuit_to_dag, dag_to_circuit

from qcompile.passes import build_pass_manager

__all__ = ["optimize_logically"]


def _keeps_qubit_order(compiled: QuantumCircuit) -> bool:
    layout = compiled.layout
    if layout is None:
        return True
    width = compiled.num_qubits
    return layout.final_index_layout(filter_ancillas=True) == list(range(width))


def optimize_logically(
    circuits: Sequence[QuantumCircuit],
    *,
    seed: int | None = 0,
    initial_state: str = "auto",
) -> list[QuantumCircuit]:
    """Each circuit compiled by qcompile's all-to-all pipeline (no layout attached), or the
    circuit itself where that compilation permuted its qubits (module docstring)."""
    compiled = build_pass_manager(None, seed=seed, initial_state=initial_state).run(list(circuits))
    out = []
    for original, logical in zip(circuits, compiled, strict=True):
        if not _keeps_qubit_order(logical):
            out.append(original)
            continue
        plain = dag_to_circuit(circuit_to_dag(logical))  # the same gates, no layout
        plain.name, plain.metadata = original.name, dict(original.metadata or {})
        out.append(plain)
    return out
