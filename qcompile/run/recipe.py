"""Recipes: a run as data (protocol, parameters, runner options, seed), executable again.

Every run stores its recipe when it starts (``qcompile.run.runner.run_recipe``). Executing a
recipe with the same seed gives the same compiled circuits and the same estimates, which is
what lets a run be completed from jobs fetched later, and what a sweep point is made of.

A recipe records the compiler's revision (``compiler_revision``); executing it compiles as
that revision did (:func:`qcompile.passes.compile.compiler_revision`), so a run stored
before the compiler changed — or a sweep resumed after — still gets its own circuits; a
recipe without one predates revisions (revision 1).

Each runner picks its reference solvers from ``qcompile.backends`` itself; a caller may still
pass replacements (``solvers``), e.g. to test a runner against a stub.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from qcompile.passes.compile import compiler_revision, current_compiler_revision
from qcompile.protocols.plugin import get_protocol
from qcompile.results import RunResult
from qcompile.run.runner import Progress

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
    plugin = get_protocol(protocol)
    built = plugin.from_mapping(parameters)
    return {
        "runner": getattr(plugin, "RUNNER", protocol),
        "protocol": protocol,
        "parameters": built.parameters(),
        "options": {"shots": shots, "seed": seed, **options},
        "compiler_revision": current_compiler_revision(),
    }


def execute(
    recipe: dict[str, Any],
    backend,
    *,
    solvers: Mapping[str, Callable] | None = None,
    store=None,
    run_id: str | None = None,
    sweep_point: tuple[str, int] | None = None,
    progress: Progress | None = None,
) -> RunResult:
    """Run ``recipe`` on ``backend`` through its protocol plugin's ``run``; ``store``,
    ``run_id``, ``sweep_point`` as in :func:`qcompile.run.runner.execute_run`.
    ``solvers`` optionally replaces reference solvers by name (keys of
    ``qcompile.backends.solvers.default_solvers()``); each runner defaults to its own.
    Compiles as the recipe's ``compiler_revision`` did (module docstring)."""
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
    plugin = get_protocol(recipe["protocol"])
    with compiler_revision(recipe.get("compiler_revision")):
        return plugin.run(protocol, backend, solvers=solvers, **common, **options)
