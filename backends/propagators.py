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

from qcompile.backends.heom import HEOMSettings, heom_propagators
from qcompile.backends.reference import lindblad_propagators
from qcompile.errors import InvalidParameter

__all__ = ["SOLVERS", "reference_propagators"]

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
