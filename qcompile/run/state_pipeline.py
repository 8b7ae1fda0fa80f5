"""The one runner's *states* path: a protocol whose observables are functions of the state
of a few qubits along lowered evolutions (an open system in time: ``lindblad``, coherent
feedback; the encoded states of the dissipative qubits) declares

* ``reference(protocol) -> dict``: the exact observables with their ``times``;
* ``lower_evolution(protocol, options)``: the lowered evolution — ``circuit`` (unmeasured),
  ``checkpoints`` (time → instructions done), ``prefix(t)`` (the circuit whose end state is
  tomographed for time t), its ``report`` (:class:`~qcompile.lowering.report.LoweringReport`)
  and optionally ``decoding`` (a unitary on the measured qubits every prefix ends with,
  applied to the ideal states) —, e.g. :class:`~qcompile.lowering.dynamics.LoweredDynamics`;
  or a mapping key → evolution (all with the same checkpoint times);
* ``measured_qubits(protocol) -> list[int]``: the circuit qubits whose states the
  observables need (little-endian: the state's tensor order);
* ``estimate_states(protocol, times, states) -> dict``: the observables from those states
  (one per time; for a mapping of evolutions, a mapping key → states);

and optionally ``resolve_options(protocol, options[, solvers]) -> dict`` (its run options
resolved and checked: what the recipe records and the hooks get as ``options``),
``run_parameters(protocol, options)`` (the JSON parameter block; default
``protocol.parameters()``), ``check_device(protocol, shots, noisy)`` (limits on a circuit
backend), ``circuit_info(protocol, options)`` (the ``circuit`` block; default the lowering
report), ``tomographed_times(protocol, times, device_every)`` and ``BOOTSTRAP`` (resamples
per state, 200). The protocols of :mod:`qcompile.protocols.open_system_flow` and
:mod:`qcompile.protocols.encoding_flow` are such.

It runs as check → store (running) → reference → lower → ideal → compile → execute →
estimate → ``RunResult`` → store (done, or failed). Three answers: ``reference``; ``ideal``,
the lowered circuits' exact states at every checkpoint (the backend's density matrices);
``observables``, on a backend with shots the states by tomography of the circuit prefixes
at every ``device_every``-th checkpoint and the last (:mod:`qcompile.run.prefix_tomography`:
all in one job, counted — with readout mitigation's raw estimate kept, and with ``zne`` every
circuit also folded and each density matrix extrapolated to zero noise by Richardson's rule,
projected onto the states, the scale-1 observables kept under ``mitigation["zne"]["raw"]`` —
or from runtime's Estimator at a ``resilience_level``), each observable with the spread of its
bootstrap resamples as standard error; without shots the ideal (with zero errors beside its
lists).
"""

from __future__ import annotations

import inspect
from collections.abc import Mapping
from typing import Any

import numpy as np

from qcompile.errors import InvalidParameter
from qcompile.protocols.parameters import read_flag
from qcompile.protocols.plugin import STATE_FLOW
from qcompile.results import RunResult
from qcompile.run.estimator_path import check_estimator, estimator_record
from qcompile.run.pipeline import reference_solvers
from qcompile.run.prefix_tomography import tomograph_evolutions
from qcompile.run.runner import (
    DEFAULT_SHOTS,
    Progress,
    RunContext,
    check_run,
    execute_run,
    runs_circuits,
)
from qcompile.run.zne import check_zne, folding_of, zne_record

__all__ = ["STATE_FLOW", "check_states", "default_device_every", "evolutions_of", "run_states",
           "tomographed_times"]  # fmt: skip


def default_device_every(plugin) -> int:
    """The protocol's declared default ``device_every`` (1 if it declares none)."""
    declared = {p.name: p for p in getattr(plugin, "RUN_OPTIONS", ())}
    return declared["device_every"].default if "device_every" in declared else 1


def _device_every(plugin, options: dict[str, Any]) -> int:
    """Tomography at every k-th checkpoint: the option given, else the protocol's declared
    default (1)."""
    value = options.pop("device_every", None)
    if value is None:
        value = default_device_every(plugin)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or int(value) != value \
            or value < 1:  # fmt: skip
        raise InvalidParameter("device_every", value, "an integer >= 1")
    return int(value)


def tomographed_times(plugin, protocol, times: list[float], device_every: int) -> list[float]:
    """The checkpoint times a run tomographs: the plugin's ``tomographed_times``, else every
    ``device_every``-th and the last."""
    if hasattr(plugin, "tomographed_times"):
        return list(plugin.tomographed_times(protocol, times, device_every))
    return sorted(set(times[::device_every]) | {times[-1]})


def evolutions_of(lowered) -> list[Any]:
    """``lower_evolution``'s answer as a list of evolutions."""
    return list(_evolutions(lowered).values())


def _resolved(plugin, protocol, options: dict[str, Any], solvers) -> dict[str, Any]:
    if hasattr(plugin, "resolve_options"):
        accepted = inspect.signature(plugin.resolve_options).parameters
        given = {"solvers": solvers} if "solvers" in accepted else {}
        return dict(plugin.resolve_options(protocol, options, **given))
    for name, value in options.items():
        raise InvalidParameter(name, value, f"a run option of {plugin.NAME}: device_every")
    return {}


def _mitigation(backend, zne, estimator, resilience_level) -> tuple[int | None, tuple | None]:
    """``(level, scales)``: the Estimator's resilience level (``None``: counted tomography)
    and the ZNE scale factors of counted tomography (``None``: none), checked."""
    if not read_flag("estimator", estimator):
        return None, check_zne(zne, backend)
    if not runs_circuits(backend):
        raise InvalidParameter(
            "estimator", True, "a circuit backend (aer, aer:<fake backend>, ibm:...): the "
            "reference backend runs no circuits"
        )  # fmt: skip
    return check_estimator(backend, resilience_level, zne), None


def _checked(plugin, protocol, backend, solvers, shots, seed, zne, estimator, resilience_level,
             options):  # fmt: skip
    """``(device_every, resolved options, Estimator level or None, ZNE scales or None)``,
    every option checked."""
    options = {k: v for k, v in options.items() if v is not None}
    device_every = _device_every(plugin, options)
    resolved = _resolved(plugin, protocol, options, solvers)
    check_run(protocol, backend, shots, seed)
    if runs_circuits(backend) and hasattr(plugin, "check_device"):
        plugin.check_device(protocol, shots, backend.noisy)
    level, scales = _mitigation(backend, zne, estimator, resilience_level)
    return device_every, resolved, level, scales


def check_states(
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
    """Refuse what :func:`run_states` would refuse before any work, without lowering."""
    _checked(plugin, protocol, backend, reference_solvers(solvers), shots, seed, zne,
             estimator, resilience_level, options)  # fmt: skip


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
    solvers = reference_solvers(solvers)
    device_every, resolved, level, scales = _checked(
        plugin, protocol, backend, solvers, shots, seed, zne, estimator, resilience_level, options
    )
    if (getattr(backend, "noisy", False) or level is not None) and shots is None:
        shots = DEFAULT_SHOTS
    lowered = plugin.lower_evolution(protocol, resolved) if runs_circuits(backend) else None

    def body(run: RunContext) -> RunResult:
        accepted = inspect.signature(plugin.reference).parameters
        if "report" not in accepted:
            run.report("reference", 0, 1)
        hooks = {"solvers": solvers, "report": run.report,
                 "options": resolved, "seed": run.seed}  # fmt: skip
        reference = plugin.reference(protocol, **{k: v for k, v in hooks.items()
                                                  if k in accepted})  # fmt: skip
        if "report" not in accepted:
            run.report("reference", 1, 1)
        observables, ideal, circuit, mitigation = {}, {}, {}, {}
        if lowered is not None:
            circuit = (dict(plugin.circuit_info(protocol, resolved))
                       if hasattr(plugin, "circuit_info")
                       else {"lowering": lowered.report.to_dict()})  # fmt: skip
            observables, ideal, mitigation = _circuit_answers(
                plugin, protocol, backend, lowered, device_every, (level, scales), run, circuit
            )
        return RunResult(
            protocol=protocol.name, parameters=protocol.parameters(), backend=backend.name,
            seed=run.seed, shots=run.shots, circuit=circuit, observables=observables,
            ideal=ideal, reference=dict(reference), mitigation=mitigation or None,
        )  # fmt: skip

    parameters = (plugin.run_parameters(protocol, resolved)
                  if hasattr(plugin, "run_parameters") else protocol.parameters())  # fmt: skip
    extra = {} if level is None else {"estimator": True, "resilience_level": level}
    if scales is not None:
        extra["zne"] = list(scales)
    return execute_run(
        protocol, backend, body, runner=getattr(plugin, "RUNNER", plugin.NAME), shots=shots,
        seed=seed, store=store, progress=progress, run_id=run_id, sweep_point=sweep_point,
        parameters=parameters, **resolved, device_every=device_every, **extra,
    )  # fmt: skip


def _evolutions(lowered) -> dict[Any, Any]:
    """``lower_evolution``'s answer as a mapping (one evolution: under the key ``None``)."""
    return dict(lowered) if isinstance(lowered, Mapping) else {None: lowered}


def _unwrap(per_evolution: dict[Any, list]) -> list | dict[Any, list]:
    """What ``estimate_states`` gets: the states of the one evolution, or those of each."""
    return per_evolution[None] if list(per_evolution) == [None] else per_evolution


def _ideal_states(backend, evolutions, times, qubits, report) -> dict[Any, list]:
    """The exact states of ``qubits`` at ``times`` along every evolution (its ``decoding``
    unitary, if it has one, applied: the state its prefixes measure)."""
    stage = ("ideal circuit (density matrix)" if len(evolutions) == 1
             else "ideal circuits (density matrices)")  # fmt: skip
    report(stage, 0, len(evolutions))
    states: dict[Any, list] = {}
    for done, (key, evolution) in enumerate(evolutions.items(), start=1):
        at = backend.ideal_density_matrices(evolution.circuit, evolution.checkpoints, qubits)
        u = getattr(evolution, "decoding", None)
        states[key] = [at[t] if u is None else u @ at[t] @ u.conj().T for t in times]
        report(stage, done, len(evolutions))
    return states


def _circuit_answers(plugin, protocol, backend, lowered, device_every, mitigate, run, circuit):
    """``(observables, ideal, mitigation)`` of the lowered evolution(s) on a circuit backend
    (``circuit`` gets the compiled metrics; ``mitigate``: the Estimator's level and the ZNE
    scales, either ``None``)."""
    level, scales = mitigate
    evolutions = _evolutions(lowered)
    times = list(next(iter(evolutions.values())).checkpoints)
    qubits = list(plugin.measured_qubits(protocol))
    states = _ideal_states(backend, evolutions, times, qubits, run.report)
    ideal = {"times": times} | dict(plugin.estimate_states(protocol, times, _unwrap(states)))
    if run.shots is None:
        zeros = {f"{k}_stderr": [0.0] * len(times) for k, v in ideal.items()
                 if k != "times" and isinstance(v, list)}  # fmt: skip
        return dict(ideal) | zeros, ideal, {}
    chosen = tomographed_times(plugin, protocol, times, device_every)
    tomography, circuit["compiled"] = tomograph_evolutions(
        backend, list(evolutions.values()), chosen, qubits, run.shots, run.seed, run.report,
        run.run_id, level, bootstrap=getattr(plugin, "BOOTSTRAP", 200), zne=scales,
    )  # fmt: skip
    keys = list(evolutions)
    mitigation: dict[str, Any] = {}
    if level is not None:
        mitigation["estimator"] = estimator_record(level, run.shots)
    if tomography.raw is not None:  # readout-mitigated: the same shots, not inverted
        raw = _with_spread(plugin, protocol, chosen, keys, tomography.raw)
        mitigation["readout"] = {"method": "mthree", "calibration": "per qubit, same run",
                                 "raw": raw}  # fmt: skip
    if tomography.unextrapolated is not None:  # the scale-1 states' observables kept
        raw = _with_spread(plugin, protocol, chosen, keys, tomography.unextrapolated)
        folding = folding_of([e.circuit for e in evolutions.values()])
        mitigation["zne"] = zne_record(scales, folding, raw)
    return _with_spread(plugin, protocol, chosen, keys, tomography.states), ideal, mitigation


def _with_spread(plugin, protocol, times, keys, estimates) -> dict[str, Any]:
    """The observables at ``times`` from the estimated states (evolution-major), each with
    the spread of its bootstrap resamples — every state's b-th resample together — as
    standard error."""
    n = len(times)

    def states(pick) -> list | dict:
        return _unwrap({key: [pick(estimates[i * n + j]) for j in range(n)]
                        for i, key in enumerate(keys)})  # fmt: skip

    mean = plugin.estimate_states(protocol, times, states(lambda e: e.mean))
    resamples = min(len(e.samples) for e in estimates)
    spread = [plugin.estimate_states(protocol, times, states(lambda e, b=b: e.samples[b]))
              for b in range(resamples)]  # fmt: skip
    return {"times": times} | _with_errors(mean, spread)


def _with_errors(mean: Mapping[str, Any], spread: list[Mapping[str, Any]]) -> dict[str, Any]:
    """Every value of ``mean`` (nested mappings alike) with ``<name>_stderr``: the standard
    deviation of the resampled values, element by element."""
    out: dict[str, Any] = {}
    for name, value in mean.items():
        if isinstance(value, Mapping):
            out[name] = _with_errors(value, [s[name] for s in spread])
            continue
        out[name] = np.asarray(value).tolist()
        out[f"{name}_stderr"] = np.std([s[name] for s in spread], axis=0, ddof=1).tolist()
    return out
