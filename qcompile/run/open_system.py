"""Deprecated alias: the open systems in time — ``lindblad`` (a user's model) and coherent
feedback (spec 002) — declare their data flow (:mod:`qcompile.protocols.open_system_flow`)
and are run by qcompile's one runner on its states path (:mod:`qcompile.run.state_pipeline`:
reference, lowered evolution, ideal states at checkpoints, tomography of circuit prefixes).
``run_open_system`` and ``run_dynamics`` keep old scripts working."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from qcompile.deprecation import warn_deprecated
from qcompile.protocols.coherent_feedback import DEFAULT_LOWERING  # the former dynamics runner's
from qcompile.protocols.open_system_flow import MAX_CIRCUIT_STEPS
from qcompile.results import RunResult

__all__ = ["run_open_system", "run_dynamics", "DEFAULT_LOWERING", "MAX_CIRCUIT_STEPS"]


def run_open_system(
    protocol,
    backend,
    reference_solver: Callable[..., Any] | None = None,
    *,
    lowering: dict | None = None,
    **options: Any,
) -> RunResult:
    """``get_protocol(protocol.name).run(protocol, backend, ...)`` (deprecated);
    ``reference_solver`` replaces the ``lindblad_reference`` solver, ``lowering`` the
    protocol's lowering options."""
    _deprecated("run_open_system")
    return _run(protocol, backend, reference_solver, lowering=lowering, **options)


def _deprecated(name: str) -> None:
    warn_deprecated(name, "get_protocol(protocol.name).run", stacklevel=4)


def _run(protocol, backend, reference_solver, **options: Any) -> RunResult:
    from qcompile.protocols.plugin import get_protocol

    solvers = {} if reference_solver is None else {"lindblad_reference": reference_solver}
    return get_protocol(protocol.name).run(protocol, backend, solvers=solvers, **options)


def run_dynamics(
    protocol,
    backend,
    reference_solver: Callable[..., Any] | None = None,
    *,
    device_every: int = 5,
    **options: Any,
) -> RunResult:
    """:func:`run_open_system` under its former name (coherent feedback's runner), with its
    former default: tomography at every 5th sample time (deprecated)."""
    _deprecated("run_dynamics")
    return _run(protocol, backend, reference_solver, device_every=device_every, **options)
