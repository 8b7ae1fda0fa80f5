"""State tomography of lowered evolutions on a backend, at chosen times.

For each evolution and time, the circuit prefix that reaches it is followed by the 3^k Pauli
measurement settings of the chosen qubits
(:func:`qcompile.states.tomography.state_tomography_circuits`); every circuit is compiled
once for the backend, all on the layout of the (first) full evolution, run with progress as
one job, and each prefix's counts give a density matrix with bootstrap resamples
(:func:`qcompile.states.tomography.estimate_state`; little-endian over the qubits, which for a
lowered model is the model's own tensor order) — or, at a resilience level, the prefixes
unmeasured through the Estimator (:func:`estimated_states`).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, fields
from typing import Any

import numpy as np
from qiskit.circuit import QuantumCircuit
from qiskit.providers import BackendV2
from qiskit.transpiler import Target

from qcompile.backends.estimator import physical_observables
from qcompile.lowering.dynamics import LoweredDynamics
from qcompile.metrics import circuit_metrics
from qcompile.passes.checkpoint_cuts import CutProgram, TailCompiler, compile_cuts
from qcompile.passes.compile import (
    check_width,
    compile_circuits,
    current_compiler_revision,
    target_name,
)
from qcompile.passes.targets import resolve_target
from qcompile.run.runner import Backend, Progress, run_with_progress
from qcompile.run.zne import extrapolate_states, fold
from qcompile.states.mitigated_counts import MitigatedCounts
from qcompile.states.tomography import (
    StateEstimate,
    estimate_state,
    pauli_observables,
    state_from_expectations,
    state_tomography_circuits,
)

__all__ = [
    "TomographyStates",
    "compile_prefixes",
    "counted_states",
    "cuttable",
    "estimated_states",
    "tomograph_evolutions",
    "tomograph_prefixes",
]


@dataclass(frozen=True)
class TomographyStates:
    """One estimated state per group of tomography circuits; for readout-mitigated counts
    the states of the same shots before the inversion (``raw``); with zero-noise
    extrapolation the scale-1 states before it (``unextrapolated``; else ``None``)."""

    states: list[StateEstimate]
    raw: list[StateEstimate] | None = None
    unextrapolated: list[StateEstimate] | None = None


#: ``circuit.compiled.readout``: the prefixes' readout ran on the device, or the estimated
#: states were rotated by the evolutions' ``decoding`` instead (:func:`decoded`).
ON_DEVICE, DECODED = "on the device", "applied to the estimated states"


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
    the metrics of the largest compiled circuit with the target and compile time
    (:func:`tomograph_evolutions` of one evolution)."""
    return tomograph_evolutions(
        backend, [lowered], times, qubits, shots, seed, report, run_id, resilience_level
    )


def tomograph_evolutions(
    backend: Backend,
    evolutions: Sequence[Any],
    times: Sequence[float],
    qubits: Sequence[int],
    shots: int,
    seed: int,
    report: Progress,
    run_id: str | None = None,
    resilience_level: int | None = None,
    *,
    bootstrap: int = 200,
    zne: tuple[int, ...] | None = None,
) -> tuple[TomographyStates, dict[str, Any]]:
    """One :class:`StateEstimate` of ``qubits`` per evolution and time (evolution-major;
    each evolution has ``prefix(t)`` for the ``times`` and its whole ``circuit``), all
    compiled at once on the layout of the first evolution's circuit and run as one job; and
    the metrics of the largest compiled circuit with the target, the compile time and the
    number of circuits. With a ``resilience_level`` the states come from an Estimator
    instead (:func:`estimated_states`); with ``zne`` scale factors they are extrapolated
    (:func:`counted_states`)."""
    estimated = resilience_level is not None
    report("compiling", 0, 1)
    compiled, info = compile_prefixes(backend.compile_target, evolutions, times, qubits, seed,
                                      estimated)  # fmt: skip
    report("compiling", 1, 1)
    program = compiled if isinstance(compiled, CutProgram) else None
    if program is not None:
        compiled = program.circuits
    if estimated:
        estimates = TomographyStates(estimated_states(
            backend, compiled, evolutions[0].circuit.num_qubits, qubits, shots, seed,
            resilience_level, report, run_id, bootstrap=bootstrap,
        ))  # fmt: skip
    else:
        groups = len(evolutions) * len(times)
        estimates = counted_states(backend, compiled, groups, len(qubits), shots, seed, report,
                                   run_id, bootstrap=bootstrap, zne=zne,
                                   program=program)  # fmt: skip
    if info["readout"] == DECODED:
        unitaries = [decoded(e) for e in evolutions]
        estimates = TomographyStates(*(_rotated(getattr(estimates, f.name), unitaries, len(times))
                                       for f in fields(TomographyStates)))  # fmt: skip
    return estimates, info


def decoded(evolution: Any) -> np.ndarray | None:
    """The unitary a cut evolution's estimated states are rotated by instead of running its
    readout: its ``decoding`` (the readout as a matrix on the measured qubits), if it has one.
    A readout that only changes the frame the state is read in costs gates — a two-qubit
    unitary, routed from wherever the cut left the qubits — and adds their noise to every
    state; tomography of the state before it, rotated exactly, reads the same state."""
    return getattr(evolution, "decoding", None)


def _rotated(estimates: list[StateEstimate] | None, unitaries: Sequence[np.ndarray | None],
             per: int) -> list[StateEstimate] | None:  # fmt: skip
    """Each estimate of evolution i (``per`` consecutive ones) as U_i ρ U_i† (resamples too)."""
    if estimates is None:
        return None
    out = []
    for n, estimate in enumerate(estimates):
        u = unitaries[n // per]
        if u is None:
            out.append(estimate)
            continue
        dagger = u.conj().T
        out.append(StateEstimate(u @ estimate.mean @ dagger,
                                 [u @ r @ dagger for r in estimate.samples],
                                 estimate.shots))  # fmt: skip
    return out


def cuttable(evolutions: Sequence[Any]) -> bool:
    """Whether every evolution says what its prefixes end with after the checkpoint
    (``readout``: ``None`` or a circuit), so that ``prefix(t)`` is the circuit up to
    ``checkpoints[t]`` followed by it — and its prefixes can be cut from it compiled once."""
    return all(hasattr(e, "readout") for e in evolutions)


def compile_prefixes(
    target: str | Target | BackendV2 | None,
    evolutions: Sequence[Any],
    times: Sequence[float],
    qubits: Sequence[int],
    seed: int,
    estimated: bool,
) -> tuple[list[QuantumCircuit] | CutProgram, dict[str, Any]]:
    """The circuits that tomograph ``qubits`` after each evolution's prefix at each time
    (evolution-major; the prefixes unmeasured when ``estimated``, else followed by the 3^k
    settings of :func:`state_tomography_circuits`), compiled for ``target`` (a backend's
    ``compile_target``); and the metrics of the largest with the target, the compile time,
    the number of circuits and the strategy: ``"cuts"`` — each evolution compiled once and
    cut at its checkpoints (:mod:`qcompile.passes.checkpoint_cuts`, compiler revision ≥ 4,
    evolutions that are :func:`cuttable`) — or ``"prefixes"``, every circuit compiled on its
    own on the layout of the first evolution's circuit. The cuts come as a :class:`CutProgram` (its
    ``circuits`` are the compiled circuits), which a simulator can run in O(T)."""
    initial_state = "zero" if estimated else "auto"
    start = time.perf_counter()
    if current_compiler_revision() >= 4 and cuttable(evolutions):
        # (an unmeasured evolution would be taken for an operator by "auto": it runs from
        # |0…0⟩, which state-aware synthesis uses — 35 CZ for an AF prefix instead of 1)
        compiled, compilations = _cut_circuits(target, evolutions, times, qubits, seed,
                                               estimated, "zero")  # fmt: skip
        strategy = "cuts"
        readout = DECODED if any(decoded(e) is not None for e in evolutions) else ON_DEVICE
    else:
        circuits = []
        for evolution in evolutions:
            for t in times:
                prefix = evolution.prefix(t)
                circuits.extend(
                    [prefix] if estimated else state_tomography_circuits(prefix, list(qubits))
                )
        compiled, _ = compile_circuits(
            circuits, target, seed=seed, layout_from=evolutions[0].circuit,
            initial_state=initial_state,
        )  # fmt: skip
        strategy, compilations, readout = "prefixes", len(circuits), ON_DEVICE
    if isinstance(compiled, CutProgram):
        circuits, largest = compiled.circuits, compiled.largest()
    else:  # (len(data): size() would skip barriers, slowly)
        circuits, largest = compiled, max(compiled, key=lambda c: len(c.data))
    return compiled, circuit_metrics(largest) | {
        "target": target_name(target),
        "compile_time_s": time.perf_counter() - start,
        "circuits": len(circuits),
        "strategy": strategy,
        "compiled_circuits": compilations,
        "readout": readout,
    }


def _cut_circuits(given, evolutions, times, qubits, seed, estimated, initial_state):
    """``(program, circuits compiled)`` of the ``"cuts"`` strategy (:func:`compile_prefixes`)."""
    target = resolve_target(given)
    check_width(evolutions[0].circuit.num_qubits, target, given)
    ends = [[e.checkpoints[t] for t in times] for e in evolutions]
    cuts = compile_cuts([e.circuit for e in evolutions], ends, target, seed=seed,
                        initial_state=initial_state)  # fmt: skip
    tails = TailCompiler(target, seed=seed)
    planned = []  # (cut, tail, name), in the order of the circuits
    for evolution, by_end in zip(evolutions, cuts, strict=True):
        readout = evolution.readout
        if readout is None or decoded(evolution) is not None:  # (a decoding: applied after)
            readout = evolution.circuit.copy_empty_like(name="readout")
        settings = [readout] if estimated else state_tomography_circuits(readout, list(qubits))
        for t in times:
            cut = by_end[evolution.checkpoints[t]]
            for tail in settings:
                setting = "" if estimated else ":" + tail.name.rsplit(":", 1)[-1]
                planned.append((cut, tail, f"{evolution.circuit.name}@t={t:g}{setting}"))
    tails.prepare([(tail, cut.positions, cut.source.num_qubits) for cut, tail, _ in planned])
    program = CutProgram(tails)
    for cut, tail, name in planned:
        program.add(cut, tail, name)
    return program, len(evolutions) + tails.compiled


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
    zne: tuple[int, ...] | None = None,
    program: CutProgram | None = None,
) -> TomographyStates:
    """Run the compiled tomography circuits (``groups`` equal consecutive groups, the 3^k
    settings of :func:`state_tomography_circuits` each) with progress; one state per group
    (and, for readout-mitigated counts, the raw ones beside them). With ``zne`` scale
    factors every circuit also runs folded (:func:`qcompile.run.zne.fold`, in the same job)
    and each state is extrapolated to zero noise
    (:func:`qcompile.run.zne.extrapolate_states`); the scale-1 states are kept. With the
    ``program`` they were cut from, a backend that can runs it in O(T)
    (:func:`~qcompile.run.runner.run_with_progress`)."""
    scales = zne or (1,)
    submitted = compiled  # (a program's circuits: made only if the backend runs them)
    if scales[1:]:
        submitted = list(compiled)
        for scale in scales[1:]:
            submitted += [fold(c, scale, backend.compile_target) for c in compiled]
    counts = run_with_progress(backend, submitted, shots, seed, report, run_id, program)
    n = len(compiled)
    size = n // groups

    def states(tables, rng) -> list[StateEstimate]:
        return [estimate_state(tables[i * size : (i + 1) * size], num_qubits,
                               bootstrap=bootstrap, rng=rng) for i in range(groups)]  # fmt: skip

    mitigated = states(counts[:n], np.random.default_rng(seed))
    raw = None
    if any(isinstance(table, MitigatedCounts) for table in counts[:n]):
        raw = states([getattr(t, "raw", t) for t in counts[:n]], np.random.default_rng([seed, 1]))
    if zne is None:
        return TomographyStates(mitigated, raw)
    by_scale = [mitigated] + [
        states(counts[i * n : (i + 1) * n], np.random.default_rng([seed, 2, i]))
        for i in range(1, len(scales))
    ]
    return TomographyStates(extrapolate_states(by_scale, scales), raw, mitigated)
