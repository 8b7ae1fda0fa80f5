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
import sys
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
from qiskit.circuit import QuantumCircuit

from qcompile.errors import InvalidParameter
from qcompile.lowering.oscillator import FockBinary
from qcompile.lowering.oscillator_collision import cat_collisions, default_step
from qcompile.lowering.oscillator_collision import lower_step as lowered_step_circuit
from qcompile.model import OpenSystem
from qcompile.protocols.oscillator_step_flow import cat_estimate_step, cat_lower_step
from qcompile.protocols.parameters import STEPS_ON_DEVICE_OPTION, Parameter, circuit_only
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
    STEPS_ON_DEVICE_OPTION,
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
        return lowered_step_circuit(collisions, dt)[0]

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


# -- data flow on the reference backend (qcompile's one runner, qcompile.run.pipeline) ---------
def reference(protocol: Cat) -> dict:
    """The analytic values (spec 004 §2): ⟨n⟩ = 2N tanh 2N and ⟨a²⟩ = −2iλ/κ₂ of the steady
    cat from vacuum (|α|² = 2N), the parity decay rate 2κ₁|α|²."""
    two_n = 2 * protocol.photons
    return {
        "n": two_n * math.tanh(two_n), "a2": [0.0, -two_n * 1.0],
        "alpha_squared_modulus": two_n, "bit_flip_rate": 2 * protocol.kappa1 * two_n,
        "note": "<a^2> = -2i lambda/kappa2 (|alpha|^2 = 2N, spec 004 §2); parity decays "
        "at 2 kappa1 |alpha|^2 (observables: the parity-sector Liouvillian eigenvalue, "
        "loss and dephasing); phase flips: slowest non-zero Liouvillian eigenvalue "
        "without loss",
    }  # fmt: skip


def simulate(protocol: Cat, solvers: Mapping, report) -> dict:
    """The Lindbladian at the cutoff: the steady amplitude from vacuum after 30/κ₂ of the
    error-free dynamics (``solvers["state_at"]``), the bit-flip (parity) rate — the non-zero
    eigenvalue of the parity-even sector with loss and dephasing (``sector_slowest``; spec
    004 §2 correction: not a straight-line fit of log⟨Q⟩) — and the phase-flip rate, the
    slowest non-zero eigenvalue without loss (``slowest``)."""
    stages = "cat: steady state, parity mode, Liouvillian gap"
    report(stages, 0, 3)
    obs = protocol.observables()
    error_free = protocol.open_system(protocol.vacuum(), loss=False, dephasing=False)
    rho = solvers["state_at"](error_free, 30.0 / protocol.kappa2)
    a2 = complex(np.trace(obs["a2"] @ rho))
    report(stages, 1, 3)
    bit_flip = phase_flip = None
    if protocol.kappa1 > 0:  # the parity mode: the even sector's non-zero eigenvalue
        values = solvers["sector_slowest"](protocol.open_system(), protocol.parity().diagonal(),
                                           1, 2)  # fmt: skip
        bit_flip = float(-values[1].real)
    report(stages, 2, 3)
    if protocol.kappa_d > 0:
        phase_flip = float(-solvers["slowest"](protocol.open_system(loss=False), 4)[2].real)
    report(stages, 3, 3)
    return {
        "n": float(np.real(np.trace(obs["n"] @ rho))), "a2": [a2.real, a2.imag],
        "bit_flip_rate": bit_flip, "phase_flip_rate": phase_flip,
    }  # fmt: skip


# -- data flow on a circuit backend: the one runner's step path (qcompile.run.step_pipeline) ---
#: The compiled Fock-binary step: its channel's parity-sector rates, shots of a few steps.
lower_step = cat_lower_step
estimate_step = cat_estimate_step


def run(protocol: Cat, backend, *, solvers: Mapping | None = None, **options):
    """This protocol's run (plugin interface, :mod:`qcompile.protocols.plugin`): qcompile's
    one runner — on the reference backend over :func:`reference` and :func:`simulate`, on
    ``aer`` / ``aer:<fake>`` over the compiled Fock-binary step (its step path: ``dt``,
    ``horizon``, ``steps_on_device``, ``zne``)."""
    from qcompile.run.pipeline import run_declared
    from qcompile.run.step_pipeline import reference_options, run_steps, runs_steps

    module = sys.modules[__name__]
    if runs_steps(backend):
        return run_steps(module, protocol, backend, solvers=solvers, **options)
    return run_declared(module, protocol, backend, solvers=solvers, **reference_options(options))


def check(protocol: Cat, backend, **options) -> None:
    """Refuse what :func:`run` would refuse before any work, running nothing (plugin
    interface: ``qcompile sweep`` checks its points with it)."""
    from qcompile.run.pipeline import check_declared
    from qcompile.run.step_pipeline import check_steps, reference_options, runs_steps

    module = sys.modules[__name__]
    if runs_steps(backend):
        check_steps(module, protocol, backend, **options)
        return
    check_declared(module, protocol, backend, **reference_options(options))


def check_options(protocols, backend, options: dict) -> dict:
    """The run's circuit options, refused on the reference backend (plugin interface)."""
    return circuit_only(backend, options, ("dt", "horizon", "shots", "zne", "steps_on_device"))


def render(results: list, console) -> None:
    """The run's table (plugin interface): :mod:`qcompile.protocols.rendering.bosonic`."""
    from qcompile.protocols.rendering.bosonic import render_cat

    render_cat(results, console)
