"""Run a continuous-time protocol end to end: reference, lowered circuit, device tomography.

For protocols that describe an :class:`~qcompile.model.OpenSystem` evolving in time (coherent
feedback, spec 002): the master-equation reference is solved at the protocol's sample times,
the lowered circuit is simulated exactly (noiseless density matrices at the same times), and
on a noisy backend the plant is reconstructed by state tomography of circuit prefixes. The
backend and the reference solver are passed in, so this module never reaches down the chain.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from qcompile.lowering.dynamics import lower_dynamics
from qcompile.protocols.coherent_feedback import DEFAULT_LOWERING
from qcompile.results import RunResult
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

__all__ = ["run_dynamics", "DEFAULT_LOWERING"]

ReferenceSolver = Callable[..., Any]


def run_dynamics(
    protocol,
    backend: Backend,
    reference_solver: ReferenceSolver | None = None,
    *,
    lowering: dict | None = None,
    shots: int | None = None,
    seed: int | None = None,
    device_every: int = 5,
    store=None,
    progress: Progress | None = None,
    run_id: str | None = None,
    sweep_point: tuple[str, int] | None = None,
) -> RunResult:
    """Run ``protocol`` (e.g. coherent feedback) and return its :class:`RunResult`.

    ``lowering`` overrides :data:`DEFAULT_LOWERING`; ``device_every`` thins the sample times
    at which the device is tomographed (every k-th sample time, plus the last). ``store``,
    ``run_id`` and ``sweep_point`` as in :func:`qcompile.run.experiment.run_experiment`.
    """
    if reference_solver is None:
        from qcompile.backends.reference import lindblad_reference as reference_solver
    options = DEFAULT_LOWERING | (lowering or {})
    check_run(protocol, backend, shots, seed)
    if backend.noisy and shots is None:
        shots = DEFAULT_SHOTS

    def body(run: RunContext) -> RunResult:
        return _run(protocol, backend, reference_solver, options, run.shots, run.seed,
                    device_every, run.report, run.run_id)  # fmt: skip

    return execute_run(
        protocol, backend.name, body, runner="dynamics", shots=shots, seed=seed, store=store,
        progress=progress, run_id=run_id, sweep_point=sweep_point,
        parameters=protocol.parameters() | {"lowering": options}, lowering=options,
        device_every=device_every,
    )  # fmt: skip


def _run(
    protocol, backend, reference_solver, options, shots, seed, device_every, progress, run_id
) -> RunResult:
    report = progress
    system = protocol.open_system()
    times = protocol.sample_times()
    report("reference (master equation)", 0, 1)
    solution = reference_solver(system, times)
    report("reference (master equation)", 1, 1)
    reference = {
        "times": list(times),
        "trace_distance": protocol.trace_distances(
            times, [protocol.plant_state(s) for s in solution.states]
        ).tolist(),
    }
    observables: dict[str, Any] = {}
    ideal: dict[str, Any] = {}
    circuit_info: dict[str, Any] = {}
    if runs_circuits(backend):
        report("lowering", 0, 1)
        lowered = lower_dynamics(
            system,
            t_max=protocol.t_max,
            dt=protocol.dt,
            frame=protocol.frame(),
            checkpoints=times,
            **options,
        )
        report("lowering", 1, 1)
        circuit_info = {"lowering": lowered.report.to_dict()}
        report("ideal circuit (density matrix)", 0, 1)
        states = backend.ideal_density_matrices(
            lowered.circuit, lowered.checkpoints, lowered.system_qubits
        )
        report("ideal circuit (density matrix)", 1, 1)
        ideal = {
            "times": list(times),
            "trace_distance": protocol.trace_distances(
                times, [protocol.plant_state(states[t]) for t in times]
            ).tolist(),
        }
        if shots is None:
            observables = dict(ideal) | {"trace_distance_stderr": [0.0] * len(times)}
        else:
            observables, circuit_info["compiled"] = _tomography_run(
                protocol, backend, lowered, times, shots, seed, device_every, report, run_id
            )
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
    )


def _tomography_run(protocol, backend, lowered, times, shots, seed, device_every, report, run_id):
    """Plant tomography of the circuit prefixes at every ``device_every``-th sample time."""
    chosen = sorted(set(times[::device_every]) | {times[-1]})
    plant = [q for q in lowered.system_qubits if q != 0]  # qubit 0 is the controller
    estimates, compiled_info = tomograph_prefixes(
        backend, lowered, chosen, plant, shots, seed, report, run_id
    )
    values, errors = [], []
    for t, estimate in zip(chosen, estimates, strict=True):
        values.append(float(protocol.trace_distances([t], [estimate.mean])[0]))
        spread = [protocol.trace_distances([t], [s])[0] for s in estimate.samples]
        errors.append(float(np.std(spread, ddof=1)))
    observables = {"times": chosen, "trace_distance": values, "trace_distance_stderr": errors}
    return observables, compiled_info
