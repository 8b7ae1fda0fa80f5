r"""Non-Markovian reference: QuTiP 5's HEOM solver for a system in an Ohmic bath at T = 0.

Spec 001 §10–§11: J(ω) = 2πα ω e^{−ω/ω_c} coupled through Q; QuTiP's convention
C(t) = (1/π)∫J(ω)e^{−iωt}dω means ``OhmicEnvironment(T=0, alpha=2π·α, wc=ω_c, s=1)``. The
correlation function is fitted by ``prony`` with ``exponents`` real terms (12 exponents for
Nr = 6, max relative error 1.8e-3 at α = 0.05, ω_c = 10) on [0, ``fit_window``]; the
hierarchy is cut at ``depth``. Both are reported with the result, with the fit's error.

The dynamical map is built from the d² matrix units |i⟩⟨j| (linearity), so one HEOM run per
unit serves every initial state. The hierarchy's memory is estimated first and a request
that would not fit is refused with the estimate.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from qcompile.errors import InvalidParameter, ResourceLimit
from qcompile.resources import available_memory

__all__ = [
    "HEOMSettings",
    "available_memory",
    "check_heom_memory",
    "heom_memory_estimate",
    "heom_propagators",
]

BYTES_PER_NONZERO = 24  # complex128 value + index, CSR


@dataclass(frozen=True)
class HEOMSettings:
    """Convergence parameters of the HEOM reference."""

    depth: int = 3
    exponents: int = 6
    fit_window: float = 15.0
    fit_points: int = 1500
    nsteps: int = 50_000

    def __post_init__(self) -> None:
        if isinstance(self.depth, bool) or int(self.depth) != self.depth or self.depth < 1:
            raise InvalidParameter("heom_depth", self.depth, "an integer >= 1")
        if int(self.exponents) != self.exponents or not 1 <= self.exponents <= 20:
            raise InvalidParameter("heom_exponents", self.exponents, "an integer 1..20 (Nr)")
        if not self.fit_window > 0:
            raise InvalidParameter("heom_fit_window", self.fit_window, "> 0")


def heom_memory_estimate(dimension: int, terms: int, depth: int) -> dict[str, float]:
    """ADO count C(K + depth, depth) and the bytes of the sparse HEOM generator: each ADO
    carries its d⁴ Liouvillian block and 2K coupling blocks of ~2d³ entries."""
    ados = math.comb(terms + depth, depth)
    d = dimension
    nonzeros = ados * (d**4 + 2 * terms * 2 * d**3)
    return {"ados": ados, "bytes": float(nonzeros * BYTES_PER_NONZERO + ados * d * d * 16 * 12)}


def check_heom_memory(
    settings: HEOMSettings, dimension: int, memory_limit: float | None = None
) -> dict[str, float]:
    """The memory estimate of a HEOM run; a :class:`ResourceLimit` (with the estimate) if it
    exceeds ``memory_limit`` (default: half the machine's memory)."""
    terms = 2 * settings.exponents  # prony with Nr real terms gives 2·Nr exponents
    estimate = heom_memory_estimate(dimension, terms, settings.depth)
    limit = memory_limit if memory_limit is not None else 0.5 * available_memory()
    if estimate["bytes"] > limit:
        raise ResourceLimit(
            f"HEOM at depth {settings.depth} with {terms} exponents needs {estimate['ados']:.3g} "
            f"auxiliary density operators, ~{estimate['bytes'] / 2**30:.3g} GiB estimated; "
            f"{limit / 2**30:.1f} GiB is available: lower --heom-depth or --heom-exponents"
        )
    return estimate


@dataclass
class HEOMResult:
    """Superoperators S(t) (vec stacking columns) and what the reference was computed with."""

    propagators: np.ndarray
    info: dict = field(default_factory=dict)


def heom_propagators(
    hamiltonian: np.ndarray,
    coupling: np.ndarray,
    times: Sequence[float],
    *,
    alpha: float,
    omega_c: float,
    settings: HEOMSettings = HEOMSettings(),
    dims: Sequence[int] | None = None,
    progress: Callable[[int, int], None] | None = None,
    memory_limit: float | None = None,
) -> HEOMResult:
    """The HEOM dynamical map of H + Q ⊗ bath (Ohmic, T = 0) at ``times`` (start at 0)."""
    import qutip
    from qutip.core.environment import OhmicEnvironment
    from qutip.solver.heom import HEOMSolver

    if not alpha >= 0:
        raise InvalidParameter("alpha", alpha, "alpha >= 0")
    if not (omega_c > 0 and math.isfinite(omega_c)):
        raise InvalidParameter("omega_c", omega_c, "a finite omega_c > 0 for the HEOM reference")
    d = hamiltonian.shape[0]
    dims = list(dims) if dims is not None else [d]
    times = np.asarray(times, dtype=float)
    if alpha == 0:  # no bath: the map is the unitary one (a fit of C(t) = 0 is degenerate)
        import scipy.linalg as sla

        supers = []
        for t in times:
            u = sla.expm(-1j * hamiltonian * t)
            supers.append(np.kron(u.conj(), u))  # vec(UρU†) = (Ū ⊗ U) vec ρ, columns stacked
        return HEOMResult(np.array(supers), {"solver": "unitary (alpha = 0: no bath)"})
    estimate = check_heom_memory(settings, d, memory_limit)
    environment = OhmicEnvironment(T=0.0, alpha=2 * math.pi * alpha, wc=omega_c, s=1)
    fit_times = np.linspace(0, settings.fit_window, settings.fit_points)
    approx, _ = environment.approximate("prony", fit_times, Nr=settings.exponents)
    exact = environment.correlation_function(fit_times)
    fit_error = float(np.abs(approx.correlation_function(fit_times) - exact).max() / abs(exact[0]))
    h = qutip.Qobj(hamiltonian, dims=[dims, dims])
    q = qutip.Qobj(coupling, dims=[dims, dims])
    solver = HEOMSolver(
        h, (approx, q), max_depth=settings.depth,
        options={"nsteps": settings.nsteps, "progress_bar": False, "store_ados": False},
    )  # fmt: skip
    propagators = np.zeros((len(times), d * d, d * d), dtype=complex)
    for j in range(d):
        for i in range(d):
            unit = np.zeros((d, d), dtype=complex)
            unit[i, j] = 1.0
            states = solver.run(qutip.Qobj(unit, dims=[dims, dims]), times).states
            column = i + d * j  # column-stacking index of |i><j|
            for n, state in enumerate(states):
                propagators[n, :, column] = state.full().reshape(-1, order="F")
            if progress is not None:
                progress(i + d * j + 1, d * d)
    info = {
        "solver": "qutip HEOMSolver",
        "depth": settings.depth,
        "exponents": len(approx.exponents),
        "fit": "prony",
        "fit_window": settings.fit_window,
        "fit_max_relative_error": fit_error,
        "ados": estimate["ados"],
        "memory_estimate_bytes": estimate["bytes"],
    }
    return HEOMResult(propagators, info)
