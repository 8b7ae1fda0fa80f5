"""Run the photonic-Ising toy model (spec 004 §6): logical fidelities after memory and
decoding, the strong symmetry, and the idealised lattice it maps to (§5, §7).

The master-equation solver (``qcompile.backends.reference.lindblad_state_at``) is passed in.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable

from qcompile.protocols.ising_memory import BETA_C
from qcompile.protocols.photonic_ising import (
    cat_amplitude,
    idealized_ising_rates,
    mean_field_magnetization,
)
from qcompile.results import RunResult
from qcompile.run.runner import Progress, RunContext, execute_run

__all__ = ["run_photonic_toy"]


def run_photonic_toy(
    protocol,
    backend=None,
    *,
    solver: Callable | None = None,
    shots: int | None = None,
    seed: int | None = None,
    store=None,
    progress: Progress | None = None,
    run_id: str | None = None,
    sweep_point: tuple[str, int] | None = None,
) -> RunResult:
    """Fidelities of |0_L⟩, |1_L⟩, |±_L⟩ after ``time`` and ``decode_time``; reference only."""
    if solver is None:
        from qcompile.backends.reference import lindblad_state_at as solver
    if seed is None:
        seed = secrets.randbelow(2**31)

    def body(run: RunContext) -> RunResult:
        report = run.report
        report("master equation (4 logical states)", 0, 1)
        states = protocol.fidelities(solver)
        report("master equation (4 logical states)", 1, 1)
        ideal_lattice = idealized_ising_rates(protocol.photons, protocol.kappa1, protocol.kappa_nn)
        if protocol.kappa1 > 0 and protocol.kappa_nn > 0:
            ideal_lattice["phase"] = "ordered" if ideal_lattice["beta"] > BETA_C else "disordered"
            ideal_lattice["mean_field_magnetization"] = mean_field_magnetization(
                ideal_lattice["delta"], ideal_lattice["kappa"]
            )
        alpha = cat_amplitude(protocol.photons)
        return RunResult(
            protocol=protocol.name,
            parameters=protocol.parameters(),
            backend="reference",
            seed=seed,
            shots=None,
            circuit={},
            observables={},
            ideal={},
            reference={
                "fidelity": {k: v["fidelity"] for k, v in states.items()},
                "symmetry_QZ": {k: v["symmetry"] for k, v in states.items()},
                "trace": {k: v["trace"] for k, v in states.items()},
                "alpha": [alpha.real, alpha.imag],
                "alpha_squared_modulus": abs(alpha) ** 2,
                "idealized_lattice": ideal_lattice,
            },
        )

    return execute_run(
        protocol, "reference", body, runner="toy", store=store, progress=progress, run_id=run_id,
        sweep_point=sweep_point, shots=None, seed=seed,
    )  # fmt: skip
