"""Run homogenization (spec 000) end to end: lower → compile → execute → tomography.

The lifecycle (check, store, seed, recipe) is :func:`qcompile.run.runner.execute_run`;
``check_run``, ``stored_run``, ``run_recipe`` and ``DEFAULT_SHOTS`` are re-exported from here
as before. Three answers are put side by side:

* ``observables``: what the backend measured (shot-noise standard errors from a seeded
  bootstrap), or the exact state of the circuit on the ideal backend without shots;
* ``ideal``: exact noiseless reduced states of the lowered circuits (statevector);
* ``reference``: the protocol's own exact answer, independent of any circuit.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from qcompile.backends.estimator import physical_observables
from qcompile.passes.compile import circuit_metrics, compile_circuits
from qcompile.results import RunResult
from qcompile.run.estimator_path import check_estimator, estimator_record
from qcompile.run.recoverability import (
    check_recoverability,
    estimate_measured,
    exact_recoverability,
    recoverability_experiment,
    solver_note,
)
from qcompile.run.runner import (
    DEFAULT_SHOTS,
    MAX_SHOTS,
    Backend,
    Progress,
    RunContext,
    check_run,
    execute_run,
    run_recipe,
    run_with_progress,
    runs_circuits,
    stored_run,
)
from qcompile.run.zne import GLOBAL_FOLDING, check_zne, extrapolate, fold, zne_record
from qcompile.states.circuit_states import reduced_qubit_states
from qcompile.states.qubit_state import bloch_vector
from qcompile.states.tomography import (
    BlochEstimate,
    bloch_from_expectations,
    bloch_observables,
    estimate_bloch,
    measurement_circuits,
)

__all__ = [
    "Backend",
    "Progress",
    "run_experiment",
    "check_experiment",
    "check_estimator",
    "check_run",
    "stored_run",
    "run_recipe",
    "runs_circuits",
    "max_abs_deviation",
    "DEFAULT_SHOTS",
    "MAX_SHOTS",
]


def _tolist(values: dict[str, np.ndarray]) -> dict[str, Any]:
    return {k: np.asarray(v).tolist() for k, v in values.items()}


def run_experiment(
    protocol,
    backend: Backend,
    *,
    shots: int | None = None,
    seed: int | None = None,
    store=None,
    progress: Progress | None = None,
    run_id: str | None = None,
    sweep_point: tuple[str, int] | None = None,
    recoverability: bool = False,
    zne: tuple[int, ...] | None = None,
    estimator: bool = False,
    resilience_level: int = 1,
) -> RunResult:
    """Run ``protocol`` on ``backend`` and return the :class:`RunResult`.

    Noisy backends always sample (``shots`` defaults to :data:`DEFAULT_SHOTS`); the ideal
    backend samples only when ``shots`` is given. With ``store`` the run is recorded as
    ``running`` first, with its recipe (protocol parameters, shots, resolved seed), and
    completed or marked failed at the end; ``run_id`` completes an existing ``running`` run
    instead (a job fetched after its process died), ``sweep_point`` files it in a sweep.
    ``recoverability`` adds the ``recoverability`` block (homogenization, spec 000 §3:
    :mod:`qcompile.run.recoverability`), measured in the same job on circuit backends.
    ``zne`` (odd scale factors, e.g. ``(1, 3, 5)``) extrapolates every tomography estimate to
    zero noise (:mod:`qcompile.run.zne`); the scale-1 estimates are kept in ``mitigation``.
    ``estimator`` measures the Bloch vectors as Pauli expectation values with runtime's
    client-side Estimator at ``resilience_level`` (0 raw, 1 TREX, 2 TREX + ZNE;
    :mod:`qcompile.backends.estimator`) instead of counting tomography shots; it always
    samples (``shots`` per basis, default :data:`DEFAULT_SHOTS`).
    """
    resilience_level, zne = check_experiment(
        protocol, backend, shots=shots, seed=seed, recoverability=recoverability, zne=zne,
        estimator=estimator, resilience_level=resilience_level,
    )  # fmt: skip
    if (estimator or backend.noisy) and shots is None:
        shots = DEFAULT_SHOTS

    def body(run: RunContext) -> RunResult:
        save = (lambda circuits: store.save_circuits(run.run_id, circuits)) if store else None
        return _run(protocol, backend, run.shots, run.seed, run.report, save, run.run_id,
                    recoverability=recoverability, zne=zne,
                    resilience_level=resilience_level if estimator else None)  # fmt: skip

    extra: dict[str, Any] = {"recoverability": True} if recoverability else {}
    if zne is not None:  # recipes are as before without these options
        extra["zne"] = list(zne)
    if estimator:
        extra.update(estimator=True, resilience_level=resilience_level)
    return execute_run(protocol, backend, body, runner="experiment", shots=shots,
                       seed=seed, store=store, progress=progress, run_id=run_id,
                       sweep_point=sweep_point, **extra)  # fmt: skip


def check_experiment(
    protocol,
    backend: Backend,
    *,
    shots: int | None = None,
    seed: int | None = None,
    recoverability: bool = False,
    zne: tuple[int, ...] | str | None = None,
    estimator: bool = False,
    resilience_level: int = 1,
) -> tuple[int, tuple[int, ...] | None]:
    """Refuse what :func:`run_experiment` would refuse before any work (register, shots,
    seed, recoverability, the Estimator, ZNE), running nothing; ``(resilience level, ZNE
    scales)`` checked (a sweep checks its points with it before it starts)."""
    check_run(protocol, backend, shots, seed)
    if recoverability:
        check_recoverability(protocol)
    if estimator:
        resilience_level = check_estimator(backend, resilience_level, zne, recoverability)
    return resilience_level, check_zne(zne, backend)


def _estimated(
    tasks, compiled, backend: Backend, shots: int, seed: int, level: int, report: Progress,
    run_id: str | None,
) -> list[BlochEstimate]:  # fmt: skip
    """Every task's Bloch vectors from one Estimator job over its compiled, unmeasured
    circuit (the observables moved onto the physical qubits the compiler chose)."""
    observables = [physical_observables(c, bloch_observables(task))
                   for c, task in zip(compiled, tasks, strict=True)]  # fmt: skip
    report("shots", 0, len(compiled))
    data = backend.estimate(compiled, observables, shots, resilience_level=level, seed=seed,
                            progress=lambda n: report("shots", n, len(compiled)),
                            run_id=run_id)  # fmt: skip
    rng = np.random.default_rng(seed)
    return [bloch_from_expectations(d["evs"], d["stds"], shots, rng=rng) for d in data]


def _run(
    protocol,
    backend: Backend,
    shots: int | None,
    seed: int | None,
    progress: Progress,
    store_circuits: Callable | None,
    run_id: str | None = None,
    *,
    recoverability: bool = False,
    zne: tuple[int, ...] | None = None,
    resilience_level: int | None = None,
) -> RunResult:
    report = progress
    estimator = resilience_level is not None
    reference = protocol.reference()
    circuit_info: dict[str, Any] = {}
    observables: dict[str, Any] = {}
    ideal: dict[str, Any] = {}
    recovery = None
    if recoverability:
        recovery = {"reference": exact_recoverability(protocol, report), "measured": None,
                    "solver": solver_note()}  # fmt: skip
    measuring = recoverability and runs_circuits(backend) and shots is not None
    process = recoverability_experiment(protocol) if measuring else None
    mitigation: dict[str, Any] = {}
    if getattr(backend, "readout_mitigation", False):
        mitigation["readout"] = {"method": "mthree", "calibration": "per qubit, same run"}

    if runs_circuits(backend):
        tasks = protocol.tomography_tasks()
        report("exact simulation", 0, len(tasks))
        exact = []
        for i, task in enumerate(tasks):
            states = reduced_qubit_states(task.circuit, task.qubits)
            exact.append(BlochEstimate.exact(np.array([bloch_vector(r) for r in states])))
            report("exact simulation", i + 1, len(tasks))
        ideal = _tolist(protocol.observables([e.mean for e in exact]))

        full = protocol.circuit()
        # reported and stored as it runs: from |0…0⟩, measured (compiled state-aware)
        full_measured = full.copy()
        full_measured.measure_all()
        if estimator:  # the states themselves, from |0…0⟩, measured by the Estimator
            circuits = [task.circuit for task in tasks]
        else:
            circuits = [c for task in tasks for c in measurement_circuits(task)]
        tomography = len(circuits)
        if process is not None:  # the same layout, the same job
            circuits += process.circuits
        compiled, compile_report = compile_circuits(
            [full_measured, *circuits], backend.compile_target, seed=seed, layout_from=full,
            initial_state="zero" if estimator else "auto",
        )  # fmt: skip
        compiled_full, compiled = compiled[0], compiled[1:]
        circuit_info = circuit_metrics(compiled_full) | {
            "target": compile_report.target,
            "compile_time_s": compile_report.compile_time_s,
        }
        if store_circuits is not None:
            store_circuits([compiled_full])

        if shots is None:
            observables = dict(ideal)
            observables.update({f"{k}_stderr": [0.0] * len(v) for k, v in ideal.items()})
        elif estimator:
            estimates = _estimated(tasks, compiled, backend, shots, seed, resilience_level,
                                   report, run_id)  # fmt: skip
            observables = _observables(protocol, estimates)
            mitigation["estimator"] = estimator_record(resilience_level, shots)
        else:
            scales = zne or (1,)
            folded = [fold(c, scale, backend.compile_target)
                      for scale in scales[1:] for c in compiled[:tomography]]  # fmt: skip
            submitted = [*compiled, *folded]
            counts = run_with_progress(backend, submitted, shots, seed, report, run_id)
            process_counts = counts[tomography : len(compiled)]
            by_scale = [counts[:tomography]] + [
                counts[len(compiled) + i * tomography : len(compiled) + (i + 1) * tomography]
                for i in range(len(scales) - 1)
            ]
            rng = np.random.default_rng(seed)
            estimates = [
                [estimate_bloch(table[3 * i : 3 * i + 3], len(task.qubits), rng=rng)
                 for i, task in enumerate(tasks)]
                for table in by_scale
            ]  # fmt: skip
            observables = _observables(protocol, estimates[0])
            if "readout" in mitigation:  # the same shots before the inversion, for compare
                raw_tables = [getattr(t, "raw", t) for t in counts[:tomography]]
                raw_rng = np.random.default_rng([seed, 1])  # (rng's draws stay as they were)
                mitigation["readout"]["raw"] = _observables(protocol, [
                    estimate_bloch(raw_tables[3 * i : 3 * i + 3], len(task.qubits), rng=raw_rng)
                    for i, task in enumerate(tasks)
                ])  # fmt: skip
            if zne is not None:
                raw = observables
                observables = _observables(protocol, extrapolate(estimates, zne))
                mitigation["zne"] = zne_record(zne, GLOBAL_FOLDING, raw)
            if process is not None:
                recovery["measured"] = estimate_measured(
                    process, process_counts, protocol.reservoir_state.density_matrix(),
                    rng=np.random.default_rng(seed), report=report,
                )  # fmt: skip

    return RunResult(
        protocol=protocol.name,
        parameters=protocol.parameters(),
        backend=backend.name,
        seed=seed,
        shots=shots,
        circuit=circuit_info,
        observables=observables,
        ideal=ideal,
        reference=reference,
        recoverability=recovery,
        mitigation=mitigation or None,
    )


def _observables(protocol, estimates: list[BlochEstimate]) -> dict[str, Any]:
    """The protocol's observables and their bootstrap standard errors."""
    mean = protocol.observables([e.mean for e in estimates])
    spread = protocol.observables([e.samples for e in estimates])
    observables = _tolist(mean)
    observables.update(
        {f"{k}_stderr": np.std(v, axis=0, ddof=1).tolist() for k, v in spread.items()}
    )
    return observables


def max_abs_deviation(a: dict[str, Any], b: dict[str, Any]) -> float:
    """Largest |a − b| over the observables the two blocks share (NaN if none)."""
    diffs = [
        np.max(np.abs(np.subtract(a[k], b[k]))) for k in a if k in b and not k.endswith("_stderr")
    ]
    return float(max(diffs)) if diffs else math.nan
