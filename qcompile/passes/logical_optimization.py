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
from qcompile.passes.clifford_resynthesis import resynthesize_cliffords, worth_resynthesizing

__all__ = ["ALTERNATIVE_MARGIN", "best_alternatives", "optimize_logically", "two_qubit_count"]


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
    alternatives: bool = False,
) -> list[QuantumCircuit]:
    """Each circuit compiled by qcompile's all-to-all pipeline (no layout attached), or the
    circuit itself where that compilation permuted its qubits (module docstring).

    With ``alternatives`` (compiler revision 5) the pipeline also compiles, in one batch,
    the circuit with its SWAPs written as three CX where its compilation elided them (a
    permutation), and its Clifford blocks resynthesized
    (:mod:`qcompile.passes.clifford_resynthesis`) — those of the circuit as given and those
    of its compilation — where its Clifford runs are long enough to pay
    (:func:`~qcompile.passes.clifford_resynthesis.worth_resynthesizing`). An alternative that
    keeps the qubit order replaces the compilation if it has fewer than 3/4 of its two-qubit
    gates: a resynthesized Clifford is denser, and routing it costs more (accepting every
    smaller count took the GKP grid-5 step on FakeFez from 386 to 428 two-qubit gates for
    216 → 214 all-to-all)."""
    manager = build_pass_manager(None, seed=seed, initial_state=initial_state)
    compiled = manager.run(list(circuits))
    if alternatives:
        compiled = best_alternatives(list(circuits), compiled, manager)
    out = []
    for original, logical in zip(circuits, compiled, strict=True):
        if not _keeps_qubit_order(logical):
            out.append(original)
            continue
        plain = dag_to_circuit(circuit_to_dag(logical))  # the same gates, no layout
        plain.name, plain.metadata = original.name, dict(original.metadata or {})
        out.append(plain)
    return out


#: An alternative must have fewer than this fraction of the two-qubit gates of the
#: compilation it replaces (``optimize_logically``).
ALTERNATIVE_MARGIN = 0.75


def best_alternatives(
    originals: list[QuantumCircuit],
    compiled: list[QuantumCircuit],
    manager,
    *,
    margin: float = ALTERNATIVE_MARGIN,
    final: bool = False,
) -> list[QuantumCircuit]:
    """``compiled`` (``originals`` compiled by ``manager``, which has no coupling map) with
    each circuit replaced by its best alternative (see :func:`optimize_logically`) if that
    has fewer than ``margin`` times its two-qubit gates (1: any fewer, where nothing will
    route it) and keeps the qubit order — or, ``final`` (the result, with its layout, of an
    all-to-all compilation), whatever its layout."""
    owners, candidates = [], []
    for i, (original, logical) in enumerate(zip(originals, compiled, strict=True)):
        kept = _keeps_qubit_order(logical)
        if not kept and "swap" in original.count_ops():
            owners.append(i)
            candidates.append(original.decompose(gates_to_decompose=["swap"]))
        for source in (original, logical if kept else None):
            if source is not None and worth_resynthesizing(source):
                owners.append(i)
                plain = dag_to_circuit(circuit_to_dag(source))  # no layout attached
                candidates.append(resynthesize_cliffords(plain))
    if not candidates:
        return compiled
    out = list(compiled)
    bar = [margin * two_qubit_count(c) for c in compiled]
    for i, candidate in zip(owners, manager.run(candidates), strict=True):
        count = two_qubit_count(candidate)
        if count < bar[i] and (final or _keeps_qubit_order(candidate)):
            out[i], bar[i] = candidate, count
    return out


def two_qubit_count(circuit: QuantumCircuit) -> int:
    """Two-qubit operations of ``circuit`` (barriers aside), whatever their names."""
    return sum(1 for inst in circuit.data
               if inst.operation.num_qubits == 2 and inst.operation.name != "barrier")  # fmt: skip
