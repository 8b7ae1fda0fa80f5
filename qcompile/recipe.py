"""Recipes: a run as data (protocol, parameters, runner options, seed), executable again.

Every run stores its recipe when it starts (``qcompile.experiment.run_recipe``). Executing a
recipe with the same seed gives the same compiled circuits and the same estimates, which is
what lets a run be completed from jobs fetched later, and what a sweep point is made of.

The master-equation solver is passed in by the caller, so this module stays above the
backends in the data flow.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from qcompile.bosonic_experiment import run_cat, run_gkp
from qcompile.dynamics_experiment import run_dynamics
from qcompile.encoding_experiment import run_encodings
from qcompile.errors import QCompileError
from qcompile.experiment import Progress, run_experiment
from qcompile.ising_experiment import run_ising_memory
from qcompile.protocols import get_protocol
from qcompile.results import RunResult
from qcompile.toy_experiment import run_photonic_toy

__all__ = ["make_recipe", "execute"]


def make_recipe(
    protocol: str,
    parameters: dict[str, Any],
    *,
    shots: int | None = None,
    seed: int | None = None,
    **options: Any,
) -> dict[str, Any]:
    """A recipe for ``protocol`` with ``parameters`` (validated now: bad input fails early)."""
    module = get_protocol(protocol)
    built = module.from_mapping(parameters)
    return {
        "runner": module.RUNNER,
        "protocol": protocol,
        "parameters": built.parameters(),
        "options": {"shots": shots, "seed": seed, **options},
    }


def execute(
    recipe: dict[str, Any],
    backend,
    *,
    solvers: Mapping[str, Callable],
    store=None,
    run_id: str | None = None,
    sweep_point: tuple[str, int] | None = None,
    progress: Progress | None = None,
) -> RunResult:
    """Run ``recipe`` on ``backend``; ``store``, ``run_id``, ``sweep_point`` as in
    :func:`qcompile.experiment.run_experiment`. ``solvers`` maps the reference solvers the
    runners need (``backends.solvers.default_solvers()``): ``lindblad_reference``,
    ``propagators``, ``kmc``, ``exact_memory``, ``state_at``, ``evolve``, ``slowest``."""
    protocol = get_protocol(recipe["protocol"]).from_mapping(recipe["parameters"])
    options = dict(recipe["options"])
    common = {
        "shots": options.pop("shots", None),
        "seed": options.pop("seed", None),
        "store": store,
        "progress": progress,
        "run_id": run_id,
        "sweep_point": sweep_point,
    }
    runner = recipe["runner"]
    if runner == "experiment":
        return run_experiment(protocol, backend, **common)
    if runner == "dynamics":
        return run_dynamics(protocol, backend, solvers["lindblad_reference"], **common, **options)
    if runner == "encodings":
        return run_encodings(protocol, backend, solvers["propagators"], **common, **options)
    if runner == "ising":
        return run_ising_memory(
            protocol, backend, simulate=solvers["kmc"], exact=solvers["exact_memory"], **common
        )
    if runner == "gkp":
        return run_gkp(protocol, backend, evolve=solvers["evolve"],
                       evolve_states=solvers["evolve_states"], **common, **options)  # fmt: skip
    if runner == "cat":
        return run_cat(protocol, backend, state_at=solvers["state_at"], evolve=solvers["evolve"],
                       slowest=solvers["slowest"], evolve_states=solvers["evolve_states"],
                       **common, **options)  # fmt: skip
    if runner == "toy":
        return run_photonic_toy(protocol, backend, solver=solvers["state_at"], **common)
    raise QCompileError(f"unknown runner {runner!r} in a stored recipe")
