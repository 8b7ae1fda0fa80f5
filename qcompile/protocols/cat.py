r"""The dissipative cat qubit (seed 004 §2, eq. 4) — spec 004 §2.

H = λ(a² + a†²), L₂ = √κ₂ a² (rotating frame) stabilise the cat manifold: the dark state |α⟩
has α² = −2iλ/κ₂, so |α|² = 2N with N = λ/κ₂ (the paper's |α|² = N is off by the factor 2
the spec derives; α = e^{−iπ/4}√(2N)). Errors: single-photon loss L₁ = √κ₁ a flips the
parity Q = e^{iπa†a} (logical bit flip; parity jump rate κ₁|α|² = 2Nκ₁, so ⟨Q⟩ decays at
2κ₁|α|²), dephasing L_d = √κ_d a†a is passively corrected (phase flips exponentially
suppressed in N: the slowest non-zero Liouvillian eigenvalue).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
from qiskit.circuit import QuantumCircuit

from qcompile.errors import InvalidParameter
from qcompile.lowering.oscillator import FockBinary
from qcompile.lowering.oscillator_collision import cat_collisions, default_step, lower_step
from qcompile.model import OpenSystem
from qcompile.protocols.parameters import Parameter, circuit_only
from qcompile.protocols.photonic_ising import cat_amplitude
from qcompile.states.oscillator_basis import check_cutoff

__all__ = ["Cat", "cat", "NAME", "PARAMETERS"]

NAME = "cat"
RUNNER = "cat"
SUMMARY = "a cat qubit stabilised by two-photon drive and loss (spec 004 §2)"
#: ``qcompile run cat``: its help, default backend and backend options (qcompile.cli.generated).
RUN_HELP = (
    "Cat qubit (spec 004 §2): steady amplitude, bit-flip and phase-flip rates, from the "
    "Lindbladian or from the compiled Fock-binary collision step (--backend aer)."
)
DEFAULT_BACKEND = "reference"
CLI_OPTIONS = ("backend", "shots", "mitigate_readout", "plot")
#: Smallest two-photon loss rate (the steady state is reached after ~30/kappa2).
MIN_KAPPA2 = 1e-6
PARAMETERS = (
    Parameter("photons", "float", 1.0, "N = lambda/kappa2 > 0 (|alpha|^2 = 2N)"),
    Parameter("kappa2", "float", 1.0, "kappa2 >= 1e-6; two-photon loss"),
    Parameter("kappa1", "float", 0.01, "kappa1 >= 0; single-photon loss (bit flips)"),
    Parameter("kappa_d", "float", 0.1, "kappa_d >= 0; dephasing (phase flips)"),
    Parameter("cutoff", "int", 40, "Fock cutoff >= 4|alpha|^2 + 12"),
)

#: Options of this protocol's run (``qcompile sweep --option name=value``, recipes).
RUN_OPTIONS = (
    Parameter("dt", "float", None, "0 < dt, dt*max||L||^2 <= 0.2; compiled step (aer backends)"),
    Parameter("horizon", "float", None, "horizon > 0; time over which the rate is fitted"),
    Parameter("zne", "str", None, "odd scale factors from 1, e.g. 1,3,5; zero-noise "
              "extrapolation of the few-step device value (device-noise backends)"),
)  # fmt: skip


@dataclass(frozen=True)
class Cat:
    photons: float = 1.0
    kappa2: float = 1.0
    kappa1: float = 0.01
    kappa_d: float = 0.1
    cutoff: int = 40
    name: str = NAME

    def parameters(self) -> dict:
        return {p.name: getattr(self, p.name) for p in PARAMETERS}

    def circuit(self) -> QuantumCircuit:
        """One collision step in Fock-binary (⌈log₂ cutoff⌉ qubits and an ancilla) at the
        automatic dt (dt·max‖L‖² ≈ 0.2): what ``qcompile compile cat`` compiles."""
        fock = FockBinary(self.cutoff)
        dt, collisions = default_step(lambda t: cat_collisions(self, fock, t))
        return lower_step(collisions, dt)[0]

    @property
    def alpha(self) -> complex:
        return cat_amplitude(self.photons)

    def _a(self) -> np.ndarray:
        return np.diag(np.sqrt(np.arange(1, self.cutoff)), 1).astype(complex)

    def hamiltonian(self) -> np.ndarray:
        a = self._a()
        return self.photons * self.kappa2 * (a @ a + a.conj().T @ a.conj().T)

    def jump_operators(self, *, loss: bool = True, dephasing: bool = True) -> list[np.ndarray]:
        a = self._a()
        ops = [math.sqrt(self.kappa2) * a @ a]
        if loss and self.kappa1 > 0:
            ops.append(math.sqrt(self.kappa1) * a)
        if dephasing and self.kappa_d > 0:
            ops.append(math.sqrt(self.kappa_d) * a.conj().T @ a)
        return ops

    def open_system(self, initial=None, *, loss=True, dephasing=True) -> OpenSystem:
        if initial is not None and np.ndim(initial) == 1:
            initial = np.outer(initial, np.conj(initial))
        return OpenSystem(
            dims=(self.cutoff,), hamiltonian=self.hamiltonian(),
            jump_operators=tuple(self.jump_operators(loss=loss, dephasing=dephasing)),
            initial_state=initial,
        )  # fmt: skip

    def parity(self) -> np.ndarray:
        return np.diag((-1.0) ** np.arange(self.cutoff)).astype(complex)

    def even_cat(self) -> np.ndarray:
        from scipy.special import gammaln

        n = np.arange(self.cutoff)
        alpha = self.alpha
        coherent = np.exp(n * np.log(alpha + 0j) - 0.5 * gammaln(n + 1))
        even = coherent * (1 + (-1) ** n)
        return even / np.linalg.norm(even)

    def vacuum(self) -> np.ndarray:
        v = np.zeros(self.cutoff, complex)
        v[0] = 1
        return v

    def observables(self) -> dict[str, np.ndarray]:
        a = self._a()
        return {"n": a.conj().T @ a, "a2": a @ a, "parity": self.parity()}


def cat(
    *,
    photons: float = 1.0,
    kappa2: float = 1.0,
    kappa1: float = 0.01,
    kappa_d: float = 0.1,
    cutoff: int = 40,
) -> Cat:
    """Validate and build the cat protocol."""
    checks = (
        ("photons", photons, True),
        ("kappa2", kappa2, True),
        ("kappa1", kappa1, False),
        ("kappa_d", kappa_d, False),
    )
    for name, value, positive in checks:
        ok = (
            isinstance(value, (int, float))
            and math.isfinite(value)
            and (value > 0 if positive else value >= 0)
        )
        if not ok:
            raise InvalidParameter(name, value, f"{name} {'>' if positive else '>='} 0")
    if kappa2 < MIN_KAPPA2:  # the error-free dynamics run for 30/kappa2: no solver gets there
        raise InvalidParameter("kappa2", kappa2, f"kappa2 >= {MIN_KAPPA2:g}")
    cutoff = check_cutoff(cutoff, photons, levels_per_photon=8, margin=12)
    return Cat(float(photons), float(kappa2), float(kappa1), float(kappa_d), cutoff)


def from_mapping(values: Mapping[str, object]) -> Cat:
    return cat(**dict(values))


def run(protocol: Cat, backend, *, solvers: Mapping | None = None, **options):
    """This protocol's run (plugin interface, :mod:`qcompile.protocols.plugin`):
    ``qcompile.run.bosonic.run_cat``;
    ``options`` are the runner's (shots, seed, store, ...)."""
    from qcompile.run.bosonic import run_cat

    given = dict(solvers or {})  # optional overrides of the default solvers
    return run_cat(
        protocol,
        backend,
        state_at=given.get("state_at"),
        evolve=given.get("evolve"),
        slowest=given.get("slowest"),
        evolve_states=given.get("evolve_states"),
        sector_slowest=given.get("sector_slowest"),
        **options,
    )


def check_options(protocols, backend, options: dict) -> dict:
    """The run's circuit options, refused on the reference backend (plugin interface)."""
    return circuit_only(backend, options, ("dt", "shots", "zne"))


def render(results: list, console) -> None:
    """The run's table (plugin interface): :mod:`qcompile.protocols.rendering.bosonic`."""
    from qcompile.protocols.rendering.bosonic import render_cat

    render_cat(results, console)
