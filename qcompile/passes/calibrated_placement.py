"""Place a finished circuit on the best-calibrated qubits that fit it (issue 35, item 3).

Layout is chosen before optimization, on the circuit as routed then; state-aware and block
synthesis change which pairs interact how often, and a candidate chosen by two-qubit count can
sit on qubits worse than a peer's. :func:`place_by_calibration` runs Qiskit's
``VF2PostLayout`` on the *compiled* circuit — its score is the calibrated error of every gate
and readout the circuit applies where it applies it — and, where another placement of the
same interaction graph scores better, relabels the circuit's physical qubits to it (with
``strict_direction``: every gate stays on a coupling the target has, in its direction; the
circuit's gates are unchanged). Its layout is composed with the move, so the initial and final
layouts read as before. Preserves the circuit's operator up to that relabelling.
"""

from __future__ import annotations

from qiskit.circuit import QuantumCircuit
from qiskit.converters import circuit_to_dag
from qiskit.transpiler import Layout, Target, TranspileLayout
from qiskit.transpiler.passes import VF2PostLayout
from qiskit.transpiler.passes.layout.vf2_post_layout import VF2PostLayoutStopReason

__all__ = ["place_by_calibration"]

#: VF2PostLayout's search limits at Qiskit's optimization level 3 (``get_vf2_limits``).
CALL_LIMIT, MAX_TRIALS = 30_000_000, 250_000


def _has_errors(target: Target) -> bool:
    return any(
        props is not None and props.error is not None
        for name in target.operation_names
        if target[name] is not None
        for props in target[name].values()
    )


def place_by_calibration(
    circuit: QuantumCircuit, target: Target | None, *, seed: int = 0, strict: bool = True
) -> QuantumCircuit:
    """``circuit`` (compiled for ``target``) moved to the best-scoring placement of its
    interaction graph, or ``circuit`` itself where there is none better (or no calibration)."""
    if target is None or target.build_coupling_map() is None or not _has_errors(target):
        return circuit
    if circuit.layout is None or circuit.num_qubits != target.num_qubits:
        return circuit
    search = VF2PostLayout(target=target, seed=seed, call_limit=CALL_LIMIT,
                           max_trials=MAX_TRIALS, strict_direction=strict)  # fmt: skip
    search.run(circuit_to_dag(circuit))
    post = search.property_set["post_layout"]
    if search.property_set["VF2PostLayout_stop_reason"] != VF2PostLayoutStopReason.SOLUTION_FOUND:
        return circuit
    if post is None:
        return circuit
    moved = {circuit.find_bit(q).index: p for q, p in post.get_virtual_bits().items()}
    free = iter(p for p in range(circuit.num_qubits) if p not in set(moved.values()))
    perm = [moved[p] if p in moved else next(free) for p in range(circuit.num_qubits)]
    out = circuit.copy_empty_like()
    for inst in circuit.data:
        out._append(inst.replace(qubits=[out.qubits[perm[circuit.find_bit(q).index]]
                                         for q in inst.qubits]))  # fmt: skip
    out._layout = _moved_layout(circuit.layout, out, perm)
    return out


def _moved_layout(layout: TranspileLayout, out: QuantumCircuit, perm: list[int]) -> TranspileLayout:
    """``layout`` with every physical qubit p renamed ``perm[p]`` (on ``out``'s qubits)."""
    initial = Layout({v: perm[p] for v, p in layout.initial_layout.get_virtual_bits().items()})
    final = None
    if layout.final_layout is not None:
        start = {q: i for i, q in enumerate(layout._output_qubit_list)}
        final = Layout({out.qubits[perm[start[q]]]: perm[f]
                        for q, f in layout.final_layout.get_virtual_bits().items()})  # fmt: skip
    return TranspileLayout(
        initial_layout=initial,
        input_qubit_mapping=layout.input_qubit_mapping,
        final_layout=final,
        _input_qubit_count=layout._input_qubit_count,
        _output_qubit_list=list(out.qubits),
    )
