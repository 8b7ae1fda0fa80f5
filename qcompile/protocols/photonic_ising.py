r"""The photonic-Ising model of seed 004 (spec 004 §2, §4–§7): cats glued by parity dissipators.

* **Cat stabilisation** (eq. 4 as the spec corrects it): H = λ(a² + a†²), L₂ = √κ₂ a²; the
  dark state |α⟩ has α² = −2iλ/κ₂, so |α|² = 2N with N = λ/κ₂ (the paper's |α|² = N is off by
  the factor 2 the spec derives) and α = e^{−iπ/4}√(2N).
* **Idealised mapping** (§5): with b = aV on the cat manifold every cavity is a two-level
  system and the lattice is the dissipative Ising memory with bit-flip rate |α|²κ₁ = 2Nκ₁ and
  correction rate |α|²κ_nn = 2Nκ_nn (β = ln((κ_nn + κ₁)/κ₁)/8, independent of N).
* **Toy model** (§6): one cavity and a spin, h = λ(a² + a†²), l₂ = √κ₂ a², l₁ = √κ₁ X a,
  l_d = √κ_d a†a, l_nn = √κ_nn ½X(1 − Z)a; logical |↓⟩|C±⟩. Protocol (spec §9.3, "ours"):
  evolve with the full Lindbladian for T, decode with the recovery part {h, l₂, l_nn} for
  T_dec, report the fidelity of each logical state and the strong symmetry ⟨QZ⟩ (= 1).
* **Mean field** (§7, "ours"): single-site mean field of the Ising rates,
  ṁ = −(1+m)R₊(m) + (1−m)R₋(m), R_z = Δ + 4κ̃q³(1−q) + κq⁴, q = (1 − zm)/2: the order
  parameter ⟨Q⟩ = m* of the idealised lattice, critical Δ/κ = 0.26608 (β_MF = 0.195, far from
  the exact 0.0303). The paper's own mean-field equations (its Fig. 3) are not available.

Subsystem order: the spin (|↓⟩ = |0⟩, Z|↓⟩ = +|↓⟩), then the cavity truncated at ``cutoff``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np

from qcompile.errors import InvalidParameter
from qcompile.model import OpenSystem
from qcompile.protocols.ising_memory import (
    BETA_C,
    flip_rates,
    inverse_temperature,
    kappa_tilde,
)
from qcompile.protocols.parameters import Parameter
from qcompile.resources import check_evolution_time
from qcompile.states.oscillator_basis import check_cutoff

__all__ = [
    "PhotonicIsingToy",
    "photonic_ising_toy",
    "cat_amplitude",
    "idealized_ising_rates",
    "mean_field_magnetization",
    "MEAN_FIELD_CRITICAL_DELTA",
    "cat_order_parameter",
    "order_parameters",
]

NAME = "photonic-ising-toy"
RUNNER = "toy"
SUMMARY = "one cat cavity and a spin: parity-correcting dissipator, leakage (spec 004 §6)"
#: ``qcompile run photonic-ising-toy``: its help; the master equation only, no backend.
RUN_HELP = "Photonic-Ising toy model (spec 004 §6): one cat cavity and a spin."
CLI_OPTIONS: tuple[str, ...] = ()
PARAMETERS = (
    Parameter("photons", "float", 1.0, "N = lambda/kappa2 > 0 (|alpha|^2 = 2N)"),
    Parameter("kappa2", "float", 1.0, "kappa2 > 0; two-photon loss"),
    Parameter("kappa1", "float", 0.02, "kappa1 >= 0; single-photon loss (with a spin flip)"),
    Parameter("kappa_d", "float", 0.02, "kappa_d >= 0; dephasing"),
    Parameter("kappa_nn", "float", 1.0, "kappa_nn >= 0; parity-correcting dissipator"),
    Parameter("time", "float", 20.0, "time > 0; memory time"),
    Parameter("decode_time", "float", 20.0, "decode_time > 0; recovery evolution"),
    Parameter("cutoff", "int", 20, "Fock cutoff >= 2|alpha|^2 + 8"),
)
MEAN_FIELD_CRITICAL_DELTA = 0.26608


def cat_amplitude(photons: float) -> complex:
    """α = e^{−iπ/4}√(2N): the dark state of H = λ(a² + a†²), L₂ = √κ₂a² (α² = −2iλ/κ₂)."""
    return complex(np.exp(-1j * np.pi / 4) * math.sqrt(2 * photons))


def idealized_ising_rates(photons: float, kappa1: float, kappa_nn: float) -> dict[str, float]:
    """Rates of the idealised lattice (spec §5 with the factor 2): Δ = 2Nκ₁, κ = 2Nκ_nn."""
    delta, kappa = 2 * photons * kappa1, 2 * photons * kappa_nn
    return {"delta": delta, "kappa": kappa, "beta": inverse_temperature(delta, kappa)}


def _mean_field_drift(m: float, delta: float, kappa: float) -> float:
    kt = kappa_tilde(delta, kappa)

    def rate(z: int) -> float:
        q = (1 - z * m) / 2
        return delta + 4 * kt * q**3 * (1 - q) + kappa * q**4

    return -(1 + m) * rate(+1) + (1 - m) * rate(-1)


def mean_field_magnetization(delta: float, kappa: float = 1.0) -> float:
    """The stable single-site mean-field m* ≥ 0 of the Ising rates (0 above the MF transition)."""
    from scipy.optimize import brentq

    grid = np.linspace(1e-3, 1.0, 2000)
    values = [_mean_field_drift(m, delta, kappa) for m in grid]
    roots = [
        brentq(_mean_field_drift, grid[i], grid[i + 1], args=(delta, kappa))
        for i in range(len(grid) - 1)
        if values[i] * values[i + 1] < 0
    ]
    return float(roots[-1]) if roots else 0.0


@dataclass(frozen=True)
class PhotonicIsingToy:
    """Validated parameters of the single-cavity + spin toy model."""

    photons: float = 1.0
    kappa2: float = 1.0
    kappa1: float = 0.02
    kappa_d: float = 0.02
    kappa_nn: float = 1.0
    time: float = 20.0
    decode_time: float = 20.0
    cutoff: int = 20
    name: str = NAME

    def parameters(self) -> dict:
        return {k: getattr(self, k) for k in (p.name for p in PARAMETERS)}

    def _operators(self):
        d = self.cutoff
        a = np.diag(np.sqrt(np.arange(1, d)), 1).astype(complex)
        eye_c, eye_s = np.eye(d), np.eye(2)
        x = np.array([[0, 1], [1, 0]], dtype=complex)
        z = np.diag([1.0, -1.0]).astype(complex)
        big_a = np.kron(eye_s, a)
        return big_a, np.kron(x, eye_c), np.kron(z, eye_c), eye_c

    def _cats(self) -> tuple[np.ndarray, np.ndarray]:
        from scipy.special import gammaln

        alpha = cat_amplitude(self.photons)
        n = np.arange(self.cutoff)
        coherent = np.exp(-(abs(alpha) ** 2) / 2 + n * np.log(alpha + 0j) - 0.5 * gammaln(n + 1))
        coherent[0] = math.exp(-(abs(alpha) ** 2) / 2)
        even = coherent * (1 + (-1) ** n)
        odd = coherent * (1 - (-1) ** n)
        return even / np.linalg.norm(even), odd / np.linalg.norm(odd)

    def logical_states(self) -> dict[str, np.ndarray]:
        """|0_L⟩ = |↓⟩|C₊⟩, |1_L⟩ = |↓⟩|C₋⟩ and |±_L⟩."""
        even, odd = self._cats()
        down = np.array([1.0, 0.0])
        zero, one = np.kron(down, even), np.kron(down, odd)
        return {
            "0_L": zero,
            "1_L": one,
            "+_L": (zero + one) / math.sqrt(2),
            "-_L": (zero - one) / math.sqrt(2),
        }

    def open_system(self, *, recovery: bool = False, initial=None) -> OpenSystem:
        """The full Lindbladian, or (``recovery``) its recovery part {h, l₂, l_nn}."""
        a, x, z, _ = self._operators()
        lam = self.photons * self.kappa2
        h = lam * (a @ a + a.conj().T @ a.conj().T)
        l2 = math.sqrt(self.kappa2) * a @ a
        lnn = math.sqrt(self.kappa_nn) * 0.5 * x @ (np.eye(len(z)) - z) @ a
        jumps = [l2] + ([lnn] if self.kappa_nn > 0 else [])
        if not recovery:
            jumps += [math.sqrt(self.kappa1) * x @ a, math.sqrt(self.kappa_d) * a.conj().T @ a]
        rho = None if initial is None else (
            np.outer(initial, initial.conj()) if initial.ndim == 1 else initial
        )  # fmt: skip
        return OpenSystem(
            dims=(2, self.cutoff),
            hamiltonian=h,
            jump_operators=tuple(j for j in jumps if np.any(j)),
            initial_state=rho,
            labels=("spin", "cavity"),
        )

    def symmetry(self) -> np.ndarray:
        """QZ: cavity parity times the spin's Z — a strong symmetry (l₁, l_nn flip both)."""
        parity = np.diag((-1.0) ** np.arange(self.cutoff))
        return np.kron(np.diag([1.0, -1.0]), parity)

    def fidelities(self, solver: Callable) -> dict[str, dict[str, float]]:
        """Evolve every logical state for ``time``, decode for ``decode_time``; fidelity to
        the initial state, ⟨QZ⟩ after the memory time and the trace (truncation check).
        ``solver(system, t)`` returns ρ(t) (``qcompile.backends.reference.lindblad_state_at``)."""
        out = {}
        for name, psi in self.logical_states().items():
            rho = solver(self.open_system(initial=psi), self.time)
            decoded = solver(self.open_system(recovery=True, initial=rho), self.decode_time)
            out[name] = {
                "fidelity": float(np.real(psi.conj() @ decoded @ psi)),
                "symmetry": float(np.real(np.trace(self.symmetry() @ rho))),
                "trace": float(np.real(np.trace(rho))),
            }
        return out


def _nonnegative(name: str, value, positive: bool = False) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise InvalidParameter(name, value, "a number") from None
    if not math.isfinite(number) or number < 0 or (positive and number == 0):
        raise InvalidParameter(name, value, f"{name} {'>' if positive else '>='} 0")
    return number


def photonic_ising_toy(
    *,
    photons: float = 1.0,
    kappa2: float = 1.0,
    kappa1: float = 0.02,
    kappa_d: float = 0.02,
    kappa_nn: float = 1.0,
    time: float = 20.0,
    decode_time: float = 20.0,
    cutoff: int = 20,
) -> PhotonicIsingToy:
    """Validate and build the toy model; the cutoff must hold the cat (2|α|² + 8 levels)."""
    photons = _nonnegative("photons", photons, positive=True)
    kappa2 = _nonnegative("kappa2", kappa2, positive=True)
    kappa1 = _nonnegative("kappa1", kappa1)
    kappa_d = _nonnegative("kappa_d", kappa_d)
    kappa_nn = _nonnegative("kappa_nn", kappa_nn)
    time = _nonnegative("time", time, positive=True)
    decode_time = _nonnegative("decode_time", decode_time, positive=True)
    cutoff = check_cutoff(cutoff, photons, levels_per_photon=4, margin=8)  # 2|alpha|^2 + 8
    fastest = max(kappa2, kappa1, kappa_d, kappa_nn) * max(1.0, 2 * photons)  # rates × |alpha|²
    for name, value in (("time", time), ("decode_time", decode_time)):
        check_evolution_time(name, value, fastest, f"--{name.replace('_', '-')} or the rates")
    return PhotonicIsingToy(photons, kappa2, kappa1, kappa_d, kappa_nn, time, decode_time,
                            cutoff)  # fmt: skip


def cat_order_parameter(
    photons: float,
    kappa1: float,
    kappa_d: float,
    solver: Callable,
    *,
    kappa2: float = 1.0,
    cutoff: int | None = None,
    time: float = 60.0,
) -> complex:
    """⟨a²⟩ of one cavity (H = λ(a² + a†²), L₂ = √κ₂a², L₁ = √κ₁a, L_d = √κ_d a†a) after
    ``time`` from vacuum — the cat order parameter (−2iλ/κ₂ without errors). ``solver(system,
    t)`` returns ρ(t) (``qcompile.backends.reference.lindblad_state_at``)."""
    d = cutoff or math.ceil(4 * photons + 16)
    a = np.diag(np.sqrt(np.arange(1, d)), 1).astype(complex)
    jumps = [math.sqrt(kappa2) * a @ a]
    if kappa1 > 0:
        jumps.append(math.sqrt(kappa1) * a)
    if kappa_d > 0:
        jumps.append(math.sqrt(kappa_d) * a.conj().T @ a)
    vacuum = np.zeros((d, d), dtype=complex)
    vacuum[0, 0] = 1
    system = OpenSystem(
        dims=(d,), hamiltonian=photons * kappa2 * (a @ a + a.conj().T @ a.conj().T),
        jump_operators=tuple(jumps), initial_state=vacuum,
    )  # fmt: skip
    rho = solver(system, time)
    return complex(np.trace(a @ a @ rho))


def order_parameters(
    photons: float, kappa1_values, kappa_nn: float, solver: Callable
) -> list[dict[str, float]]:
    """A sketch of Fig. 3 along κ_d = κ₁ (units of κ₂): the cat order parameter
    |⟨a²⟩|/(2N) of one cavity and the mean-field Ising order parameter ⟨Q⟩ of the idealised
    lattice (Δ = 2Nκ₁, κ = 2Nκ_nn). Both are the spec's stand-ins ("ours"): the paper's
    mean-field equations are not available."""
    rows = []
    for kappa1 in kappa1_values:
        a2 = cat_order_parameter(photons, kappa1, kappa1, solver)
        lattice = idealized_ising_rates(photons, kappa1, kappa_nn) if kappa1 > 0 else None
        q = 1.0 if lattice is None else mean_field_magnetization(lattice["delta"], lattice["kappa"])
        rows.append({"kappa1": float(kappa1), "cat": abs(a2) / (2 * photons), "parity": q})
    return rows


def from_mapping(values: Mapping[str, object]) -> PhotonicIsingToy:
    return photonic_ising_toy(**dict(values))


def ising_rates_of(photons: float, kappa1: float, kappa_nn: float):
    """Flip rates w(n) of the idealised lattice (for the trajectory simulator)."""
    rates = idealized_ising_rates(photons, kappa1, kappa_nn)
    return flip_rates(rates["delta"], rates["kappa"])


def reference(protocol: PhotonicIsingToy, solvers: Mapping[str, Callable]) -> dict:
    """The run's values (plugin interface: a protocol with no circuits, run by
    :mod:`qcompile.run.pipeline`): fidelities of |0_L⟩, |1_L⟩, |±_L⟩ after ``time`` and
    ``decode_time``, ⟨QZ⟩ and the trace, the cat amplitude, and the idealised lattice it maps
    to (§5, §7) with its phase; ``solvers["state_at"]`` evolves the master equation."""
    states = protocol.fidelities(solvers["state_at"])
    lattice = idealized_ising_rates(protocol.photons, protocol.kappa1, protocol.kappa_nn)
    if protocol.kappa1 > 0 and protocol.kappa_nn > 0:
        lattice["phase"] = "ordered" if lattice["beta"] > BETA_C else "disordered"
        lattice["mean_field_magnetization"] = mean_field_magnetization(
            lattice["delta"], lattice["kappa"]
        )
    alpha = cat_amplitude(protocol.photons)
    return {
        "fidelity": {k: v["fidelity"] for k, v in states.items()},
        "symmetry_QZ": {k: v["symmetry"] for k, v in states.items()},
        "trace": {k: v["trace"] for k, v in states.items()},
        "alpha": [alpha.real, alpha.imag],
        "alpha_squared_modulus": abs(alpha) ** 2,
        "idealized_lattice": lattice,
    }


def render(results: list, console) -> None:
    """The run's table (plugin interface): :mod:`qcompile.protocols.rendering.ising_memory`."""
    from qcompile.protocols.rendering.ising_memory import render_toy

    render_toy(results, console)
