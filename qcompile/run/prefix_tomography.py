"""State tomography of a lowered evolution on a backend, at chosen times.

For each time, the circuit prefix that reaches it is followed by the 3^k Pauli measurement
settings of the chosen qubits (:func:`qcompile.states.tomography.state_tomography_circuits`);
every circuit is compiled once for the backend, all on the layout of the full evolution, run
with progress, and each time's counts give a density matrix with bootstrap resamples
(:func:`qcompile.states.tomography.estimate_state`; little-endian over the qubits, which for a
lowered model is the model's own tensor order).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from qiskit.circuit import QuantumCircuit

from qcompile.backends.estimator import physical_observables
from qcompile.lowering.dynamics import LoweredDynamics
from qcompile.metrics import circuit_metrics
from qcompile.passes.compile import compile_circuits
from qcompile.run.runner import Backend, Progress, run_with_progress
from qcompile.states.mitigated_counts import MitigatedCounts
from qcompile.states.tomography import (
    StateEstimate,
    estimate_state,
    pauli_observables,
    state_from_expectations,
    state_tomography_circuits,
)

__all__ = ["TomographyStates", "counted_states", "estimated_states", "tomograph_prefixes"]


@dataclass(frozen=True)
class TomographyStates:
    """One estimated state per group of tomography circuits, and — for readout-mitigated
    counts — the states of the same shots before the inversion (``raw``; else ``None``)."""

    states: list[StateEstimate]
    raw: list[StateEstimate] | None = None


def tomograph_prefixes(
    backend: Backend,
    lowered: LoweredDynamics,
    times: Sequence[float],
    qubits: Sequence[int],
    shots: int,
    seed: int,
    report: Progress,
    run_id: str | None = None,
    resilience_level: int | None = None,
) -> tuple[TomographyStates, dict[str, Any]]:
    """One :class:`StateEstimate` of ``qubits`` per time (checkpoints of ``lowered``), and
    the metrics of the largest compiled circuit with the target and compile time. With a
    ``resilience_level`` the states come from an Estimator instead (:func:`_estimated`)."""
    if resilience_level is not None:
        estimates, info = _estimated(backend, lowered, times, qubits, shots, seed, report,
                                     run_id, resilience_level)  # fmt: skip
        return TomographyStates(estimates), info
    circuits = []
    for t in times:
        circuits.extend(state_tomography_circuits(lowered.prefix(t), list(qubits)))
    report("compiling", 0, 1)
    compiled, compile_report = compile_circuits(
        circuits, backend.compile_target, seed=seed, layout_from=lowered.circuit
    )
    report("compiling", 1, 1)
    estimates = counted_states(backend, compiled, len(times), len(qubits), shots, seed, report,
                               run_id)  # fmt: skip
    return estimates, _compiled_info(compiled, compile_report)


def _compiled_info(compiled, compile_report) -> dict[str, Any]:
    """Metrics of the largest compiled circuit, with the target and the compile time."""
    largest = max(compiled, key=lambda c: c.size())
    return circuit_metrics(largest) | {
        "target": compile_report.target,
        "compile_time_s": compile_report.compile_time_s,
    }


def _estimated(backend, lowered, times, qubits, shots, seed, report, run_id, level):
    """The Estimator path: each time's prefix compiled unmeasured (from |0…0⟩), the 4^k − 1
    Pauli strings on ``qubits`` moved onto its physical qubits, one Estimator job; each
    density matrix by linear inversion of the expectation values (``shots`` per basis)."""
    prefixes = [lowered.prefix(t) for t in times]
    report("compiling", 0, 1)
    compiled, compile_report = compile_circuits(
        prefixes, backend.compile_target, seed=seed, layout_from=lowered.circuit,
        initial_state="zero",
    )  # fmt: skip
    report("compiling", 1, 1)
    width = lowered.circuit.num_qubits
    estimates = estimated_states(backend, compiled, width, qubits, shots, seed, level, report,
                                 run_id)  # fmt: skip
    return estimates, _compiled_info(compiled, compile_report)


def estimated_states(
    backend: Backend,
    compiled: Sequence[QuantumCircuit],
    width: int,
    qubits: Sequence[int],
    shots: int,
    seed: int,
    level: int,
    report: Progress,
    run_id: str | None = None,
    *,
    bootstrap: int = 200,
) -> list[StateEstimate]:
    """The state of ``qubits`` of the ``width``-qubit circuits the compiled, unmeasured ones
    came from: one Estimator job over the 4^k − 1 Pauli strings moved onto the physical
    qubits, then linear inversion (``shots`` per basis)."""
    observables = [physical_observables(c, pauli_observables(width, qubits)) for c in compiled]
    report("shots", 0, len(compiled))
    data = backend.estimate(compiled, observables, shots, resilience_level=level, seed=seed,
                            progress=lambda n: report("shots", n, len(compiled)),
                            run_id=run_id)  # fmt: skip
    rng = np.random.default_rng(seed)
    return [state_from_expectations(d["evs"], d["stds"], len(qubits), shots,
                                    bootstrap=bootstrap, rng=rng) for d in data]  # fmt: skip


def counted_states(
    backend: Backend,
    compiled: Sequence[QuantumCircuit],
    groups: int,
    num_qubits: int,
    shots: int,
    seed: int,
    report: Progress,
    run_id: str | None = None,
    *,
    bootstrap: int = 200,
) -> TomographyStates:
    """Run the compiled tomography circuits (``groups`` equal consecutive groups, the 3^k
    settings of :func:`state_tomography_circuits` each) with progress; one state per group
    (and, for readout-mitigated counts, the raw ones beside them)."""
    counts = run_with_progress(backend, list(compiled), shots, seed, report, run_id)
    size = len(compiled) // groups

    def states(tables, rng) -> list[StateEstimate]:
        return [estimate_state(tables[i * size : (i + 1) * size], num_qubits,
                               bootstrap=bootstrap, rng=rng) for i in range(groups)]  # fmt: skip

    mitigated = states(counts, np.random.default_rng(seed))
    if not any(isinstance(table, MitigatedCounts) for table in counts):
        return TomographyStates(mitigated)
    raw = [getattr(table, "raw", table) for table in counts]
    return TomographyStates(mitigated, states(raw, np.random.default_rng([seed, 1])))
