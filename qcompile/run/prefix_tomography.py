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
from typing import Any

import numpy as np

from qcompile.lowering.dynamics import LoweredDynamics
from qcompile.metrics import circuit_metrics
from qcompile.passes.compile import compile_circuits
from qcompile.run.runner import Backend, Progress
from qcompile.states.tomography import StateEstimate, estimate_state, state_tomography_circuits

__all__ = ["tomograph_prefixes"]


def tomograph_prefixes(
    backend: Backend,
    lowered: LoweredDynamics,
    times: Sequence[float],
    qubits: Sequence[int],
    shots: int,
    seed: int,
    report: Progress,
    run_id: str | None = None,
) -> tuple[list[StateEstimate], dict[str, Any]]:
    """One :class:`StateEstimate` of ``qubits`` per time (checkpoints of ``lowered``), and
    the metrics of the largest compiled circuit with the target and compile time."""
    circuits = []
    for t in times:
        circuits.extend(state_tomography_circuits(lowered.prefix(t), list(qubits)))
    report("compiling", 0, 1)
    compiled, compile_report = compile_circuits(
        circuits, backend.compile_target, seed=seed, layout_from=lowered.circuit
    )
    report("compiling", 1, 1)
    done = 0

    def advance(n: int) -> None:
        nonlocal done
        done += n
        report("shots", done, len(compiled))

    counts = backend.run(compiled, shots, seed=seed, progress=advance, run_id=run_id)
    rng = np.random.default_rng(seed)
    per_time = len(circuits) // len(times)
    estimates = [
        estimate_state(counts[i * per_time : (i + 1) * per_time], len(qubits), rng=rng)
        for i in range(len(times))
    ]
    largest = max(compiled, key=lambda c: c.size())
    info = circuit_metrics(largest) | {
        "target": compile_report.target,
        "compile_time_s": compile_report.compile_time_s,
    }
    return estimates, info
