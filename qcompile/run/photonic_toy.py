"""Deprecated alias: the photonic-Ising toy model (spec 004 §6) declares its data flow
(``qcompile.protocols.photonic_ising.reference``) and is run by qcompile's one runner,
:mod:`qcompile.run.pipeline`. ``run_photonic_toy`` keeps old scripts working."""

from __future__ import annotations

from collections.abc import Callable

from qcompile.deprecation import warn_deprecated
from qcompile.results import RunResult

__all__ = ["run_photonic_toy"]


def run_photonic_toy(
    protocol, backend=None, *, solver: Callable | None = None, **options
) -> RunResult:
    """``get_protocol("photonic-ising-toy").run(protocol, backend, ...)`` (deprecated);
    ``solver`` replaces the ``state_at`` reference solver."""
    from qcompile.protocols.plugin import get_protocol

    warn_deprecated("run_photonic_toy", "get_protocol('photonic-ising-toy').run")
    solvers = {"state_at": solver} if solver is not None else None
    return get_protocol("photonic-ising-toy").run(protocol, backend, solvers=solvers, **options)
