r"""A GKP qubit protected by dissipation (seed 003, Sellem et al., arXiv:2304.03806) — spec 003.

Conventions (spec 003 §1, reconstructed): [q, p] = iκ (default κ = 1: q = (a + a†)/√2),
R_θ = e^{iθN}, rates in units of the dissipation rate Γ = 1.

* Dissipators (eqs. 4–10): L_θ = 𝒜 e^{iηq_θ}(1 − εηp_θ) − 1, q_θ = cos θ q + sin θ p, at
  θ_k = 2πk/n; square code n = 4, κη² = 4π; hexagonal n = 6, κη² sin(π/3) = 4π. The BCH
  prefactor 𝒜 is a parameter (default 1, spec §2); ``variant="exact"`` uses ref. [19]'s
  e^{−εN}(e^{iηq} − 1)e^{εN}.
* Generalised Paulis (22–24): Z = sgn cos(ηq/2), X = sgn cos(ηq_{θ_X}/2), Y = iXZ.
* Exact logical rates (Theorems 3 and 5): periodic observables close under the Lindbladian;
  the rates are eigenvalues of a Witten Laplacian on the 2-torus — for the square code the
  1-D operator 𝒦₁ = −a∂² + b sin 2x ∂ with a = 4π²𝒜²ε² + πκσ/2, b = 4πε𝒜 (quadrature noise σ);
  ν₁ is the logical rate. Asymptotics (Facts 4, 6): 16ε𝒜e^{−1/h_x}, h_x = πε𝒜 + κσ/(8ε𝒜)
  (square), 96ε𝒜e^{−4/h}, h = 2√3πε𝒜 + κσ/(4ε𝒜) (hexagonal).

Fock-space operators are built with ``margin`` extra levels and truncated (spec §6: building
e^{iηq} inside the truncated space converges worse). Truncated simulations carry a positive
bias that decays only algebraically (heavy energy tail, spec §3): the torus rate is the
ground truth.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
from qiskit.circuit import QuantumCircuit

from qcompile.errors import InvalidParameter
from qcompile.lowering.oscillator import PositionGrid
from qcompile.lowering.oscillator_collision import default_step, gkp_collisions
from qcompile.lowering.oscillator_collision import lower_step as lowered_step_circuit
from qcompile.protocols.gkp_code import (
    code_parameters,
    codewords,
    confining_epsilon,
    dissipators,
    energy_bound,
    function_of,
    function_of_q,
    pauli_operators,
)
from qcompile.protocols.gkp_torus import asymptotic_rate, torus_rates_hexagonal, torus_rates_square
from qcompile.protocols.oscillator_step_flow import gkp_estimate_step, gkp_lower_step
from qcompile.protocols.parameters import STEPS_ON_DEVICE_OPTION, Parameter, circuit_only
from qcompile.states.oscillator_basis import quadratures

__all__ = [
    "GKP",
    "gkp",
    "LATTICES",
    "NOISES",
    "code_parameters",
    "quadratures",
    "dissipators",
    "pauli_operators",
    "torus_rates_square",
    "torus_rates_hexagonal",
    "asymptotic_rate",
    "confining_epsilon",
    "codewords",
    "energy_bound",
    "energy_trajectory",
    "function_of_q",
    "logical_rate",
]

NAME = "gkp"
RUNNER = "gkp"
SUMMARY = "finite-energy GKP qubit stabilised by 4 or 6 rotated dissipators (spec 003)"
#: ``qcompile run gkp``: its help, default backend and backend options (qcompile.cli.generated).
RUN_HELP = (
    "GKP qubit protected by dissipation (spec 003): exact torus rate vs truncated Lindblad, or "
    "vs the compiled collision step on the position grid (--backend aer)."
)
DEFAULT_BACKEND = "reference"
CLI_OPTIONS = ("backend", "shots", "mitigate_readout", "plot")
LATTICES = ("square", "hexagonal")
NOISES = ("none", "quadrature", "loss", "detuning", "kerr", "dephasing")
#: Fock cutoffs: the default (raised to ceil(6/epsilon) for small epsilon) and the largest.
DEFAULT_CUTOFF = 60
MAX_CUTOFF = 400
#: Largest BCH prefactor A accepted (physically e^{-κη²ε/2} <= 1; the rates grow as A²).
MAX_PREFACTOR = 2.0
#: Largest horizon × fastest rate a run integrates (~12× the default run's work).
REFERENCE_RATE_TIMES = 720.0
PARAMETERS = (
    Parameter("lattice", "str", "square", "square | hexagonal"),
    Parameter("epsilon", "float", 0.1, "0 < epsilon < the confining bound (1/(2 pi) square)"),
    Parameter("noise", "str", "none", "none | quadrature | loss | detuning | kerr | dephasing"),
    Parameter("sigma", "float", 0.0, "sigma >= 0; noise strength (units of Gamma)", listable=True),
    Parameter(
        "cutoff",
        "int",
        None,
        "Fock cutoff n_f, ceil(6/epsilon) <= n_f <= 400; default max(60, ceil(6/epsilon))",
    ),  # fmt: skip
    Parameter("kappa", "int", 1, "1 or 2: [q, p] = i kappa"),
    Parameter("prefactor", "float", 1.0, "the BCH prefactor 0.5 < A <= 2 (spec 003 §2, default 1)"),
)


#: Options of this protocol's run (``qcompile sweep --option name=value``, recipes).
RUN_OPTIONS = (
    Parameter("grid_qubits", "int", None, "2..12; position-grid qubits (aer backends)"),
    Parameter("dt", "float", None, "0 < dt, dt*max||L||^2 <= 0.2; compiled step (aer backends)"),
    Parameter("horizon", "float", None, "horizon > 0; time over which the rate is fitted"),
    Parameter("zne", "str", None, "odd scale factors from 1, e.g. 1,3,5; zero-noise "
              "extrapolation of the few-step device value (device-noise backends)"),
    STEPS_ON_DEVICE_OPTION,
)  # fmt: skip


@dataclass(frozen=True)
class GKP:
    """Validated parameters of one GKP run."""

    lattice: str = "square"
    epsilon: float = 0.1
    noise: str = "none"
    sigma: float = 0.0
    cutoff: int = 60
    kappa: int = 1
    prefactor: float = 1.0
    name: str = NAME

    def parameters(self) -> dict:
        return {p.name: getattr(self, p.name) for p in PARAMETERS}

    def circuit(self, grid_qubits: int = 6) -> QuantumCircuit:
        """One collision step on a position grid of 2^``grid_qubits`` points at the automatic
        dt (dt·max‖L‖² ≈ 0.2): what ``qcompile compile gkp`` compiles."""
        grid = PositionGrid(grid_qubits, self.kappa)
        dt, collisions = default_step(lambda t: gkp_collisions(self, grid, t))
        return lowered_step_circuit(collisions, dt)[0]

    @property
    def eta(self) -> float:
        return code_parameters(self.lattice, self.kappa)["eta"]

    def torus_rate(self) -> float:
        """The exact logical rate (no truncation), quadrature noise included; other noises
        have no torus closure (``nan``)."""
        if self.noise not in ("none", "quadrature"):
            return math.nan
        sigma = self.sigma if self.noise == "quadrature" else 0.0
        kw = {"prefactor": self.prefactor, "kappa": self.kappa}
        if self.lattice == "square":
            return float(torus_rates_square(self.epsilon, sigma, **kw)[1])
        return float(torus_rates_hexagonal(self.epsilon, sigma, **kw)[1])

    def asymptotic_rate(self) -> float:
        if self.noise not in ("none", "quadrature"):
            return math.nan
        sigma = self.sigma if self.noise == "quadrature" else 0.0
        return asymptotic_rate(self.lattice, self.epsilon, sigma, prefactor=self.prefactor,
                               kappa=self.kappa)  # fmt: skip

    def check_evolution(self, horizon: float) -> None:
        """Refuse a Lindblad integration over ``horizon`` that would take hours: the explicit
        solver's steps follow the fastest rate, A² for the stabiliser and σ for the noise
        (σ·cutoff/10 where the noise grows as n²: Kerr, dephasing). The default run is 60
        rate-times (about a minute here); the limit is :data:`REFERENCE_RATE_TIMES`. A horizon
        must be finite and positive."""
        if (
            isinstance(horizon, bool)
            or not isinstance(horizon, (int, float))
            or not (math.isfinite(horizon) and horizon > 0)
        ):
            raise InvalidParameter("horizon", horizon, "a finite horizon > 0")
        growth = self.cutoff / 10 if self.noise in ("kerr", "dephasing") else 1.0
        rate = self.prefactor**2 + self.sigma * growth
        if horizon * rate > REFERENCE_RATE_TIMES:
            raise InvalidParameter(
                "sigma", self.sigma, f"horizon × (A² + σ·{growth:g}) <= {REFERENCE_RATE_TIMES:g} "
                f"({horizon:g} × {rate:.3g} asked: hours of integration; lower --sigma)"
            )  # fmt: skip

    def rate_reference(self) -> dict:
        """The exact (torus) and asymptotic logical rates, for a run's ``reference`` block;
        ``rate`` is the exact rate that ``observables.rate`` estimates (``None`` without a
        torus closure)."""
        torus, asym = self.torus_rate(), self.asymptotic_rate()
        exact = None if math.isnan(torus) else torus
        return {
            "torus_rate": exact, "rate": exact,
            "asymptotic_rate": None if math.isnan(asym) else asym,
            "units": "rate of the logical Z coordinate, units of the dissipation rate",
        }  # fmt: skip

    def energy_bound(self) -> dict[str, float]:
        """Theorem 1's α, β at the optimal δ (dissipators alone)."""
        return energy_bound(self.lattice, self.epsilon, prefactor=self.prefactor,
                            kappa=self.kappa)  # fmt: skip

    def jump_operators(self) -> list[np.ndarray]:
        """The dissipators and the noise channel of Fig. 1 (spec §5) on the cutoff."""
        ops = dissipators(self.cutoff, self.epsilon, self.lattice, prefactor=self.prefactor,
                          kappa=self.kappa)  # fmt: skip
        a, q, p = quadratures(self.cutoff + 80, self.kappa)
        n = self.cutoff
        if self.sigma > 0 and self.noise == "quadrature":
            ops += [math.sqrt(self.sigma) * q[:n, :n], math.sqrt(self.sigma) * p[:n, :n]]
        if self.sigma > 0 and self.noise == "loss":
            ops.append(math.sqrt(self.sigma) * a[:n, :n])
        if self.sigma > 0 and self.noise == "dephasing":
            ops.append(math.sqrt(self.sigma * self.epsilon) * np.diag(np.arange(n)).astype(complex))
        return ops

    def hamiltonian(self) -> np.ndarray | None:
        n = np.arange(self.cutoff, dtype=float)
        if self.noise == "detuning" and self.sigma > 0:
            return np.diag(self.sigma * n).astype(complex)
        if self.noise == "kerr" and self.sigma > 0:
            return np.diag(self.sigma * self.epsilon * n**2).astype(complex)
        return None

    def logical_probe(self) -> np.ndarray:
        """The traceless initial difference (vacuum) − (vacuum shifted by 2π/η in q): its
        ⟨Z⟩ decays as a single exponential at the logical rate (spec §5)."""
        levels = self.cutoff + 80
        _, _, p = quadratures(levels, self.kappa)
        shift = function_of(p, lambda x: np.exp(-1j * (2 * math.pi / self.eta) / self.kappa * x))
        v0 = np.zeros(levels, complex)
        v0[0] = 1
        v1 = (shift @ v0)[: self.cutoff]
        v0 = v0[: self.cutoff]
        return np.outer(v0, v0.conj()) - np.outer(v1, v1.conj())


def energy_trajectory(
    protocol: GKP, evolve, rho0: np.ndarray | None = None, horizon: float = 10.0,
    points: int = 21,
) -> tuple[np.ndarray, np.ndarray]:  # fmt: skip
    """⟨N⟩(t) of the truncated Lindbladian from ``rho0`` (default: the vacuum)."""
    if rho0 is None:
        rho0 = np.zeros((protocol.cutoff, protocol.cutoff), complex)
        rho0[0, 0] = 1
    number = np.diag(np.arange(protocol.cutoff)).astype(complex)
    times = np.linspace(0, horizon, points)
    (n,) = evolve(protocol.jump_operators(), protocol.hamiltonian(), rho0, times, [number])
    return times, n


def logical_rate(protocol: GKP, evolve, horizon: float = 60.0, points: int = 31) -> float:
    """The logical Z decay rate of the truncated Lindbladian: ⟨Z⟩ of :meth:`GKP.logical_probe`
    fitted to an exponential on [T/3, T] (spec §5). ``evolve(jumps, H, ρ0, times, [Z])`` is
    ``qcompile.backends.operator_lindblad.evolve_expectations``."""
    _, _, z = pauli_operators(protocol.cutoff, protocol.lattice, protocol.kappa)
    times = np.linspace(0, horizon, points)
    (signal,) = evolve(protocol.jump_operators(), protocol.hamiltonian(), protocol.logical_probe(),
                       times, [z])  # fmt: skip
    late = times >= horizon / 3
    return float(-np.polyfit(times[late], np.log(np.abs(signal[late])), 1)[0])


def gkp(
    *,
    lattice: str = "square",
    epsilon: float = 0.1,
    noise: str = "none",
    sigma: float = 0.0,
    cutoff: int | None = None,
    kappa: int = 1,
    prefactor: float = 1.0,
) -> GKP:
    """Validate the parameters (spec 003) and build the protocol."""
    if lattice not in LATTICES:
        raise InvalidParameter("lattice", lattice, "square or hexagonal")
    if kappa not in (1, 2):
        raise InvalidParameter("kappa", kappa, "1 or 2")
    if not (isinstance(prefactor, (int, float)) and 0.5 < prefactor <= MAX_PREFACTOR):
        # A <= 1/2: no epsilon > 0 confines (Theorem 1 needs A(4 - kappa eps eta^2) > 2); the
        # BCH prefactor is e^(-kappa eta^2 eps/2) <= 1, and the rates grow as A² (A = 3: the
        # default run takes over 5 minutes instead of one)
        raise InvalidParameter(
            "prefactor", prefactor, f"0.5 < A <= {MAX_PREFACTOR:g} (Theorem 1 confines only "
            "above 0.5; the BCH prefactor is at most 1)"
        )  # fmt: skip
    bound = confining_epsilon(lattice, prefactor, kappa)
    if not (isinstance(epsilon, (int, float)) and 0 < epsilon < bound):
        raise InvalidParameter(
            "epsilon", epsilon, f"0 < epsilon < {bound:.4f} (the confining range of Theorem 1)"
        )
    if noise not in NOISES:
        raise InvalidParameter("noise", noise, "one of " + ", ".join(NOISES))
    if not (isinstance(sigma, (int, float)) and sigma >= 0 and math.isfinite(sigma)):
        raise InvalidParameter("sigma", sigma, "sigma >= 0")
    # the finite-energy codewords hold <N> = 1/(2 eps) - 1/2 with a heavy tail (spec §3):
    # ask for 6/eps levels at least
    need = math.ceil(6 / epsilon)
    if cutoff is None:  # the default follows epsilon
        if need > MAX_CUTOFF:
            raise InvalidParameter(
                "epsilon", epsilon, f">= {6 / MAX_CUTOFF:g} for the Fock simulation (its "
                f"cutoff 6/epsilon must stay <= {MAX_CUTOFF})",
            )  # fmt: skip
        cutoff = max(DEFAULT_CUTOFF, need)
    if isinstance(cutoff, bool) or int(cutoff) != cutoff or not need <= cutoff <= MAX_CUTOFF:
        raise InvalidParameter(
            "cutoff", cutoff,
            f"an integer {need} <= cutoff <= {MAX_CUTOFF} for epsilon = {epsilon:g}",
        )  # fmt: skip
    return GKP(lattice, float(epsilon), noise, float(sigma), int(cutoff), int(kappa),
               float(prefactor))  # fmt: skip


def from_mapping(values: Mapping[str, object]) -> GKP:
    return gkp(**dict(values))


def energy_check(protocol: GKP, evolve, horizon: float = 10.0) -> dict:
    """⟨N⟩(t) from the vacuum against Corollary 2: ⟨N⟩ ≤ (β/α)(1 − e^{−αt}) (spec 003 §3)."""
    bound = protocol.energy_bound()
    times, n = energy_trajectory(protocol, evolve, horizon=horizon)
    line = bound["steady_bound"] * (1 - np.exp(-bound["alpha"] * times))
    return {
        "times": times.tolist(), "n": n.tolist(), "bound": line.tolist(), **bound,
        "holds": bool(np.all(n <= line + 1e-9)),
    }  # fmt: skip


# -- data flow on the reference backend (qcompile's one runner, qcompile.run.pipeline) ---------
#: The horizon of the truncated Lindbladian's rate fit on the reference backend.
REFERENCE_HORIZON = 60.0


def reference(protocol: GKP) -> dict:
    """The exact (torus, Theorems 3, 5: no truncation) and asymptotic logical rates."""
    return protocol.rate_reference()


def simulate(protocol: GKP, solvers: Mapping, report, options: Mapping) -> dict:
    """The truncated Lindbladian at the cutoff (``solvers["evolve"]``, operator form): its
    logical rate over ``options["horizon"]``, its truncation bias against the torus rate and,
    without noise, its energy against Corollary 2."""
    stage = f"Lindblad at cutoff {protocol.cutoff}"
    report(stage, 0, 1)
    rate = logical_rate(protocol, solvers["evolve"], options.get("horizon", REFERENCE_HORIZON))
    report(stage, 1, 1)
    observables = {
        "rate": rate, "cutoff": protocol.cutoff,
        "method": "truncated Lindbladian (operator form, SciPy DOP853), Z decay fit",
    }  # fmt: skip
    torus = protocol.rate_reference()["torus_rate"]
    if torus is not None:
        observables["truncation_bias"] = rate - torus
    if protocol.noise == "none" or protocol.sigma == 0:
        observables["energy"] = energy_check(protocol, solvers["evolve"])
    return observables


# -- data flow on a circuit backend: the one runner's step path (qcompile.run.step_pipeline) ---
#: The compiled grid step: its Kraus operators' rate and one-step error, shots of a few steps.
lower_step = gkp_lower_step
estimate_step = gkp_estimate_step


def run(protocol: GKP, backend, *, solvers: Mapping | None = None, **options):
    """This protocol's run (plugin interface, :mod:`qcompile.protocols.plugin`): qcompile's
    one runner — on the reference backend over :func:`reference` and :func:`simulate`
    (``horizon``), on ``aer`` / ``aer:<fake>`` over the compiled grid step (its step path:
    ``grid_qubits``, ``dt``, ``horizon``, ``steps_on_device``, ``zne``)."""
    from qcompile.run.pipeline import run_declared
    from qcompile.run.step_pipeline import reference_options, run_steps, runs_steps

    module = sys.modules[__name__]
    if runs_steps(backend):
        return run_steps(module, protocol, backend, solvers=solvers, **options)
    given = reference_options(options, ("horizon",))
    horizon = given.get("horizon")
    protocol.check_evolution(REFERENCE_HORIZON if horizon is None else horizon)
    return run_declared(module, protocol, backend, solvers=solvers, **given)


def check(protocol: GKP, backend, **options) -> None:
    """Refuse what :func:`run` would refuse before any work, running nothing (plugin
    interface: ``qcompile sweep`` checks its points with it)."""
    from qcompile.run.pipeline import check_declared
    from qcompile.run.step_pipeline import check_steps, reference_options, runs_steps

    module = sys.modules[__name__]
    if runs_steps(backend):
        check_steps(module, protocol, backend, **options)
        return
    given = reference_options(options, ("horizon",))
    horizon = given.get("horizon")
    protocol.check_evolution(REFERENCE_HORIZON if horizon is None else horizon)
    check_declared(module, protocol, backend, **given)


def check_options(protocols, backend, options: dict) -> dict:
    """The run's circuit options, refused on the reference backend (plugin interface)."""
    return circuit_only(backend, options, ("grid_qubits", "dt", "shots", "zne", "steps_on_device"))


def render(results: list, console) -> None:
    """The run's table (plugin interface): :mod:`qcompile.protocols.rendering.bosonic`."""
    from qcompile.protocols.rendering.bosonic import render_gkp

    render_gkp(results, console)


def figure(result):
    """The run's figure (plugin interface): :func:`sweep_figure` of one point."""
    return sweep_figure([result])


def sweep_figure(results: list):
    """Several points' figure (plugin interface): logical rate vs σ (spec 003 Fig. 1)."""
    from qcompile.protocols.rendering.figures import gkp_figure

    return gkp_figure(results)
