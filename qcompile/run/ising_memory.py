"""Run the dissipative Ising memory (spec 004 §3): exact trajectories, exact master equation,
collision circuits.

* ``reference``: the exact classical master equation (M ≤ 4, symmetry-lumped) — the decoded
  success P(majority 0 at T) from |0̄⟩;
* on the ``reference`` backend, ``observables`` are the exact trajectories (kinetic Monte
  Carlo, ``trajectories`` of them) with their standard error;
* on a circuit backend (M ≤ 3): ``observables`` are the measured, majority-decoded shots of
  the collision circuit, ``ideal`` the circuit's exact answer (the discrete-time collision
  chain, O(δt) from the continuous one).

Mitigation (issue 16), each recorded under ``mitigation``: readout (a backend
``…+readout-mitigation``: mthree on the final site readout), ``zne`` (every unitary stretch
between the ancilla's resets folded, :func:`qcompile.run.zne.fold`, the success probability
extrapolated by Richardson), or ``estimator``: the decoded success as the expectation value of
one Z-diagonal observable (:func:`~qcompile.protocols.ising_memory.majority_observable`)
through runtime's Estimator at ``resilience_level``.

The trajectory simulator and the master-equation solver are passed in (``backends``), so
this module stays above them in the data flow.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from qcompile.backends.estimator import physical_observables
from qcompile.errors import InvalidParameter
from qcompile.metrics import circuit_metrics
from qcompile.passes.compile import compile_circuits
from qcompile.protocols.ising_memory import (
    BETA_C,
    DELTA_C,
    exponential_fit,
    majority_observable,
    majority_success,
    majority_weights,
)
from qcompile.results import RunResult
from qcompile.run.estimator_path import check_estimator, estimator_record
from qcompile.run.runner import (
    DEFAULT_SHOTS,
    Backend,
    Progress,
    RunContext,
    check_run,
    execute_run,
    run_with_progress,
    runs_circuits,
)
from qcompile.run.zne import SEGMENT_FOLDING, check_zne, extrapolate_value, fold, zne_record
from qcompile.states.mitigated_counts import MitigatedCounts

__all__ = ["run_ising_memory", "check_mitigation", "exponential_fit", "EXACT_MAX_SIZE"]

EXACT_MAX_SIZE = 4
BOOTSTRAP = 400  # resamples for the standard error of readout-mitigated counts


def run_ising_memory(
    protocol,
    backend: Backend,
    *,
    simulate: Callable[..., Any] | None = None,
    exact: Callable[..., float] | None = None,
    shots: int | None = None,
    seed: int | None = None,
    store=None,
    progress: Progress | None = None,
    run_id: str | None = None,
    sweep_point: tuple[str, int] | None = None,
    zne: tuple[int, ...] | str | None = None,
    estimator: bool = False,
    resilience_level: int = 1,
) -> RunResult:
    """Run ``protocol`` (``qcompile.protocols.ising_memory``); ``simulate`` is
    ``qcompile.backends.ising_kmc.simulate_memory``, ``exact`` is
    ``qcompile.backends.classical_master_equation.exact_success_probability``.
    ``zne`` (odd scale factors, e.g. ``(1, 3, 5)``) and ``estimator`` (at
    ``resilience_level``) as for :func:`qcompile.run.experiment.run_experiment`; both on a
    circuit backend only."""
    if simulate is None:
        from qcompile.backends.ising_kmc import simulate_memory as simulate
    if exact is None:
        from qcompile.backends.classical_master_equation import (
            exact_success_probability as exact,
        )
    if runs_circuits(backend):
        check_run(protocol, backend, shots, seed)
    else:
        check_run(protocol, backend, None, seed)
    if runs_circuits(backend) and shots is None:
        shots = DEFAULT_SHOTS
    mitigation = check_mitigation(backend, zne, estimator, resilience_level)

    def body(run: RunContext) -> RunResult:
        return _run(protocol, backend, simulate, exact, run.shots, run.seed, run.report,
                    run.run_id, mitigation)  # fmt: skip

    extra: dict[str, Any] = {}  # recipes are as before without these options
    if mitigation.get("zne"):
        extra["zne"] = list(mitigation["zne"])
    if mitigation.get("estimator"):
        extra.update(estimator=True, resilience_level=mitigation["resilience_level"])
    return execute_run(
        protocol, backend, body, runner="ising", shots=shots, seed=seed, store=store,
        progress=progress, run_id=run_id, sweep_point=sweep_point, **extra,
    )  # fmt: skip


def check_mitigation(backend, zne, estimator: bool, resilience_level) -> dict[str, Any]:
    """The run's mitigation options, checked before any work: both need circuits, ZNE noise,
    the Estimator a backend with one and no Sampler-path mitigation."""
    chosen: dict[str, Any] = {}
    if estimator:
        if not runs_circuits(backend):
            raise InvalidParameter(
                "estimator", True, "a circuit backend (aer, aer:<fake backend>, ibm:...): the "
                "reference backend runs exact trajectories"
            )  # fmt: skip
        chosen["resilience_level"] = check_estimator(backend, resilience_level, zne)
        chosen["estimator"] = True
    zne = check_zne(zne, backend)
    if zne is not None:
        chosen["zne"] = zne
    return chosen


def _run(protocol, backend, simulate, exact, shots, seed, progress, run_id,
         mitigation) -> RunResult:  # fmt: skip
    report = progress
    reference: dict[str, Any] = {
        "beta": protocol.beta,
        "beta_c": BETA_C,
        "delta_c_over_kappa": DELTA_C,
        "phase": protocol.phase,
        "rates": list(protocol.rates()),
        "success_probability": None,
    }
    if protocol.size <= EXACT_MAX_SIZE:
        report("exact master equation", 0, 1)
        reference["success_probability"] = exact(protocol.size, protocol.rates(), protocol.time)
        reference["method"] = "exact classical master equation (symmetry-lumped)"
        report("exact master equation", 1, 1)
    observables: dict[str, Any] = {}
    ideal: dict[str, Any] = {}
    circuit_info: dict[str, Any] = {}
    applied: dict[str, Any] = {}
    if not runs_circuits(backend):
        stage = "trajectories"
        report(stage, 0, protocol.trajectories)
        kmc = simulate(
            protocol.size,
            protocol.rates(),
            protocol.time,
            protocol.trajectories,
            seed=seed,
            progress=lambda done, total: report(stage, done, total),
        )
        observables = {
            "success_probability": kmc.success_probability,
            "success_probability_stderr": kmc.stderr,
            "trajectories": kmc.trajectories,
            "ties": kmc.ties,
            "mean_events": kmc.mean_events,
            "seconds": kmc.seconds,
            "method": "kinetic Monte Carlo (exact trajectories)",
        }
    else:
        observables, ideal, circuit_info, applied = _circuit_run(
            protocol, backend, shots, seed, report, run_id, mitigation
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
        mitigation=applied or None,
    )


def _circuit_run(protocol, backend, shots, seed, report, run_id, mitigation):
    """The collision circuit compiled, run (counted, folded for ZNE, or through the
    Estimator) and decoded: (observables, ideal, circuit info, mitigation applied)."""
    steps = round(protocol.time / protocol.dt)
    circuit = protocol.circuit(steps)
    ideal = {
        "success_probability": protocol.collision_chain_success(steps),
        "method": f"exact collision chain, {steps} rounds of dt = {protocol.dt:g}",
    }
    estimator = mitigation.get("estimator", False)
    if estimator:  # unmeasured, from |0…0⟩: the Estimator adds its own measurements
        circuit = circuit.remove_final_measurements(inplace=False)
    report("compiling", 0, 1)
    (compiled,), compile_report = compile_circuits(
        [circuit], backend.compile_target, seed=seed,
        initial_state="zero" if estimator else "auto",
    )  # fmt: skip
    report("compiling", 1, 1)
    applied: dict[str, Any] = {}
    if getattr(backend, "readout_mitigation", False):
        applied["readout"] = {"method": "mthree", "calibration": "per qubit, same run"}
    if estimator:
        level = mitigation["resilience_level"]
        observable = physical_observables(
            compiled, [majority_observable(protocol.sites, circuit.num_qubits)]
        )
        report("estimator", 0, 1)
        (data,) = backend.estimate(
            [compiled], [observable], shots, resilience_level=level, seed=seed,
            progress=lambda n: report("estimator", n, 1), run_id=run_id,
        )  # fmt: skip
        success, error = float(data["evs"][0]), float(data["stds"][0])
        method = f"collision circuit, majority projector through the Estimator (level {level})"
        applied["estimator"] = estimator_record(level, shots)
    else:
        scales = mitigation.get("zne") or (1,)
        submitted = [compiled] + [fold(compiled, s, backend.compile_target) for s in scales[1:]]
        counts = run_with_progress(backend, submitted, shots, seed, report, run_id)
        rng = np.random.default_rng(seed)
        decoded = [_decode(c, protocol.sites, rng) for c in counts]
        success, error = decoded[0]
        method = "collision circuit, majority-decoded shots"
        if "readout" in applied:  # the same shots before the inversion, for compare
            raw, raw_error = majority_success(getattr(counts[0], "raw", counts[0]), protocol.sites)
            applied["readout"]["raw"] = {"success_probability": raw,
                                         "success_probability_stderr": raw_error}  # fmt: skip
        if len(scales) > 1:
            success, error = extrapolate_value(
                [d[0] for d in decoded], [d[1] for d in decoded], scales
            )
            method += ", zero-noise extrapolated"
            applied["zne"] = zne_record(
                scales, SEGMENT_FOLDING,
                {"success_probability": decoded[0][0],
                 "success_probability_stderr": decoded[0][1]},
                by_scale=[d[0] for d in decoded],
            )  # fmt: skip
    observables = {
        "success_probability": success,
        "success_probability_stderr": error,
        "shots": shots,
        "method": method,
    }
    circuit_info = circuit_metrics(compiled) | {
        "target": compile_report.target,
        "compile_time_s": compile_report.compile_time_s,
        "rounds": steps,
        "dt": protocol.dt,
        "rounds_per_unit_time": 1 / protocol.dt,
    }
    return observables, ideal, circuit_info, applied


def _decode(counts, sites: int, rng: np.random.Generator) -> tuple[float, float]:
    """Majority-decoded success and its standard error; readout-mitigated counts get theirs
    from resampling the raw counts and calibration (the inversion's variance included)."""
    success, error = majority_success(counts, sites)
    if isinstance(counts, MitigatedCounts):
        error = counts.stderr_of(majority_weights(sites), rng, BOOTSTRAP)
    return success, error
