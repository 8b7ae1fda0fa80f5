"""Deprecated alias: GKP and the cat qubit at circuit level declare their step
(:mod:`qcompile.protocols.oscillator_step_flow`) and are run by qcompile's one runner on its
step path (:mod:`qcompile.run.step_pipeline`). ``run_gkp_circuits`` and ``run_cat_circuits``
keep old scripts working (same options, same numbers); the other names live on there."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from qcompile.deprecation import warn_deprecated
from qcompile.lowering.oscillator_collision import auto_dt
from qcompile.protocols.oscillator_step_flow import (
    MAX_SPECTRUM_CUTOFF,
    ROUND_OFF_FLOOR,
    decay_rate,
    offset_decay_rate,
)
from qcompile.results import RunResult
from qcompile.run.step_pipeline import reference_options, runs_steps

__all__ = [
    "MAX_SPECTRUM_CUTOFF",
    "ROUND_OFF_FLOOR",
    "auto_dt",
    "decay_rate",
    "offset_decay_rate",
    "oscillator_backend",
    "reference_options",
    "run_cat_circuits",
    "run_gkp_circuits",
]

#: The former name of :func:`qcompile.run.step_pipeline.runs_steps`.
oscillator_backend = runs_steps


def _run(name: str, protocol, backend, solvers: dict[str, Callable], options) -> RunResult:
    from qcompile.protocols.plugin import get_protocol
    from qcompile.run.step_pipeline import run_steps

    warn_deprecated(f"run_{name}_circuits", f"get_protocol({name!r}).run", stacklevel=4)
    return run_steps(get_protocol(name), protocol, backend, solvers=solvers, **options)


def run_gkp_circuits(protocol, backend, *, evolve: Callable, evolve_states: Callable,
                     **options: Any) -> RunResult:  # fmt: skip
    """``get_protocol("gkp").run`` on a circuit backend with these two solvers (deprecated)."""
    return _run("gkp", protocol, backend, {"evolve": evolve, "evolve_states": evolve_states},
                options)  # fmt: skip


def run_cat_circuits(protocol, backend, *, evolve: Callable, evolve_states: Callable,
                     sector_slowest: Callable, **options: Any) -> RunResult:  # fmt: skip
    """``get_protocol("cat").run`` on a circuit backend with these solvers (deprecated)."""
    solvers = {"evolve": evolve, "evolve_states": evolve_states, "sector_slowest": sector_slowest}
    return _run("cat", protocol, backend, solvers, options)
