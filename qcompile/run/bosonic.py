"""Deprecated alias: the bosonic protocols declare their reference-backend data flow
(``qcompile.protocols.gkp`` and ``qcompile.protocols.cat``: ``reference``, ``simulate``) and
are run by qcompile's one runner (:mod:`qcompile.run.pipeline`) there, by their compiled
collision step on Aer (:mod:`qcompile.run.step_pipeline`). ``run_gkp`` and ``run_cat``
keep old scripts working."""

from __future__ import annotations

from collections.abc import Callable

from qcompile.deprecation import warn_deprecated
from qcompile.results import RunResult

__all__ = ["run_gkp", "run_cat"]

#: The solver keywords of the former runners, by their names in ``default_solvers()``.
SOLVERS = ("evolve", "evolve_states", "state_at", "slowest", "sector_slowest")


def _run(name: str, protocol, backend, options: dict) -> RunResult:
    from qcompile.protocols.plugin import get_protocol

    warn_deprecated(f"run_{name}", f"get_protocol({name!r}).run", stacklevel=4)
    solvers = {k: options.pop(k) for k in SOLVERS if options.get(k) is not None}
    for k in SOLVERS:
        options.pop(k, None)
    return get_protocol(name).run(protocol, backend, solvers=solvers, **options)


def run_gkp(protocol, backend=None, **options: Callable | object) -> RunResult:
    """``get_protocol("gkp").run(protocol, backend, ...)`` (deprecated); ``evolve`` and
    ``evolve_states`` replace those solvers."""
    return _run("gkp", protocol, backend, options)


def run_cat(protocol, backend=None, **options: Callable | object) -> RunResult:
    """``get_protocol("cat").run(protocol, backend, ...)`` (deprecated); ``state_at``,
    ``evolve``, ``slowest``, ``evolve_states`` and ``sector_slowest`` replace those solvers."""
    return _run("cat", protocol, backend, options)
