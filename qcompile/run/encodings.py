"""Deprecated alias: the two-qubit encodings of spec 001 declare their data flow
(:mod:`qcompile.protocols.encoding_flow`: reference maps, the encoded circuits, the figures of
merit from states) and are run by qcompile's one runner on its states path
(:mod:`qcompile.run.state_pipeline`). ``run_encodings`` keeps old scripts working."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from qcompile.deprecation import warn_deprecated
from qcompile.protocols.dissipative_qubits import rank_encodings
from qcompile.protocols.encoding_flow import DEFAULT_COLLISIONS
from qcompile.results import RunResult

__all__ = ["run_encodings", "rank_encodings", "DEFAULT_COLLISIONS"]


def run_encodings(
    protocol, backend, propagators: Callable[..., Any] | None = None, **options: Any
) -> RunResult:
    """``get_protocol("dissipative-qubits").run(protocol, backend, ...)`` (deprecated);
    ``propagators`` replaces the reference maps' solver, ``options`` as before (``solver``,
    ``heom``, ``collisions``, ``device_every``, ``shots``, ``seed``, ``store``, ...)."""
    from qcompile.protocols.plugin import get_protocol

    warn_deprecated("run_encodings", "get_protocol('dissipative-qubits').run")
    solvers = {} if propagators is None else {"propagators": propagators}
    return get_protocol("dissipative-qubits").run(protocol, backend, solvers=solvers, **options)
