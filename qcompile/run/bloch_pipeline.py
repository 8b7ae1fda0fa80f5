"""The one runner's *Bloch* path: a protocol whose observables are functions of single-qubit
states — the Bloch vectors of chosen qubits after chosen circuits (homogenization, spec 000:
the system after every collision, every reservoir qubit at the end) — declares

* ``reference(protocol) -> dict``: the exact observables (``reference(protocol, solvers)``
  gets qcompile's reference solvers by name);
* ``tomography_tasks(protocol) -> list[TomographyTask]``: unitary circuits from ``|0…0⟩``,
  each with the qubits whose single-qubit states are measured after it
  (:class:`~qcompile.states.tomography.TomographyTask`);
* ``estimate_blochs(protocol, blochs) -> dict``: the observables from one array of Bloch
  vectors per task, shape ``(..., q_t, 3)`` — leading axes (bootstrap resamples) broadcast;

and optionally

* ``program(protocol) -> QuantumCircuit``: the circuit the run stands for (what ``qcompile
  compile`` compiles): it is stored compiled with the run, its compiled metrics are the
  ``circuit`` block and, when every circuit of the run acts on its register, they are all
  placed on the qubits chosen for it (default: the last task's circuit);
* ``side_experiment(protocol, options)``: a further experiment asked for by one of the
  protocol's own ``RUN_OPTIONS`` (``None`` when not asked; built before anything is stored,
  so building it checks it) — an object with ``option`` (the run option that asks for it),
  ``block`` (the field of :class:`~qcompile.results.RunResult` it fills, one of
  :data:`SIDE_BLOCKS`), ``exact(report) ->
  dict`` (the block without a measurement), ``circuits()`` (measured circuits run in the same
  job, on the same layout, when the run samples) and ``measured(counts, rng, report) -> dict``
  (stored in the block as ``measured``). Homogenization's ``recoverability`` is one
  (:mod:`qcompile.protocols.homogenization_recoverability`).

Three circuits per task measure all its qubits in X, Y and Z whatever their number, so the
path scales to registers far beyond joint tomography (:mod:`qcompile.run.state_pipeline`).
It runs as check → store (running) → reference → ideal → compile → execute → estimate →
``RunResult`` → store (done, or failed). ``ideal``: the tasks' exact reduced states
(:func:`~qcompile.states.circuit_states.reduced_qubit_states`); ``observables``: on a backend
with shots the Bloch vectors counted (:func:`~qcompile.states.tomography.estimate_bloch`:
readout-mitigated tables resampled with their calibration, the raw estimate kept under
``mitigation["readout"]["raw"]``), with ``zne`` every tomography circuit also run folded and
each Bloch vector extrapolated by Richardson's rule and shrunk onto the ball
(:func:`~qcompile.run.zne.extrapolate`; the scale-1 observables kept), or the Pauli
expectation values from runtime's Estimator at a ``resilience_level``; each observable with
the spread of its bootstrap resamples as standard error. Without shots, the ideal.
"""

from __future__ import annotations

import inspect
import time
from dataclasses import fields
from typing import Any

import numpy as np

from qcompile.backends.estimator import physical_observables
from qcompile.errors import InvalidParameter, QCompileError
from qcompile.passes.checkpoint_cuts import compile_pieces
from qcompile.passes.compile import (
    CANDIDATES,
    check_width,
    circuit_metrics,
    compile_best,
    compile_circuits,
    current_compiler_revision,
    shared_layout,
    target_name,
)
from qcompile.passes.targets import resolve_target
from qcompile.protocols.parameters import read_flag
from qcompile.protocols.plugin import BLOCH_FLOW
from qcompile.results import RunResult
from qcompile.run.estimator_path import check_estimator, estimator_record
from qcompile.run.pipeline import reference_solvers
from qcompile.run.runner import (
    DEFAULT_SHOTS,
    Progress,
    RunContext,
    check_run,
    execute_run,
    run_with_progress,
    runs_circuits,
)
from qcompile.run.zne import GLOBAL_FOLDING, check_zne, extrapolate, fold, zne_record
from qcompile.states.circuit_states import reduced_qubit_states
from qcompile.states.qubit_state import bloch_vector
from qcompile.states.tomography import (
    BlochEstimate,
    TomographyTask,
    bloch_from_expectations,
    bloch_observables,
    estimate_bloch,
    measurement_circuits,
)

__all__ = ["BLOCH_FLOW", "SIDE_BLOCKS", "check_blochs", "run_blochs"]

#: The result blocks a side experiment may fill: the optional ones of ``RunResult`` that are
#: no other stage's (``recoverability``).
SIDE_BLOCKS = tuple(f.name for f in fields(RunResult)
                    if f.default is None and f.name not in ("run_id", "mitigation"))  # fmt: skip
#: Run options every protocol on this path takes; its own are the others it declares.
_MITIGATION = ("zne", "estimator", "resilience_level")


def _own_options(plugin, options: dict[str, Any]) -> dict[str, Any]:
    """The protocol's own run options given (not ``None``), each declared (``bool`` ones
    read from text too: a sweep's ``--option``, a recipe's JSON)."""
    declared = {p.name: p for p in getattr(plugin, "RUN_OPTIONS", ())
                if p.name not in _MITIGATION}  # fmt: skip
    own = {}
    for name, value in options.items():
        if name not in declared:
            allowed = ", ".join([*declared, *_MITIGATION])
            raise InvalidParameter(name, value, f"a run option of {plugin.NAME}: {allowed}")
        if value is not None:
            own[name] = read_flag(name, value) if declared[name].kind == "bool" else value
    return own


def _checked(plugin, protocol, backend, shots, seed, zne, estimator, resilience_level, options):
    """``(own options, side experiment or None, Estimator level or None, ZNE scales or
    None)``, everything checked, nothing run."""
    own = _own_options(plugin, options)
    check_run(protocol, backend, shots, seed)
    side = plugin.side_experiment(protocol, own) if hasattr(plugin, "side_experiment") else None
    if side is not None and side.block not in SIDE_BLOCKS:
        raise QCompileError(f"{plugin.NAME}: side_experiment() fills the result's block "
                            f"{side.block!r}; one of {', '.join(SIDE_BLOCKS)}")  # fmt: skip
    level = None
    if read_flag("estimator", estimator):
        level = check_estimator(backend, resilience_level, zne)
        if side is not None:
            raise InvalidParameter(
                side.option, True, "not with the Estimator (it counts shots in the same job): "
                "run it without --estimator"
            )  # fmt: skip
    return own, side, level, check_zne(zne, backend)


def check_blochs(
    plugin,
    protocol,
    backend,
    *,
    solvers=None,
    shots: int | None = None,
    seed: int | None = None,
    zne=None,
    estimator: object = False,
    resilience_level: object = 1,
    **options: Any,
) -> None:
    """Refuse what :func:`run_blochs` would refuse before any work, running nothing."""
    _checked(plugin, protocol, backend, shots, seed, zne, estimator, resilience_level, options)


def run_blochs(
    plugin,
    protocol,
    backend,
    *,
    solvers=None,
    shots: int | None = None,
    seed: int | None = None,
    store=None,
    progress: Progress | None = None,
    run_id: str | None = None,
    sweep_point: tuple[str, int] | None = None,
    zne=None,
    estimator: object = False,
    resilience_level: object = 1,
    **options: Any,
) -> RunResult:
    """Run ``protocol`` of a Bloch-path ``plugin`` on ``backend`` (module docstring).

    Noisy backends and the Estimator always sample (``shots`` default
    :data:`~qcompile.run.runner.DEFAULT_SHOTS`); an ideal backend samples only when ``shots``
    is given. ``zne``: odd scale factors, e.g. ``(1, 3, 5)``; ``estimator`` with
    ``resilience_level`` (0 raw, 1 TREX, 2 TREX + ZNE); ``options``: the protocol's own.
    The recipe records the own options that differ from their declared defaults."""
    own, side, level, scales = _checked(
        plugin, protocol, backend, shots, seed, zne, estimator, resilience_level, options
    )
    if (level is not None or getattr(backend, "noisy", False)) and shots is None:
        shots = DEFAULT_SHOTS

    def body(run: RunContext) -> RunResult:
        save = (lambda circuits: store.save_circuits(run.run_id, circuits)) if store else None
        return _run(plugin, protocol, backend, run, save, side, level, scales,
                    reference_solvers(solvers))  # fmt: skip

    defaults = {p.name: p.default for p in getattr(plugin, "RUN_OPTIONS", ())}
    extra: dict[str, Any] = {k: v for k, v in own.items() if v != defaults.get(k)}
    if scales is not None:  # recipes are as before without these options
        extra["zne"] = list(scales)
    if level is not None:
        extra.update(estimator=True, resilience_level=level)
    return execute_run(
        protocol, backend, body, runner=getattr(plugin, "RUNNER", plugin.NAME), shots=shots,
        seed=seed, store=store, progress=progress, run_id=run_id, sweep_point=sweep_point,
        **extra,
    )  # fmt: skip


def _tolist(values: dict[str, Any]) -> dict[str, Any]:
    return {k: np.asarray(v).tolist() for k, v in dict(values).items()}


def _observables(plugin, protocol, estimates: list[BlochEstimate]) -> dict[str, Any]:
    """The protocol's observables and their bootstrap standard errors."""
    mean = plugin.estimate_blochs(protocol, [e.mean for e in estimates])
    spread = plugin.estimate_blochs(protocol, [e.samples for e in estimates])
    observables = _tolist(mean)
    observables.update(
        {f"{k}_stderr": np.std(v, axis=0, ddof=1).tolist() for k, v in spread.items()}
    )
    return observables


def _reference(plugin, protocol, report: Progress, solvers) -> dict[str, Any]:
    """``reference(protocol)``, with ``report`` and ``solvers`` (qcompile's reference solvers
    by name, with the caller's replacements) if it takes them."""
    accepted = inspect.signature(plugin.reference).parameters
    hooks = {"report": report, "solvers": solvers}
    return dict(plugin.reference(protocol, **{k: v for k, v in hooks.items() if k in accepted}))


def _exact(plugin, protocol, tasks, report: Progress) -> dict[str, Any]:
    """The tasks' exact reduced states: the ``ideal`` block."""
    report("exact simulation", 0, len(tasks))
    exact = []
    for i, task in enumerate(tasks):
        states = reduced_qubit_states(task.circuit, task.qubits)
        exact.append(BlochEstimate.exact(np.array([bloch_vector(r) for r in states])))
        report("exact simulation", i + 1, len(tasks))
    return _tolist(plugin.estimate_blochs(protocol, [e.mean for e in exact]))


def _run(plugin, protocol, backend, run: RunContext, save, side, level, scales,
         solvers) -> RunResult:  # fmt: skip
    """The body of a run (module docstring); ``save`` stores compiled circuits with it."""
    reference = _reference(plugin, protocol, run.report, solvers)
    block = side.exact(run.report) if side is not None else None
    observables: dict[str, Any] = {}
    ideal: dict[str, Any] = {}
    circuit: dict[str, Any] = {}
    mitigation: dict[str, Any] = {}
    if getattr(backend, "readout_mitigation", False):
        mitigation["readout"] = {"method": "mthree", "calibration": "per qubit, same run"}
    if runs_circuits(backend):
        tasks = list(plugin.tomography_tasks(protocol))
        ideal = _exact(plugin, protocol, tasks, run.report)
        program = plugin.program(protocol) if hasattr(plugin, "program") else tasks[-1].circuit
        program_measured = program.copy()  # stored as it runs: from |0…0⟩, measured
        program_measured.measure_all()
        if level is not None:  # the states themselves, measured by the Estimator
            circuits = [task.circuit for task in tasks]
        else:
            circuits = [c for task in tasks for c in measurement_circuits(task)]
        tomography = len(circuits)
        process = side.circuits() if side is not None and run.shots is not None else []
        shared = all(c.num_qubits == program.num_qubits for c in [*circuits, *process])
        if current_compiler_revision() >= 4 and shared and (not process or hasattr(side, "pieces")):
            compiled_program, compiled, circuit = _compile_cuts(
                tasks, program, program_measured, side if process else None, backend, run,
                estimated=level is not None,
            )  # fmt: skip
        else:
            compiled, report = compile_circuits(
                [program_measured, *circuits, *process], backend.compile_target,
                seed=run.seed, layout_from=program if shared else None,
                initial_state="zero" if level is not None else "auto",
            )  # fmt: skip
            compiled_program, compiled = compiled[0], compiled[1:]
            circuit = circuit_metrics(compiled_program) | {
                "target": report.target, "compile_time_s": report.compile_time_s,
            }  # fmt: skip
        if save is not None:
            save([compiled_program])
        if run.shots is None:
            observables = dict(ideal)
            observables.update({f"{k}_stderr": np.zeros_like(v, dtype=float).tolist()
                                for k, v in ideal.items()})  # fmt: skip
        elif level is not None:
            observables = _estimated(plugin, protocol, tasks, compiled, backend, run, level)
            mitigation["estimator"] = estimator_record(level, run.shots)
        else:
            observables, counted = _counted(plugin, protocol, tasks, compiled, tomography,
                                            backend, run, scales, mitigation)  # fmt: skip
            if process:
                block["measured"] = side.measured(counted, np.random.default_rng(run.seed),
                                                  run.report)  # fmt: skip
    result = RunResult(
        protocol=protocol.name, parameters=protocol.parameters(), backend=backend.name,
        seed=run.seed, shots=run.shots, circuit=circuit, observables=observables,
        ideal=ideal, reference=reference, mitigation=mitigation or None,
    )  # fmt: skip
    if side is not None:
        setattr(result, side.block, block)
    return result


def _compile_cuts(tasks, program, program_measured, side, backend, run: RunContext, *,
                  estimated: bool):  # fmt: skip
    """``(compiled program, the run's circuits, circuit block)`` by compiler revision 4: the
    tasks' circuits and the side experiment's (its ``pieces``) cut from evolutions compiled
    once (:func:`~qcompile.passes.checkpoint_cuts.compile_pieces`), on the program's layout;
    the program compiled on its own, as it is stored."""
    start = time.perf_counter()
    target = resolve_target(backend.compile_target)
    check_width(program.num_qubits, target, backend.compile_target)
    layout = None
    if target is not None and target.build_coupling_map() is not None:
        layout = shared_layout(program, target, seed=run.seed)
    (compiled_program,) = compile_best(
        [program_measured], target, seed=run.seed, initial_layout=layout,
        initial_state="zero", candidates=1 if layout is not None else CANDIDATES,
    )  # fmt: skip
    pieces = []
    for task in tasks:
        empty = task.circuit.copy_empty_like()
        tails = [empty] if estimated else measurement_circuits(
            TomographyTask(task.name, empty, task.qubits))  # fmt: skip
        pieces += [(task.circuit, tail) for tail in tails]
    if side is not None:
        pieces += list(side.pieces())
    cuts = compile_pieces(pieces, target, seed=run.seed, initial_layout=layout)
    circuit = circuit_metrics(compiled_program) | {
        "target": target_name(backend.compile_target),
        "compile_time_s": time.perf_counter() - start,
        "strategy": "cuts", "circuits": len(cuts.circuits),
        "compiled_circuits": 1 + len({id(c.source) for c in cuts.cuts})
        + cuts.compile_tail.compiled,
    }  # fmt: skip
    return compiled_program, cuts.circuits, circuit


def _estimated(plugin, protocol, tasks, compiled, backend, run: RunContext, level: int):
    """Every task's Bloch vectors from one Estimator job over its compiled, unmeasured
    circuit (the observables moved onto the physical qubits the compiler chose)."""
    observables = [physical_observables(c, bloch_observables(task))
                   for c, task in zip(compiled, tasks, strict=True)]  # fmt: skip
    run.report("shots", 0, len(compiled))
    data = backend.estimate(compiled, observables, run.shots, resilience_level=level,
                            seed=run.seed, progress=lambda n: run.report("shots", n,
                                                                         len(compiled)),
                            run_id=run.run_id)  # fmt: skip
    rng = np.random.default_rng(run.seed)
    estimates = [bloch_from_expectations(d["evs"], d["stds"], run.shots, rng=rng) for d in data]
    return _observables(plugin, protocol, estimates)


def _counted(plugin, protocol, tasks, compiled, tomography: int, backend, run: RunContext,
             scales, mitigation: dict[str, Any]):  # fmt: skip
    """``(observables, counts of the side experiment's circuits)``: the tomography circuits
    counted — folded too with ``scales`` — in one job with the side experiment's;
    ``mitigation`` gets the readout's raw estimate and the ZNE record."""
    factors = scales or (1,)
    folded = [fold(c, scale, backend.compile_target)
              for scale in factors[1:] for c in compiled[:tomography]]  # fmt: skip
    program = getattr(compiled, "program", None)  # cut circuits: made only if needed
    submitted = [*compiled, *folded] if folded or program is None else compiled
    counts = run_with_progress(backend, submitted, run.shots, run.seed, run.report,
                               run.run_id, program)  # fmt: skip
    n = len(compiled)
    by_scale = [counts[:tomography]] + [counts[n + i * tomography : n + (i + 1) * tomography]
                                        for i in range(len(factors) - 1)]  # fmt: skip
    rng = np.random.default_rng(run.seed)
    estimates = [[estimate_bloch(table[3 * i : 3 * i + 3], len(task.qubits), rng=rng)
                  for i, task in enumerate(tasks)]
                 for table in by_scale]  # fmt: skip
    observables = _observables(plugin, protocol, estimates[0])
    if "readout" in mitigation:  # the same shots before the inversion, for compare
        raw_tables = [getattr(t, "raw", t) for t in counts[:tomography]]
        raw_rng = np.random.default_rng([run.seed, 1])  # (rng's draws stay as they were)
        mitigation["readout"]["raw"] = _observables(plugin, protocol, [
            estimate_bloch(raw_tables[3 * i : 3 * i + 3], len(task.qubits), rng=raw_rng)
            for i, task in enumerate(tasks)
        ])  # fmt: skip
    if scales is not None:
        raw = observables
        observables = _observables(plugin, protocol, extrapolate(estimates, scales))
        mitigation["zne"] = zne_record(scales, GLOBAL_FOLDING, raw)
    return observables, counts[tomography:n]
