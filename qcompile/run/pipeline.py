"""The one runner of a protocol declared by its data flow: a plugin with ``reference``,
``lower`` and ``estimate`` (and no ``run`` of its own) is run as

    check → store (running) → reference → lower → compile → execute → estimate → RunResult
    → store (done, or failed with the error)

* ``reference(protocol) -> dict``: the exact values of the observables (a master equation,
  an analytic formula);
* ``lower(protocol) -> list[QuantumCircuit]``: the measured circuits that estimate them;
* ``estimate(protocol, counts) -> dict``: the observables from one counts mapping per circuit
  (bit strings as Qiskit writes them, classical bit 0 rightmost; counts or probabilities:
  normalise by their sum), each ``x`` with its ``x_stderr`` where it has one. It gets the
  sampled counts for ``observables`` and the exact distribution of each uncompiled circuit
  for ``ideal`` (without ``*_stderr`` entries: it has no statistical error). An ``estimate``
  that takes ``rng`` gets the run's seeded generator (for a bootstrap of readout-mitigated
  counts, :class:`~qcompile.states.mitigated_counts.MitigatedCounts`).

Optional, each where a protocol needs it:

* ``simulate(protocol, *, solvers, seed, report, options) -> dict``: the ``observables`` on
  the ``reference`` backend — a numerical model other than the reference (the Ising memory's
  exact trajectories, the truncated Lindbladian of GKP and the cat qubit); without it a
  protocol with circuits reports its reference there, one without none;
* ``ideal(protocol) -> dict``: the lowered circuits' exact answer, when the protocol has one
  of its own (the Ising memory's collision chain) or its circuits are too wide for exact
  distributions;
* ``circuit_info(protocol) -> dict``: what the ``circuit`` block adds to the compiled
  circuit's metrics (rounds, step);
* ``ALWAYS_SAMPLES = True``: a circuit backend samples even when ideal (``shots`` default
  :data:`~qcompile.run.runner.DEFAULT_SHOTS`);
* ``estimator_observables(protocol, circuits)`` (one list of ``SparsePauliOp`` per unmeasured
  circuit) with ``from_expectations(protocol, data, *, shots, resilience_level)`` (``data``:
  ``{"evs", "stds"}`` per circuit): the run's ``estimator`` option.

Every run of a protocol with circuits takes the mitigation options ``zne``, ``estimator`` and
``resilience_level`` (:mod:`qcompile.run.mitigated_execution`), checked before anything runs.
A protocol's own ``RUN_OPTIONS`` (any other name is refused) reach its hooks as ``options``
(those given, not ``None``), and its recipe records them.

``reference`` and ``simulate`` get those of the keywords ``solvers``, ``seed``, ``report``
and ``options`` they name; ``lower``, ``ideal`` and ``circuit_info`` ``options`` if they name
it; ``estimate`` ``rng``.

``lower`` and ``estimate`` are optional together: a protocol with no circuits (the
photonic-Ising toy: master equations only) declares ``reference`` alone and is computed by
it on any backend, its result naming the ``reference`` backend, its values under
``reference``. A ``reference`` (or ``simulate``) that takes ``solvers`` gets qcompile's
default reference solvers by name (:func:`qcompile.backends.solvers.default_solvers`), with
the caller's replacements.

On the ``reference`` backend no circuit is built. On a circuit backend the circuits are
compiled for its target (:func:`qcompile.passes.compile.compile_circuits`, the report under
``circuit``) and run with ``shots`` (device default :data:`~qcompile.run.runner.DEFAULT_SHOTS`
where there is noise; an ideal backend without shots reports the exact distribution as
``observables``).
"""

from __future__ import annotations

import inspect
from typing import Any

import numpy as np
from qiskit import QuantumCircuit
from qiskit.quantum_info import DensityMatrix

from qcompile.errors import InvalidParameter, QCompileError, ResourceLimit
from qcompile.passes.compile import compile_circuits
from qcompile.protocols.parameters import read_flag
from qcompile.protocols.plugin import DATA_FLOW
from qcompile.results import RunResult
from qcompile.run.mitigated_execution import (
    check_mitigation,
    estimate_counts,
    run_counted,
    run_estimated,
)
from qcompile.run.runner import (
    DEFAULT_SHOTS,
    Progress,
    RunContext,
    check_run,
    check_shots_and_seed,
    execute_run,
    runs_circuits,
)

__all__ = [
    "DATA_FLOW",
    "MAX_EXACT_QUBITS",
    "check_declared",
    "exact_distribution",
    "reference_solvers",
    "run_declared",
]

#: Widest circuit whose exact distribution (the ``ideal`` block) is computed.
MAX_EXACT_QUBITS = 12


def exact_distribution(circuit: QuantumCircuit) -> dict[str, float]:
    """The exact outcome distribution of a circuit whose measurements all come last, keyed
    like Qiskit's counts (classical bit 0 rightmost); resets are allowed before them."""
    if circuit.num_qubits > MAX_EXACT_QUBITS:
        raise ResourceLimit(
            f"the exact distribution of {circuit.num_qubits} qubits (at most {MAX_EXACT_QUBITS})"
        )
    measured: dict[int, int] = {}  # clbit -> qubit
    body = QuantumCircuit(circuit.num_qubits)
    for instruction in circuit.data:
        qubits = [circuit.find_bit(q).index for q in instruction.qubits]
        if instruction.operation.name == "measure":
            measured[circuit.find_bit(instruction.clbits[0]).index] = qubits[0]
        elif set(qubits) & set(measured.values()) or instruction.clbits:
            raise QCompileError("lower() must measure every circuit at its end only")
        elif instruction.operation.name != "barrier":
            body.append(instruction.operation, qubits)
    state = DensityMatrix(body)
    order = [measured[c] for c in sorted(measured)]  # clbit 0 first
    probabilities = state.probabilities(qargs=order)
    width = circuit.num_clbits
    distribution: dict[str, float] = {}
    for outcome, p in enumerate(probabilities):
        if p > 1e-15:
            bits = ["0"] * width
            for position, clbit in enumerate(sorted(measured)):
                bits[width - 1 - clbit] = str((outcome >> position) & 1)
            distribution["".join(bits)] = float(p)
    return distribution


def _lowered(plugin, protocol, options: dict[str, Any]) -> list[QuantumCircuit]:
    accepted = inspect.signature(plugin.lower).parameters
    circuits = list(plugin.lower(protocol, **({"options": options} if "options" in accepted
                                             else {})))  # fmt: skip
    if not circuits or not all(isinstance(c, QuantumCircuit) for c in circuits):
        raise QCompileError(f"{plugin.NAME}: lower() must return a non-empty list of circuits")
    if any(c.num_clbits == 0 for c in circuits):
        raise QCompileError(f"{plugin.NAME}: lower() must return measured circuits")
    return circuits


def _call(method, protocol, **available: Any) -> dict[str, Any]:
    """``method(protocol, ...)`` with those of the ``available`` keywords it takes, its
    answer as JSON-ready numbers."""
    accepted = inspect.signature(method).parameters
    return _jsonable(method(protocol, **{k: v for k, v in available.items() if k in accepted}))


def reference_solvers(replacements=None) -> dict[str, Any]:
    """qcompile's reference solvers by name
    (:func:`qcompile.backends.solvers.default_solvers`), with the caller's replacements."""
    from qcompile.backends.solvers import default_solvers

    return {**default_solvers(), **dict(replacements or {})}


def _jsonable(block: dict[str, Any]) -> dict[str, Any]:
    """NumPy scalars and arrays as plain numbers and lists (the JSON contract)."""
    out = {}
    for key, value in dict(block).items():
        if isinstance(value, np.ndarray):
            value = value.tolist()
        elif isinstance(value, np.generic):
            value = value.item()
        out[key] = value
    return out


def _ideal(plugin, protocol, circuits: list[QuantumCircuit], options) -> dict[str, Any]:
    """The lowered circuits' exact answer: the protocol's own, or its estimate from their
    exact distributions (none for circuits wider than :data:`MAX_EXACT_QUBITS`)."""
    if hasattr(plugin, "ideal"):
        return _call(plugin.ideal, protocol, options=options)
    if max(c.num_qubits for c in circuits) > MAX_EXACT_QUBITS:
        return {}
    exact = [exact_distribution(c) for c in circuits]
    estimated = _jsonable(estimate_counts(plugin, protocol, exact, np.random.default_rng(0)))
    return {k: v for k, v in estimated.items() if not k.endswith("_stderr")}


def _run_options(plugin, options: dict[str, Any]) -> dict[str, Any]:
    """The given (not ``None``) run options, each one the protocol declares."""
    declared = [p.name for p in getattr(plugin, "RUN_OPTIONS", ())]
    for name in options:
        if name not in declared:
            allowed = ", ".join(declared) or "none besides shots, seed, zne, estimator"
            raise InvalidParameter(name, options[name], f"a run option of {plugin.NAME}: {allowed}")
    return {name: value for name, value in options.items() if value is not None}


def _refuse_mitigation(plugin, zne, estimator) -> None:
    """A protocol without circuits has nothing to mitigate."""
    if zne is not None:
        raise InvalidParameter("zne", zne, f"unset: {plugin.NAME} runs no circuits")
    if read_flag("estimator", estimator):
        raise InvalidParameter("estimator", estimator, f"false: {plugin.NAME} runs no circuits")


def _checked(plugin, protocol, backend, shots, seed, zne, estimator, resilience_level, options):
    """``(options, mitigation)``: the run's options and mitigation checked (mitigation
    ``None`` for a protocol without circuits, which refuses it)."""
    options = _run_options(plugin, options)
    check_shots_and_seed(shots, seed)
    if not hasattr(plugin, "lower"):
        _refuse_mitigation(plugin, zne, estimator)
        return options, None
    check_run(protocol, backend, shots, seed)
    return options, check_mitigation(plugin, backend, zne, estimator, resilience_level)


def check_declared(
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
    """Refuse what :func:`run_declared` would refuse before any work — options, register,
    shots and seed, mitigation — without lowering or running anything (a sweep checks
    every point with it before it starts)."""
    if hasattr(plugin, "lower_evolution") or hasattr(plugin, "tomography_tasks"):
        from qcompile.run.bloch_pipeline import check_blochs
        from qcompile.run.state_pipeline import check_states

        check = check_states if hasattr(plugin, "lower_evolution") else check_blochs
        check(plugin, protocol, backend, solvers=solvers, shots=shots, seed=seed, zne=zne,
              estimator=estimator, resilience_level=resilience_level, **options)  # fmt: skip
        return
    _checked(plugin, protocol, backend, shots, seed, zne, estimator, resilience_level, options)


def run_declared(
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
    """Run ``protocol`` of a data-flow ``plugin`` on ``backend`` (module docstring).
    ``solvers`` replaces default reference solvers by name, for a ``reference`` or
    ``simulate`` that takes them; ``zne``, ``estimator`` and ``resilience_level`` as in
    :func:`qcompile.run.mitigated_execution.check_mitigation`; ``options``: the protocol's
    own run options. A protocol that declares ``lower_evolution`` runs on the states path
    (:func:`qcompile.run.state_pipeline.run_states`), one that declares
    ``tomography_tasks`` on the Bloch path (:func:`qcompile.run.bloch_pipeline.run_blochs`)."""
    if hasattr(plugin, "lower_evolution") or hasattr(plugin, "tomography_tasks"):
        from qcompile.run.bloch_pipeline import run_blochs
        from qcompile.run.state_pipeline import run_states

        path = run_states if hasattr(plugin, "lower_evolution") else run_blochs
        return path(
            plugin, protocol, backend, solvers=solvers, shots=shots, seed=seed, store=store,
            progress=progress, run_id=run_id, sweep_point=sweep_point, zne=zne,
            estimator=estimator, resilience_level=resilience_level, **options,
        )  # fmt: skip
    options, mitigation = _checked(
        plugin, protocol, backend, shots, seed, zne, estimator, resilience_level, options
    )
    has_circuits = hasattr(plugin, "lower")
    if not has_circuits:  # nothing to run: the reference is the result
        backend, shots, circuits = "reference", None, []
    else:
        circuits = _lowered(plugin, protocol, options) if runs_circuits(backend) else []
    samples = circuits and (backend.noisy or mitigation.estimator
                            or getattr(plugin, "ALWAYS_SAMPLES", False))  # fmt: skip
    if samples and shots is None:
        shots = DEFAULT_SHOTS

    def body(run: RunContext) -> RunResult:
        hooks = {"solvers": reference_solvers(solvers), "seed": run.seed, "report": run.report,
                 "options": options}  # fmt: skip
        run.report("reference", 0, 1)
        reference = _call(plugin.reference, protocol, **hooks)
        run.report("reference", 1, 1)
        observables: dict[str, Any] = {}
        if hasattr(plugin, "simulate") and not circuits:
            observables = _call(plugin.simulate, protocol, **hooks)
        elif has_circuits and not circuits:
            observables = dict(reference)
        ideal, circuit, applied = {}, {}, {}
        if circuits:
            ideal = _ideal(plugin, protocol, circuits, options)
            estimated = mitigation.estimator
            given = ([c.remove_final_measurements(inplace=False) for c in circuits]
                     if estimated else circuits)  # fmt: skip
            run.report("compiling", 0, 1)
            compiled, report = compile_circuits(
                given,
                backend.compile_target,
                seed=run.seed,
                initial_state="zero" if estimated else "auto",
            )
            run.report("compiling", 1, 1)
            circuit = report.to_dict()
            if hasattr(plugin, "circuit_info"):
                circuit.update(_call(plugin.circuit_info, protocol, options=options))
            context = (run.shots, run.seed, run.report, run.run_id)
            if run.shots is None:
                observables = dict(ideal)
            elif estimated:
                observables, applied = run_estimated(
                    plugin,
                    protocol,
                    backend,
                    compiled,
                    given,
                    *context,
                    mitigation.resilience_level,
                )
            else:
                observables, applied = run_counted(
                    plugin, protocol, backend, compiled, *context, mitigation.zne
                )
            observables = _jsonable(observables)
        return RunResult(
            protocol=plugin.NAME, parameters=protocol.parameters(),
            backend=backend if isinstance(backend, str) else backend.name,
            seed=run.seed, shots=run.shots if circuits else None, circuit=circuit,
            observables=observables, ideal=ideal, reference=reference,
            mitigation=applied or None,
        )  # fmt: skip

    return execute_run(
        protocol, backend, body, runner=getattr(plugin, "RUNNER", plugin.NAME), shots=shots,
        seed=seed, store=store, progress=progress, run_id=run_id, sweep_point=sweep_point,
        **(mitigation.recipe if mitigation else {}), **options,
    )  # fmt: skip
