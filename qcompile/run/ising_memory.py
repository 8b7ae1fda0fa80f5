"""Deprecated alias: the dissipative Ising memory (spec 004 §3) declares its data flow
(``qcompile.protocols.ising_memory``: ``reference``, ``simulate``, ``lower``, ``estimate``,
the Estimator's observables) and is run by qcompile's one runner, :mod:`qcompile.run.pipeline`
(its mitigation: :mod:`qcompile.run.mitigated_execution`). ``run_ising_memory`` keeps old
scripts working."""

from __future__ import annotations

from collections.abc import Callable

from qcompile.deprecation import warn_deprecated
from qcompile.protocols.ising_memory import EXACT_MAX_SIZE, exponential_fit
from qcompile.results import RunResult

__all__ = ["run_ising_memory", "exponential_fit", "EXACT_MAX_SIZE"]


def run_ising_memory(
    protocol, backend, *, simulate: Callable | None = None, exact: Callable | None = None,
    **options,
) -> RunResult:  # fmt: skip
    """``get_protocol("ising-memory").run(protocol, backend, ...)`` (deprecated);
    ``simulate`` replaces the ``kmc`` solver, ``exact`` the ``exact_memory`` one."""
    from qcompile.protocols.plugin import get_protocol

    warn_deprecated("run_ising_memory", "get_protocol('ising-memory').run")
    given = {"kmc": simulate, "exact_memory": exact}
    solvers = {name: solver for name, solver in given.items() if solver is not None}
    return get_protocol("ising-memory").run(protocol, backend, solvers=solvers, **options)
