"""Run a time-dependent open-system protocol end to end: reference, lowered circuit, device
tomography.

For every protocol that describes an :class:`~qcompile.model.OpenSystem` of qubits evolving in
time — ``lindblad`` (a user's model) and coherent feedback (spec 002): the master-equation
reference at the protocol's sample times, the lowered circuit's exact noiseless states at the
same times (``ideal``), and on a backend with shots the state of the measured qubits by
tomography of circuit prefixes (``observables``, with bootstrap standard errors).

What the runner asks of the protocol: ``open_system()``, ``t_max``, ``dt``, ``frame()``,
``sample_times()``, ``lowering_options(overrides)``, ``measured_subsystems`` (the model's
subsystems the observables need) and ``estimate(times, states)`` (observables from states on
those subsystems, model tensor order); optionally ``check_device(shots, noisy)``.

Everything that can be refused is refused before the run is stored: options, register size,
the tomography's size and the lowering itself (it is cheap next to the run).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from qcompile.errors import InvalidParameter
from qcompile.lowering.dynamics import LoweredDynamics, lower_dynamics
from qcompile.model import partial_state
from qcompile.protocols.coherent_feedback import DEFAULT_LOWERING  # the former dynamics runner's
from qcompile.protocols.parameters import read_flag
from qcompile.results import RunResult
from qcompile.run.estimator_path import check_estimator, estimator_record
from qcompile.run.prefix_tomography import tomograph_prefixes
from qcompile.run.runner import (
    DEFAULT_SHOTS,
    Backend,
    Progress,
    RunContext,
    check_run,
    execute_run,
    runs_circuits,
)

__all__ = ["run_open_system", "run_dynamics", "DEFAULT_LOWERING"]

ReferenceSolver = Callable[..., Any]

#: Most Trotter/collision steps a circuit backend runs (the 600-step feedback circuit takes
#: ~20 s on Aer; beyond this the circuits alone take gigabytes).
MAX_CIRCUIT_STEPS = 10_000


def run_open_system(
    protocol,
    backend: Backend,
    reference_solver: ReferenceSolver | None = None,
    *,
    lowering: dict | None = None,
    shots: int | None = None,
    seed: int | None = None,
    device_every: int = 1,
    store=None,
    progress: Progress | None = None,
    run_id: str | None = None,
    sweep_point: tuple[str, int] | None = None,
    estimator: bool = False,
    resilience_level: int = 1,
) -> RunResult:
    """Run ``protocol`` on ``backend`` and return its :class:`RunResult`.

    ``lowering`` overrides the protocol's lowering options (rule, synthesis, order,
    collision); ``device_every`` tomographs every k-th sample time (and the last).
    ``store``, ``run_id`` and ``sweep_point`` as in :func:`qcompile.run.experiment.run_experiment`.
    ``estimator``: the states from Pauli expectation values measured by runtime's Estimator
    at ``resilience_level`` instead of counted tomography (always sampled: ``shots`` per
    basis, default :data:`DEFAULT_SHOTS`; :mod:`qcompile.backends.estimator`).
    """
    if reference_solver is None:
        from qcompile.backends.reference import lindblad_reference as reference_solver
    options = protocol.lowering_options(lowering)
    check_run(protocol, backend, shots, seed)
    if isinstance(device_every, bool) or int(device_every) != device_every or device_every < 1:
        raise InvalidParameter("device_every", device_every, "an integer >= 1")
    circuits = runs_circuits(backend)
    device_check = getattr(protocol, "check_device", None)
    if circuits and device_check is not None:
        device_check(shots, backend.noisy)
    level = None
    if read_flag("estimator", estimator):
        level = check_estimator(backend, resilience_level)
    if (backend.noisy or estimator) and shots is None:
        shots = DEFAULT_SHOTS
    times = protocol.sample_times()
    lowered = None
    if circuits:
        steps = round(protocol.t_max / protocol.dt)
        if steps > MAX_CIRCUIT_STEPS:  # (the reference alone takes up to MAX_TIME_STEPS)
            raise InvalidParameter(
                "dt", protocol.dt, f"t_max/dt <= {MAX_CIRCUIT_STEPS} steps on a circuit "
                f"backend ({steps} asked; raise --dt, lower --t-max or use --backend reference)"
            )  # fmt: skip
        lowered = lower_dynamics(
            protocol.open_system(),
            t_max=protocol.t_max,
            dt=protocol.dt,
            checkpoints=times,
            frame=protocol.frame(),
            **options,
        )

    def body(run: RunContext) -> RunResult:
        return _run(protocol, backend, reference_solver, lowered, times, run.shots, run.seed,
                    device_every, run.report, run.run_id, level)  # fmt: skip

    extra = {} if level is None else {"estimator": True, "resilience_level": level}
    return execute_run(
        protocol, backend, body, runner="open-system", shots=shots, seed=seed, store=store,
        progress=progress, run_id=run_id, sweep_point=sweep_point,
        parameters=protocol.parameters() | {"lowering": options}, lowering=options,
        device_every=device_every, **extra,
    )  # fmt: skip


def _run(
    protocol,
    backend: Backend,
    reference_solver: ReferenceSolver,
    lowered: LoweredDynamics | None,
    times: list[float],
    shots: int | None,
    seed: int,
    device_every: int,
    progress: Progress,
    run_id: str | None,
    level: int | None = None,
) -> RunResult:
    report = progress
    report("reference (master equation)", 0, 1)
    solution = reference_solver(protocol.open_system(), times)
    report("reference (master equation)", 1, 1)
    system = protocol.open_system()
    keep = _measured(protocol)
    reduced = [partial_state(rho, system.dims, keep) for rho in solution.states]
    reference = {"times": list(times)} | protocol.estimate(times, reduced)
    observables: dict[str, Any] = {}
    ideal: dict[str, Any] = {}
    circuit_info: dict[str, Any] = {}
    raw = None  # readout-mitigated runs: the observables of the same shots, not inverted
    if lowered is not None:
        circuit_info = {"lowering": lowered.report.to_dict()}
        report("ideal circuit (density matrix)", 0, 1)
        qubits = _circuit_qubits(keep, len(system.dims))
        states = backend.ideal_density_matrices(lowered.circuit, lowered.checkpoints, qubits)
        report("ideal circuit (density matrix)", 1, 1)
        ideal = {"times": list(times)} | protocol.estimate(times, [states[t] for t in times])
        if shots is None:
            observables = dict(ideal)
            observables.update({f"{k}_stderr": [0.0] * len(times) for k in ideal if k != "times"})
        else:
            observables, circuit_info["compiled"], raw = _tomography_run(
                protocol, backend, lowered, qubits, times, shots, seed, device_every, report,
                run_id, level,
            )  # fmt: skip
    mitigation: dict[str, Any] = {}
    if level is not None and lowered is not None and shots is not None:
        mitigation["estimator"] = estimator_record(level, shots)
    if raw is not None:
        mitigation["readout"] = {"method": "mthree", "calibration": "per qubit, same run",
                                 "raw": raw}  # fmt: skip
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
        mitigation=mitigation or None,
    )


def _measured(protocol) -> list[int]:
    """The model subsystems the protocol's observables need (default: all of them)."""
    keep = getattr(protocol, "measured_subsystems", None)
    n = len(protocol.open_system().dims)
    return sorted(range(n) if keep is None else keep)


def _circuit_qubits(subsystems: Sequence[int], n: int) -> list[int]:
    """Circuit qubits of model subsystems, ordered so that states little-endian over them are
    in the model's tensor order (subsystem s is circuit qubit n − 1 − s)."""
    return [n - 1 - s for s in sorted(subsystems, reverse=True)]


def _tomography_run(
    protocol, backend, lowered, qubits, times, shots, seed, device_every, report, run_id,
    level=None,
):  # fmt: skip
    """State tomography of the measured qubits after the circuit prefix of each chosen time
    (every ``device_every``-th sample time, and the last)."""
    chosen = sorted(set(times[::device_every]) | {times[-1]})
    estimated, compiled_info = tomograph_prefixes(
        backend, lowered, chosen, qubits, shots, seed, report, run_id, resilience_level=level
    )
    raw = None if estimated.raw is None else _estimate(protocol, chosen, estimated.raw)
    return _estimate(protocol, chosen, estimated.states), compiled_info, raw


def _estimate(protocol, times, estimates) -> dict[str, Any]:
    """The protocol's observables at ``times`` from the estimated states, each with the
    spread of its bootstrap resamples as standard error."""
    observables: dict[str, Any] = {"times": times}
    for t, estimate in zip(times, estimates, strict=True):
        mean = protocol.estimate([t], [estimate.mean])
        spread = protocol.estimate([t] * len(estimate.samples), estimate.samples)
        for name, value in mean.items():
            observables.setdefault(name, []).append(value[0])
            observables.setdefault(f"{name}_stderr", []).append(float(np.std(spread[name], ddof=1)))
    return observables


def run_dynamics(
    protocol,
    backend: Backend,
    reference_solver: ReferenceSolver | None = None,
    *,
    device_every: int = 5,
    **options: Any,
) -> RunResult:
    """:func:`run_open_system` under its former name (coherent feedback's runner), with its
    former default: tomography at every 5th sample time."""
    return run_open_system(
        protocol, backend, reference_solver, device_every=device_every, **options
    )
