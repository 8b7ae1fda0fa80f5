"""The one runner's *states* path: a protocol whose observables are functions of the state
of a few qubits along one lowered evolution (an open system in time: ``lindblad``, coherent
feedback) declares

* ``reference(protocol) -> dict``: the exact observables with their ``times``;
* ``lower_evolution(protocol, options)``: the lowered evolution — ``circuit`` (unmeasured),
  ``checkpoints`` (time → instructions done), ``prefix(t)`` and its ``report``
  (:class:`~qcompile.lowering.report.LoweringReport`) —,
  e.g. :class:`~qcompile.lowering.dynamics.LoweredDynamics`;
* ``measured_qubits(protocol) -> list[int]``: the circuit qubits whose states the
  observables need (little-endian: the state's tensor order);
* ``estimate_states(protocol, times, states) -> dict``: the observables from those states;

and optionally ``resolve_options(protocol, options) -> dict`` (its run options resolved and
checked: what the recipe records and the hooks get), ``run_parameters(protocol, options)``
(the JSON parameter block; default ``protocol.parameters()``) and ``check_device(protocol,
shots, noisy)`` (limits on a circuit backend). The protocols of
:mod:`qcompile.protocols.open_system_flow` are such.

It runs as check → store (running) → reference → lower → ideal → compile → execute →
estimate → ``RunResult`` → store (done, or failed). Three answers: ``reference``; ``ideal``,
the lowered circuit's exact states at every checkpoint (the backend's density matrices);
``observables``, on a backend with shots the states by tomography of the circuit prefixes
at every ``device_every``-th checkpoint and the last (:mod:`qcompile.run.prefix_tomography`:
counted, with readout mitigation's raw estimate kept, or from runtime's Estimator at a
``resilience_level``), each observable with the spread of its bootstrap resamples as
standard error; without shots the ideal, with zero errors.
"""

from __future__ import annotations

import inspect
from typing import Any

import numpy as np

from qcompile.errors import InvalidParameter
from qcompile.protocols.parameters import read_flag
from qcompile.protocols.plugin import STATE_FLOW
from qcompile.results import RunResult
from qcompile.run.estimator_path import check_estimator, estimator_record
from qcompile.run.pipeline import reference_solvers
from qcompile.run.prefix_tomography import tomograph_prefixes
from qcompile.run.runner import (
    DEFAULT_SHOTS,
    Progress,
    RunContext,
    check_run,
    execute_run,
    runs_circuits,
)

__all__ = ["STATE_FLOW", "run_states"]


def _device_every(plugin, options: dict[str, Any]) -> int:
    """Tomography at every k-th checkpoint: the option given, else the protocol's declared
    default (1)."""
    value = options.pop("device_every", None)
    if value is None:
        declared = {p.name: p for p in getattr(plugin, "RUN_OPTIONS", ())}
        value = declared["device_every"].default if "device_every" in declared else 1
    if isinstance(value, bool) or not isinstance(value, (int, float)) or int(value) != value \
            or value < 1:  # fmt: skip
        raise InvalidParameter("device_every", value, "an integer >= 1")
    return int(value)


def _resolved(plugin, protocol, options: dict[str, Any]) -> dict[str, Any]:
    if hasattr(plugin, "resolve_options"):
        return dict(plugin.resolve_options(protocol, options))
    for name, value in options.items():
        raise InvalidParameter(name, value, f"a run option of {plugin.NAME}: device_every")
    return {}


def _estimator_level(plugin, backend, zne, estimator, resilience_level) -> int | None:
    """The Estimator's resilience level (``None``: counted tomography); ZNE is not offered
    on this path (the Estimator's level 2 is its ZNE)."""
    if zne is not None:
        raise InvalidParameter(
            "zne", zne, f"unset: {plugin.NAME} estimates states by tomography (use "
            "--estimator true --resilience-level 2 for zero-noise extrapolation)"
        )  # fmt: skip
    if not read_flag("estimator", estimator):
        return None
    if not runs_circuits(backend):
        raise InvalidParameter(
            "estimator", True, "a circuit backend (aer, aer:<fake backend>, ibm:...): the "
            "reference backend runs no circuits"
        )  # fmt: skip
    return check_estimator(backend, resilience_level)


def run_states(
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
    """Run ``protocol`` of a states-path ``plugin`` on ``backend`` (module docstring);
    ``device_every``: tomograph every k-th checkpoint (and the last); ``options``: the
    protocol's own (``resolve_options``). Everything that can be refused is refused before
    the run is stored, the lowering included (it is cheap next to the run)."""
    options = {k: v for k, v in options.items() if v is not None}
    device_every = _device_every(plugin, options)
    resolved = _resolved(plugin, protocol, options)
    check_run(protocol, backend, shots, seed)
    circuits = runs_circuits(backend)
    if circuits and hasattr(plugin, "check_device"):
        plugin.check_device(protocol, shots, backend.noisy)
    level = _estimator_level(plugin, backend, zne, estimator, resilience_level)
    if (getattr(backend, "noisy", False) or level is not None) and shots is None:
        shots = DEFAULT_SHOTS
    lowered = plugin.lower_evolution(protocol, resolved) if circuits else None

    def body(run: RunContext) -> RunResult:
        accepted = inspect.signature(plugin.reference).parameters
        if "report" not in accepted:
            run.report("reference", 0, 1)
        hooks = {"solvers": reference_solvers(solvers), "report": run.report,
                 "options": resolved, "seed": run.seed}  # fmt: skip
        reference = plugin.reference(protocol, **{k: v for k, v in hooks.items()
                                                  if k in accepted})  # fmt: skip
        if "report" not in accepted:
            run.report("reference", 1, 1)
        observables, ideal, circuit, mitigation = {}, {}, {}, {}
        if lowered is not None:
            circuit = {"lowering": lowered.report.to_dict()}
            observables, ideal, mitigation = _circuit_answers(
                plugin, protocol, backend, lowered, device_every, level, run, circuit
            )
        return RunResult(
            protocol=protocol.name, parameters=protocol.parameters(), backend=backend.name,
            seed=run.seed, shots=run.shots, circuit=circuit, observables=observables,
            ideal=ideal, reference=dict(reference), mitigation=mitigation or None,
        )  # fmt: skip

    parameters = (plugin.run_parameters(protocol, resolved)
                  if hasattr(plugin, "run_parameters") else protocol.parameters())  # fmt: skip
    extra = {} if level is None else {"estimator": True, "resilience_level": level}
    return execute_run(
        protocol, backend, body, runner=getattr(plugin, "RUNNER", plugin.NAME), shots=shots,
        seed=seed, store=store, progress=progress, run_id=run_id, sweep_point=sweep_point,
        parameters=parameters, **resolved, device_every=device_every, **extra,
    )  # fmt: skip


def _circuit_answers(plugin, protocol, backend, lowered, device_every, level, run, circuit):
    """``(observables, ideal, mitigation)`` of the lowered evolution on a circuit backend
    (``circuit`` gets the compiled metrics)."""
    times = list(lowered.checkpoints)
    qubits = list(plugin.measured_qubits(protocol))
    run.report("ideal circuit (density matrix)", 0, 1)
    states = backend.ideal_density_matrices(lowered.circuit, lowered.checkpoints, qubits)
    run.report("ideal circuit (density matrix)", 1, 1)
    estimated = plugin.estimate_states(protocol, times, [states[t] for t in times])
    ideal = {"times": times} | dict(estimated)
    if run.shots is None:
        zeros = {f"{k}_stderr": [0.0] * len(times) for k in ideal if k != "times"}
        return dict(ideal) | zeros, ideal, {}
    chosen = sorted(set(times[::device_every]) | {times[-1]})
    tomography, circuit["compiled"] = tomograph_prefixes(
        backend, lowered, chosen, qubits, run.shots, run.seed, run.report, run.run_id,
        resilience_level=level,
    )  # fmt: skip
    mitigation: dict[str, Any] = {}
    if level is not None:
        mitigation["estimator"] = estimator_record(level, run.shots)
    if tomography.raw is not None:  # readout-mitigated: the same shots, not inverted
        raw = _with_spread(plugin, protocol, chosen, tomography.raw)
        mitigation["readout"] = {"method": "mthree", "calibration": "per qubit, same run",
                                 "raw": raw}  # fmt: skip
    return _with_spread(plugin, protocol, chosen, tomography.states), ideal, mitigation


def _with_spread(plugin, protocol, times, estimates) -> dict[str, Any]:
    """The observables at ``times`` from the estimated states, each with the spread of its
    bootstrap resamples as standard error."""
    observables: dict[str, Any] = {"times": times}
    for t, estimate in zip(times, estimates, strict=True):
        mean = plugin.estimate_states(protocol, [t], [estimate.mean])
        spread = plugin.estimate_states(protocol, [t] * len(estimate.samples), estimate.samples)
        for name, value in mean.items():
            observables.setdefault(name, []).append(value[0])
            observables.setdefault(f"{name}_stderr", []).append(float(np.std(spread[name], ddof=1)))
    return observables
