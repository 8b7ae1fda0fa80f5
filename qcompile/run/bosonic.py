"""Run the bosonic protocols against their references: the GKP qubit (spec 003) and the cat
qubit (spec 004 §2).

GKP: ``reference`` holds the exact logical rate of the torus operator (Theorems 3, 5; no
truncation) and the leading asymptotic formula; ``observables.rate`` is the decay rate of the
truncated Lindbladian at ``cutoff`` (positive truncation bias, reported). Cat: the steady
amplitude from vacuum (⟨a²⟩ = −2iλ/κ₂, ⟨n⟩ = 2N tanh 2N), the bit-flip (parity) rate — the
Liouvillian eigenvalue of the parity mode with loss and dephasing (spec 004 §2 correction:
0.039911 at N = 1, κ₁ = 0.01, not the 0.0375 of a straight-line fit of log⟨Q⟩, which ignores
⟨Q⟩'s steady value) — against 2κ₁|α|², and the phase-flip rate (slowest Liouvillian
eigenvalue without loss). The solvers can be passed in.

On ``aer`` / ``aer:<fake>`` the same runs go through the compiled collision step
(:mod:`qcompile.run.oscillator_circuits`).
"""

from __future__ import annotations

import math
import secrets
from collections.abc import Callable

import numpy as np

from qcompile.errors import InvalidParameter
from qcompile.protocols.gkp import energy_trajectory, logical_rate
from qcompile.results import RunResult
from qcompile.run.oscillator_circuits import run_cat_circuits, run_gkp_circuits
from qcompile.run.runner import Progress, RunContext, execute_run

__all__ = ["run_gkp", "run_cat"]


def _circuits(backend) -> bool:
    """True for a circuit backend (Aer); refuses the ones that cannot give unitaries."""
    name = getattr(backend, "name", "reference")
    if not getattr(backend, "runs_circuits", False):
        return False
    if not hasattr(backend, "unitary"):
        raise InvalidParameter(
            "backend", name, "reference, aer or aer:<fake backend> (the oscillator step's Kraus "
            "operators come from Aer's unitary simulator)",
        )  # fmt: skip
    return True


def _operator_solvers(evolve, evolve_states):
    """The operator-form Lindblad solvers, by default SciPy's (qcompile.backends)."""
    from qcompile.backends.operator_lindblad import evolve_expectations
    from qcompile.backends.operator_lindblad import evolve_states as states

    return evolve or evolve_expectations, evolve_states or states


def run_gkp(
    protocol, backend=None, *, evolve: Callable | None = None,
    evolve_states: Callable | None = None,
    horizon: float | None = None, seed=None, shots=None, store=None,
    progress: Progress | None = None, run_id=None, sweep_point=None, **circuit_options,
) -> RunResult:  # fmt: skip
    """Torus and asymptotic rates, and the truncated Lindbladian's logical rate; on Aer the
    compiled grid step (``grid_qubits``, ``dt``, ``steps_on_device``)."""
    evolve, evolve_states = _operator_solvers(evolve, evolve_states)
    common = {"seed": seed, "shots": shots, "store": store, "progress": progress,
              "run_id": run_id, "sweep_point": sweep_point}  # fmt: skip
    if _circuits(backend):
        horizon = 40.0 if horizon is None else horizon
        protocol.check_evolution(horizon)
        return run_gkp_circuits(protocol, backend, evolve=evolve, evolve_states=evolve_states,
                                horizon=horizon, **common, **circuit_options)  # fmt: skip
    if circuit_options:
        raise InvalidParameter("backend", "reference", "aer or aer:<fake> for circuit options "
                               + ", ".join(circuit_options))  # fmt: skip
    horizon = 60.0 if horizon is None else horizon
    protocol.check_evolution(horizon)
    seed = secrets.randbelow(2**31) if seed is None else seed

    def body(run: RunContext) -> RunResult:
        report = run.report
        report(f"Lindblad at cutoff {protocol.cutoff}", 0, 1)
        rate = logical_rate(protocol, evolve, horizon)
        report(f"Lindblad at cutoff {protocol.cutoff}", 1, 1)
        reference = protocol.rate_reference()
        observables = {
            "rate": rate,
            "cutoff": protocol.cutoff,
            "method": "truncated Lindbladian (operator form, SciPy DOP853), Z decay fit",
        }
        if reference["torus_rate"] is not None:
            observables["truncation_bias"] = rate - reference["torus_rate"]
        if protocol.noise == "none" or protocol.sigma == 0:
            observables["energy"] = _energy_check(protocol, evolve)
        return RunResult(
            protocol=protocol.name, parameters=protocol.parameters(), backend="reference",
            seed=seed, shots=None, circuit={}, observables=observables, ideal={},
            reference=reference,
        )  # fmt: skip

    return execute_run(
        protocol, "reference", body, runner="gkp", store=store, progress=progress, run_id=run_id,
        sweep_point=sweep_point, seed=seed,
    )  # fmt: skip


def _energy_check(protocol, evolve, horizon: float = 10.0) -> dict:
    """⟨N⟩(t) from the vacuum against Corollary 2: ⟨N⟩ ≤ (β/α)(1 − e^{−αt}) (spec 003 §3)."""
    bound = protocol.energy_bound()
    times, n = energy_trajectory(protocol, evolve, horizon=horizon)
    line = bound["steady_bound"] * (1 - np.exp(-bound["alpha"] * times))
    return {
        "times": times.tolist(), "n": n.tolist(), "bound": line.tolist(), **bound,
        "holds": bool(np.all(n <= line + 1e-9)),
    }  # fmt: skip


def run_cat(
    protocol, backend=None, *, state_at: Callable | None = None,
    evolve: Callable | None = None, slowest: Callable | None = None,
    evolve_states: Callable | None = None, sector_slowest: Callable | None = None,
    seed=None, shots=None, store=None,
    progress: Progress | None = None, run_id=None, sweep_point=None, **circuit_options,
) -> RunResult:  # fmt: skip
    """Steady amplitude, bit-flip (parity) and phase-flip rates of the cat qubit; on Aer the
    compiled Fock-binary step (``dt``, ``horizon``, ``steps_on_device``)."""
    evolve, evolve_states = _operator_solvers(evolve, evolve_states)
    from qcompile.backends.reference import (
        lindblad_state_at,
        liouvillian_sector_slowest,
        liouvillian_slowest,
    )

    state_at = state_at or lindblad_state_at
    slowest = slowest or liouvillian_slowest
    sector_slowest = sector_slowest or liouvillian_sector_slowest
    if _circuits(backend):
        return run_cat_circuits(protocol, backend, evolve=evolve, evolve_states=evolve_states,
                                sector_slowest=sector_slowest, seed=seed, shots=shots,
                                store=store, progress=progress, run_id=run_id,
                                sweep_point=sweep_point, **circuit_options)  # fmt: skip
    if circuit_options:
        raise InvalidParameter("backend", "reference", "aer or aer:<fake> for circuit options "
                               + ", ".join(circuit_options))  # fmt: skip
    seed = secrets.randbelow(2**31) if seed is None else seed

    def body(run: RunContext) -> RunResult:
        report = run.report
        stages = "cat: steady state, parity mode, Liouvillian gap"
        report(stages, 0, 3)
        obs = protocol.observables()
        # the error-free dynamics scale with kappa2 (lambda = N kappa2): 30 of its times
        error_free = protocol.open_system(protocol.vacuum(), loss=False, dephasing=False)
        rho = state_at(error_free, 30.0 / protocol.kappa2)
        a2 = complex(np.trace(obs["a2"] @ rho))
        report(stages, 1, 3)
        bit_flip = None
        if protocol.kappa1 > 0:  # the parity mode: the even sector's non-zero eigenvalue
            values = sector_slowest(protocol.open_system(), protocol.parity().diagonal(), 1, 2)
            bit_flip = float(-values[1].real)
        report(stages, 2, 3)
        phase_flip = None
        if protocol.kappa_d > 0:
            values = slowest(protocol.open_system(loss=False), 4)
            phase_flip = float(-values[2].real)
        report(stages, 3, 3)
        two_n = 2 * protocol.photons
        return RunResult(
            protocol=protocol.name, parameters=protocol.parameters(), backend="reference",
            seed=seed, shots=None, circuit={},
            observables={
                "n": float(np.real(np.trace(obs["n"] @ rho))),
                "a2": [a2.real, a2.imag],
                "bit_flip_rate": bit_flip,
                "phase_flip_rate": phase_flip,
            },
            ideal={},
            reference={
                "n": two_n * math.tanh(two_n),
                "a2": [0.0, -two_n * 1.0],
                "alpha_squared_modulus": two_n,
                "bit_flip_rate": 2 * protocol.kappa1 * two_n,
                "note": "<a^2> = -2i lambda/kappa2 (|alpha|^2 = 2N, spec 004 §2); parity decays "
                "at 2 kappa1 |alpha|^2 (observables: the parity-sector Liouvillian eigenvalue, "
                "loss and dephasing); phase flips: slowest non-zero Liouvillian eigenvalue "
                "without loss",
            },
        )  # fmt: skip

    return execute_run(
        protocol, "reference", body, runner="cat", store=store, progress=progress, run_id=run_id,
        sweep_point=sweep_point, seed=seed,
    )  # fmt: skip
