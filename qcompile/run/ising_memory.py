"""Run the dissipative Ising memory (spec 004 §3): exact trajectories, exact master equation,
collision circuits.

* ``reference``: the exact classical master equation (M ≤ 4, symmetry-lumped) — the decoded
  success P(majority 0 at T) from |0̄⟩;
* on the ``reference`` backend, ``observables`` are the exact trajectories (kinetic Monte
  Carlo, ``trajectories`` of them) with their standard error;
* on a circuit backend (M ≤ 3): ``observables`` are the measured, majority-decoded shots of
  the collision circuit, ``ideal`` the circuit's exact answer (the discrete-time collision
  chain, O(δt) from the continuous one).

The trajectory simulator and the master-equation solver are passed in (``backends``), so
this module stays above them in the data flow.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from qcompile.metrics import circuit_metrics
from qcompile.passes.compile import compile_circuits
from qcompile.protocols.ising_memory import BETA_C, DELTA_C, majority_success
from qcompile.results import RunResult
from qcompile.run.runner import (
    DEFAULT_SHOTS,
    Backend,
    Progress,
    RunContext,
    check_run,
    execute_run,
    runs_circuits,
)

__all__ = ["run_ising_memory", "exponential_fit", "EXACT_MAX_SIZE"]

EXACT_MAX_SIZE = 4


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
) -> RunResult:
    """Run ``protocol`` (``qcompile.protocols.ising_memory``); ``simulate`` is
    ``qcompile.backends.ising_kmc.simulate_memory``, ``exact`` is
    ``qcompile.backends.classical_master_equation.exact_success_probability``."""
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

    def body(run: RunContext) -> RunResult:
        return _run(protocol, backend, simulate, exact, run.shots, run.seed, run.report,
                    run.run_id)  # fmt: skip

    return execute_run(
        protocol, backend.name, body, runner="ising", shots=shots, seed=seed, store=store,
        progress=progress, run_id=run_id, sweep_point=sweep_point,
    )  # fmt: skip


def _run(protocol, backend, simulate, exact, shots, seed, progress, run_id) -> RunResult:
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
        steps = round(protocol.time / protocol.dt)
        circuit = protocol.circuit(steps)
        ideal = {
            "success_probability": protocol.collision_chain_success(steps),
            "method": f"exact collision chain, {steps} rounds of dt = {protocol.dt:g}",
        }
        report("compiling", 0, 1)
        (compiled,), compile_report = compile_circuits([circuit], backend.compile_target, seed=seed)
        report("compiling", 1, 1)
        report("shots", 0, 1)
        (counts,) = backend.run(
            [compiled], shots, seed=seed, progress=lambda n: report("shots", n, 1), run_id=run_id
        )
        success, error = majority_success(counts, protocol.sites)
        observables = {
            "success_probability": success,
            "success_probability_stderr": error,
            "shots": shots,
            "method": "collision circuit, majority-decoded shots",
        }
        circuit_info = circuit_metrics(compiled) | {
            "target": compile_report.target,
            "compile_time_s": compile_report.compile_time_s,
            "rounds": steps,
            "dt": protocol.dt,
            "rounds_per_unit_time": 1 / protocol.dt,
        }
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


def exponential_fit(sizes, failures, errors) -> dict[str, float] | None:
    """Weighted least squares of ln(1 − p) = a − γM over the points with failures."""
    import numpy as np

    points = [(m, f, e) for m, f, e in zip(sizes, failures, errors, strict=True) if f > 0 and e > 0]
    if len(points) < 2:
        return None
    m = np.array([p[0] for p in points], float)
    y = np.log([p[1] for p in points])
    w = np.array([(p[1] / p[2]) ** 2 for p in points])  # 1/σ² of ln(1-p) ≈ (f/σ_f)²
    design = np.vstack([np.ones_like(m), -m]).T
    coef = np.linalg.lstsq(design * np.sqrt(w)[:, None], y * np.sqrt(w), rcond=None)[0]
    return {"a": float(coef[0]), "gamma": float(coef[1]), "points": len(points)}
