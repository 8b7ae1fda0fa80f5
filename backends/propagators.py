"""Dynamical maps of a protocol's open system: Lindblad (QuTiP ``propagator``) or HEOM.

``reference_propagators(protocol, times, solver=...)`` returns the superoperators S(t)
(vec ρ(t) = S(t) vec ρ(0), columns stacked) and what they were computed with. The protocol
provides its Markovian model (``open_system()``) and, for HEOM, its system Hamiltonian,
coupling operator and Ohmic bath (``hamiltonian()``, ``coupling()``, ``alpha``,
``omega_c``).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import numpy as np

from qcompile.backends.heom import HEOMSettings, check_heom_memory, heom_propagators
from qcompile.backends.reference import lindblad_propagators
from qcompile.errors import InvalidParameter

__all__ = ["SOLVERS", "check_propagator_options", "reference_propagators"]

SOLVERS = ("lindblad", "heom")


def reference_propagators(
    protocol,
    times: Sequence[float],
    *,
    solver: str = "lindblad",
    heom: HEOMSettings | dict | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> tuple[np.ndarray, dict]:
    """S(t) at ``times`` and a description of the solver and its convergence parameters."""
    if solver == "lindblad":
        supers = lindblad_propagators(protocol.open_system(), times)
        if progress is not None:
            progress(1, 1)
        return supers, {"solver": "lindblad (Davies, QuTiP propagator)", "rates": protocol.rates()}
    if solver == "heom":
        if math.isinf(protocol.omega_c):
            raise InvalidParameter(
                "omega_c", "inf", "a finite cutoff omega_c > 0 with --solver heom (e.g. 10)"
            )
        if protocol.cutoff != "exponential":
            raise InvalidParameter("cutoff", protocol.cutoff, "exponential with --solver heom")
        result = heom_propagators(
            protocol.hamiltonian(),
            protocol.coupling(),
            times,
            alpha=protocol.alpha,
            omega_c=protocol.omega_c,
            settings=HEOMSettings(**heom) if isinstance(heom, dict) else heom or HEOMSettings(),
            dims=[2, 2],
            progress=progress,
        )
        return result.propagators, result.info
    raise InvalidParameter("solver", solver, "one of " + ", ".join(SOLVERS))


def check_propagator_options(protocol, solver: str, heom: dict | None) -> dict | None:
    """The reference solver and its HEOM settings (``depth``, ``exponents``, ``fit_window``,
    ...; defaults where not given), checked before anything runs: a solver qcompile has, HEOM
    settings only for HEOM, a finite bath cutoff and a hierarchy that fits in memory. Returns
    the HEOM settings as a mapping (``None`` for another solver)."""
    if solver not in SOLVERS:
        raise InvalidParameter("solver", solver, "one of " + ", ".join(SOLVERS))
    if solver != "heom":
        for name, value in (heom or {}).items():  # never ignored silently
            raise InvalidParameter(f"heom_{name}", value, "only with --solver heom")
        return None
    known = HEOMSettings.__dataclass_fields__
    for name, value in (heom or {}).items():
        if name not in known:
            raise InvalidParameter(f"heom_{name}", value, "a HEOM setting: " + ", ".join(known))
    settings = HEOMSettings(**(heom or {}))
    check_heom_memory(settings, 4)
    if not math.isfinite(protocol.omega_c):
        raise InvalidParameter("omega_c", protocol.omega_c, "a finite cutoff with --solver heom")
    return settings.__dict__.copy()
