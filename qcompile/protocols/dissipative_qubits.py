r"""Two interacting qubits in a common Ohmic bath at T = 0 (seed 001, spec 001 §2, §3, §8).

.. math:: H_S = -\tfrac{\Delta}{2}(\sigma_x^{(1)}+\sigma_x^{(2)}) + J\,\sigma_z^{(1)}\sigma_z^{(2)},
          \qquad H_I = A\otimes\sum_i\lambda_i(b_i+b_i^\dagger),\quad
          A = \tfrac12(\sigma_z^{(1)}+\sigma_z^{(2)}),

with J(ω) = 2πα ω f(ω/ω_c), f = e^{−ω/ω_c} (default) or θ(ω_c − ω) (eq. 5, Leggett's α).
Spectrum (eqs. 6–12): ψ₁ = a T_AF + b T_F^+ (−R), S (−J), T_F^− (+J), ψ₄ = b T_AF − a T_F^+
(+R), R = √(J² + Δ²). The singlet is decoherence free (A|S⟩ = 0).

Markovian reference (App. A, eq. 28): the Davies equation at T = 0 with one jump operator per
transition (spec §8: with it, eqs. 31–37 hold also at J = 0),
L₄₃ = √γ₄₃ |ψ₃⟩⟨ψ₄|, L₃₁ = √γ₃₁ |ψ₁⟩⟨ψ₃|, γ₄₃ = 2a²J(R−J), γ₃₁ = 2b²J(R+J) (eqs. 29–30);
both equal Γ = 2παΔ²/R for ω_c → ∞ (the paper's prescription, ``omega_c=inf``). The
dissipator commutes with the unitary part, so e^{t𝓛} = 𝒰_t ∘ Φ_t with Φ_t = e^{t𝒟} and the
exact 4-Kraus form of spec §8 — what the circuits implement, one step at a time, exactly.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import scipy.linalg as sla
from qiskit.circuit import QuantumCircuit, QuantumRegister
from qiskit.circuit.library import StatePreparation, UnitaryGate

from qcompile.errors import InvalidParameter
from qcompile.lowering.cascade_channel import cascade_channel_circuit
from qcompile.lowering.collision import dissipator_superoperator, kraus_from_superoperator
from qcompile.model import OpenSystem
from qcompile.protocols.encoding_flow import (
    BOOTSTRAP,
    circuit_info,
    estimate_states,
    lower_evolution,
    measured_qubits,
    reference,
    resolve_options,
    run_parameters,
    tomographed_times,
)
from qcompile.protocols.parameters import ESTIMATOR_OPTIONS, Parameter
from qcompile.protocols.plugin import one_runner
from qcompile.protocols.two_qubit_codes import (
    BELL,
    PHYSICAL,
    Encoding,
    af,
    nsymm,
    parse_encoding,
    symm,
)
from qcompile.resources import check_evolution_time, check_number

__all__ = [
    "DissipativeQubits", "dissipative_qubits", "Spectrum", "spectrum", "system_hamiltonian",
    "coupling_operator", "spectral_density", "transition_rates", "kraus_operators", "NAME",
    "PARAMETERS",
    # the data flow (qcompile.protocols.encoding_flow), run by the one runner's states path
    "BOOTSTRAP", "circuit_info", "estimate_states", "lower_evolution", "measured_qubits",
    "reference", "resolve_options", "run_parameters", "tomographed_times",
]  # fmt: skip

NAME = "dissipative-qubits"
#: Which runner executes this protocol (``qcompile.run.recipe``).
RUNNER = "encodings"
#: ``qcompile run dissipative-qubits``: its help and default backend (qcompile.cli.generated).
RUN_HELP = "Two dissipative qubits (spec 001): which encoding protects a logical qubit best."
DEFAULT_BACKEND = "aer:fake_torino"
SUMMARY = "one logical qubit in two coupled qubits in a common Ohmic bath (spec 001)"
MAX_TIME_POINTS = 5000
#: Largest t_max × fastest frequency the reference integrates (a 4-level system: cheap steps).
REFERENCE_RATE_TIMES = 1e6
PARAMETERS = (
    Parameter("J", "float", 2.0, "any real; Ising coupling in units of Delta (J > 0: AF)"),
    Parameter("alpha", "float", 0.05, "alpha >= 0; Ohmic coupling (Leggett convention)"),
    Parameter("omega_c", "float", "inf", "omega_c > 0 (inf: the paper's Lindblad limit)"),
    Parameter("cutoff", "str", "exponential", "exponential | hard"),
    Parameter("delta", "float", 1.0, "delta > 0; tunnelling, the energy unit"),
    Parameter("t_max", "float", 60.0, "t_max > 0; final time"),
    Parameter("dt", "float", 0.1, "0 < dt <= t_max, t_max/dt an integer; reference time step"),
    Parameter(
        "encodings",
        "list",
        "af,symm,nsymm,physical",
        "comma list of af, physical, symm[:a1_sq,b1_sq], nsymm[:c_af_sq], custom:<up>/<down>",
        help="the encodings compared (the option repeats: --encoding af --encoding symm)",
        flags=("--encoding", "--encodings"),
    ),
    Parameter(
        "squared",
        "bool",
        True,
        "squared Uhlmann fidelity (false: Nielsen-Chuang's)",
        flags=("--squared/--unsquared",),
    ),
)

_SX = np.array([[0, 1], [1, 0]], dtype=complex)
_SZ = np.diag([1.0, -1.0]).astype(complex)
_I2 = np.eye(2)


def system_hamiltonian(J: float, delta: float = 1.0) -> np.ndarray:
    """H_S of eq. (2), qubit 1 the left factor."""
    return -delta / 2 * (np.kron(_SX, _I2) + np.kron(_I2, _SX)) + J * np.kron(_SZ, _SZ)


def coupling_operator() -> np.ndarray:
    """A = (σ_z¹ + σ_z²)/2, the system side of H_I (eq. 4)."""
    return (np.kron(_SZ, _I2) + np.kron(_I2, _SZ)) / 2


#: Options of this protocol's run (``qcompile sweep --option name=value``, recipes).
RUN_OPTIONS = (
    Parameter("solver", "str", "lindblad", "lindblad | heom (the reference)"),
    Parameter("heom_depth", "int", None, "an integer >= 1; HEOM hierarchy depth (3)"),
    Parameter("heom_exponents", "int", None, "1..20; HEOM prony terms Nr (2 Nr exponents; 6)"),
    Parameter("heom_fit_window", "float", None, "> 0; HEOM correlation fit window [0, T] (15)"),
    Parameter("collisions", "int", None, "1..400; bath collisions in the circuits (12)"),
    Parameter("device_every", "int", 3, "an integer >= 1: tomograph every k-th collision"),
    *ESTIMATOR_OPTIONS,
)
#: Options of ``qcompile compile dissipative-qubits``: the circuits' collisions.
COMPILE_OPTIONS = tuple(p for p in RUN_OPTIONS if p.name == "collisions")


@dataclass(frozen=True)
class Spectrum:
    """Energies (−R, −J, J, R) and eigenstates ψ₁ … ψ₄ (columns of ``states``) of H_S."""

    energies: np.ndarray
    states: np.ndarray
    a: float
    b: float
    R: float


def spectrum(J: float, delta: float = 1.0) -> Spectrum:
    """Eqs. (6)–(12) in closed form: ψ₁ = aT_AF + bT_F^+, S, T_F^−, ψ₄ = bT_AF − aT_F^+."""
    R = math.hypot(J, delta)
    a, b = math.sqrt((R + J) / (2 * R)), math.sqrt((R - J) / (2 * R))
    psi1 = a * BELL["T_AF"] + b * BELL["T_F+"]
    psi4 = b * BELL["T_AF"] - a * BELL["T_F+"]
    states = np.array([psi1, BELL["S"], BELL["T_F-"], psi4]).T.astype(complex)
    return Spectrum(np.array([-R, -J, J, R]), states, a, b, R)


def spectral_density(
    omega: float, alpha: float, omega_c: float = math.inf, cutoff: str = "exponential"
) -> float:
    """J(ω) = 2πα ω f(ω/ω_c) (eq. 5); ω_c = ∞ removes the cutoff."""
    if omega <= 0:
        return 0.0
    if math.isinf(omega_c):
        f = 1.0
    elif cutoff == "hard":
        f = 1.0 if omega < omega_c else 0.0
    else:
        f = math.exp(-omega / omega_c)
    return 2 * math.pi * alpha * omega * f


def transition_rates(
    J: float, alpha: float, omega_c: float = math.inf, cutoff: str = "exponential",
    delta: float = 1.0,
) -> tuple[float, float]:  # fmt: skip
    """(γ₄₃, γ₃₁) = (2a²J(R−J), 2b²J(R+J)) of eqs. (29)–(30)."""
    s = spectrum(J, delta)
    return (
        2 * s.a**2 * spectral_density(s.R - J, alpha, omega_c, cutoff),
        2 * s.b**2 * spectral_density(s.R + J, alpha, omega_c, cutoff),
    )


def _projector(states: np.ndarray, i: int, j: int) -> np.ndarray:
    return np.outer(states[:, i], states[:, j].conj())


def kraus_operators(
    t: float, J: float, alpha: float, omega_c: float = math.inf, cutoff: str = "exponential",
    delta: float = 1.0,
) -> list[np.ndarray]:  # fmt: skip
    """Kraus operators of Φ_t = e^{t𝒟} (interaction picture: ρ(t) = U_t Φ_t(ρ₀) U_t†).

    With γ₄₃ = γ₃₁ = Γ they are spec §8's K₀ = P₁₁ + P₂₂ + e^{−Γt/2}(P₃₃ + P₄₄),
    K₁ = √(Γt e^{−Γt}) P₃₄, K₂ = √(1 − e^{−Γt}) P₁₃, K₃ = √(1 − (1+Γt)e^{−Γt}) P₁₄; with
    unequal rates the same structure with the two-rate cascade populations.
    """
    protocol = DissipativeQubits(J=J, alpha=alpha, omega_c=omega_c, cutoff=cutoff, delta=delta)
    stay3, stay4, via3 = protocol.cascade_probabilities(t)
    s = spectrum(J, delta).states
    P = lambda i, j: _projector(s, i, j)  # noqa: E731
    kraus = [
        P(0, 0) + P(1, 1) + math.sqrt(stay3) * P(2, 2) + math.sqrt(stay4) * P(3, 3),
        math.sqrt(max(via3, 0.0)) * P(2, 3),
        math.sqrt(max(1 - stay3, 0.0)) * P(0, 2),
        math.sqrt(max(1 - stay4 - via3, 0.0)) * P(0, 3),
    ]
    return kraus


@dataclass(frozen=True)
class DissipativeQubits:
    """Validated parameters of the seed-001 model and the encodings to compare."""

    J: float = 2.0
    alpha: float = 0.05
    omega_c: float = math.inf
    cutoff: str = "exponential"
    delta: float = 1.0
    t_max: float = 60.0
    dt: float = 0.1
    encodings: tuple[Encoding, ...] = field(default_factory=lambda: (af(), symm(), nsymm(),
                                                                      PHYSICAL))  # fmt: skip
    squared: bool = True
    name: str = NAME

    def parameters(self) -> dict:
        return {
            "J": self.J,
            "alpha": self.alpha,
            "omega_c": self.omega_c if math.isfinite(self.omega_c) else "inf",
            "cutoff": self.cutoff,
            "delta": self.delta,
            "t_max": self.t_max,
            "dt": self.dt,
            "encodings": [_encoding_spec(e) for e in self.encodings],
            "squared": self.squared,
        }

    @property
    def num_qubits(self) -> int:
        return 4  # two system qubits and the two ancillas of the Kraus channel

    def check_fits(self, device_qubits: int | None, where: str) -> None:
        if device_qubits is not None and device_qubits < self.num_qubits:
            from qcompile.errors import ResourceLimit

            raise ResourceLimit(f"the circuits need {self.num_qubits} qubits; {where} has fewer")

    def times(self) -> list[float]:
        steps = round(self.t_max / self.dt)
        return [k * self.dt for k in range(steps + 1)]

    def hamiltonian(self) -> np.ndarray:
        return system_hamiltonian(self.J, self.delta)

    def coupling(self) -> np.ndarray:
        """A = (σ_z¹ + σ_z²)/2, the system operator of the bath coupling."""
        return coupling_operator()

    def rates(self) -> tuple[float, float]:
        return transition_rates(self.J, self.alpha, self.omega_c, self.cutoff, self.delta)

    def spectrum(self) -> Spectrum:
        return spectrum(self.J, self.delta)

    def jump_operators(self) -> list[np.ndarray]:
        """One jump operator per transition: √γ₄₃|ψ₃⟩⟨ψ₄|, √γ₃₁|ψ₁⟩⟨ψ₃| (spec §8)."""
        g43, g31 = self.rates()
        s = self.spectrum().states
        return [math.sqrt(g43) * _projector(s, 2, 3), math.sqrt(g31) * _projector(s, 0, 2)]

    def open_system(self, initial: np.ndarray | None = None) -> OpenSystem:
        """The App.-A Lindblad model (``initial``: a ket or density matrix)."""
        if initial is not None and initial.ndim == 1:
            initial = np.outer(initial, initial.conj())
        return OpenSystem(
            dims=(2, 2),
            hamiltonian=self.hamiltonian(),
            jump_operators=tuple(self.jump_operators()),
            initial_state=initial,
            labels=("qubit 1", "qubit 2"),
        )

    def kraus(self, t: float) -> list[np.ndarray]:
        return kraus_operators(t, self.J, self.alpha, self.omega_c, self.cutoff, self.delta)

    def dissipator_channel(self, t: float) -> list[np.ndarray]:
        """Kraus operators of e^{t𝒟} from the superoperator (independent of :meth:`kraus`)."""
        generator = sum(dissipator_superoperator(j) for j in self.jump_operators())
        return kraus_from_superoperator(sla.expm(t * generator))

    def closed_states(self, psi: np.ndarray, times: Sequence[float]) -> list[np.ndarray]:
        s = self.spectrum()
        c = s.states.conj().T @ psi
        return [s.states @ (np.exp(-1j * s.energies * t) * c) for t in times]

    # -- circuits (spec §11.2) -------------------------------------------------------------
    def cascade_probabilities(self, t: float) -> tuple[float, float, float]:
        """(s₃, s₄, v): survival of ψ₃ and ψ₄ after t, and ψ₄ → ψ₃ still in ψ₃."""
        g43, g31 = self.rates()
        stay4, stay3 = math.exp(-g43 * t), math.exp(-g31 * t)
        if abs(g43 - g31) <= 1e-12 * max(g43, g31, 1e-300):
            via3 = g43 * t * stay4
        else:
            via3 = g43 * (stay4 - stay3) / (g31 - g43)
        return stay3, stay4, via3

    def readout_unitary(self) -> np.ndarray:
        """V: eigen-coordinates (ψ₁, S, ψ₃, ψ₄ ↔ |00⟩, |01⟩, |10⟩, |11⟩) → the lab basis."""
        return self.spectrum().states

    def step_unitary(self, dt: float) -> np.ndarray:
        """e^{−iH_S dt} in eigen-coordinates: diag(e^{−iE_k dt}) (one RZZ and two RZ)."""
        return np.diag(np.exp(-1j * self.spectrum().energies * dt))

    def circuit(
        self, psi: np.ndarray, collisions: int, collision_dt: float, *, readout: bool = True
    ) -> QuantumCircuit:
        """ψ prepared, then ``collisions`` steps of length ``collision_dt`` — each an exact
        bath collision and the exact H_S evolution — then (``readout``) the change of basis
        back to the lab frame.

        Qubits 0, 1 are the system (qubit 2, qubit 1 of the model: little-endian), 2, 3 the
        ancillas of the Kraus channel, reset after every collision. The circuit works in the
        eigenbasis of H_S (ψ₁, S, ψ₃, ψ₄ ↔ |00⟩, |01⟩, |10⟩, |11⟩): there the channel is the
        cascade of :mod:`qcompile.lowering.cascade_channel` and e^{−iH_S dt} is diagonal (one
        two-qubit gate instead of three). The Davies dissipator commutes with H_S's
        evolution, so each step is e^{dt𝓛} exactly, for any ``collision_dt``.
        """
        qc = QuantumCircuit(QuantumRegister(2, "q"), QuantumRegister(2, "anc"), name="encoded")
        qc.append(StatePreparation(self.readout_unitary().conj().T @ psi), [0, 1])
        step = cascade_channel_circuit(*self.cascade_probabilities(collision_dt))
        step.append(UnitaryGate(self.step_unitary(collision_dt), label="e^{-iH dt}"), [0, 1])
        for _ in range(collisions):
            qc.compose(step, inplace=True)
        if readout:
            qc.append(UnitaryGate(self.readout_unitary(), label="V"), [0, 1])
        return qc


def _encoding_spec(e: Encoding) -> str:
    if e.name == "symm":
        a1 = float(abs(np.vdot(BELL["S"], e.up)) ** 2)
        b1 = float(abs(np.vdot(BELL["T_F+"], e.down)) ** 2)
        return f"symm:{a1:.12g},{b1:.12g}"
    if e.name == "nsymm":
        return f"nsymm:{float(abs(np.vdot(BELL['T_AF'], e.down)) ** 2):.12g}"
    if e.name == "custom":
        fmt = lambda v: ",".join(repr(complex(x)) for x in v)  # noqa: E731
        return f"custom:{fmt(e.up)}/{fmt(e.down)}"
    return e.name


def _real(name: str, value, allowed: str, *, positive=False, nonneg=False, inf_ok=False) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise InvalidParameter(name, value, allowed) from None
    if math.isnan(number) or (math.isinf(number) and not inf_ok):
        raise InvalidParameter(name, value, allowed)
    if (positive and not number > 0) or (nonneg and not number >= 0):
        raise InvalidParameter(name, value, allowed)
    if math.isfinite(number):
        check_number(name, number)  # |x| <= 1e6: beyond it the solvers overflow
    return number


def dissipative_qubits(
    *,
    J: float = 2.0,
    alpha: float = 0.05,
    omega_c: float | str = math.inf,
    cutoff: str = "exponential",
    delta: float = 1.0,
    t_max: float = 60.0,
    dt: float = 0.1,
    encodings: str | Sequence[str | Encoding] = "af,symm,nsymm,physical",
    squared: bool = True,
) -> DissipativeQubits:
    """Validate physical parameters and build the protocol (spec 001)."""
    J = _real("J", J, "a finite real number")
    alpha = _real("alpha", alpha, "alpha >= 0", nonneg=True)
    omega_c = _real("omega_c", omega_c, "omega_c > 0 or inf", positive=True, inf_ok=True)
    delta = _real("delta", delta, "delta > 0", positive=True)
    if cutoff not in ("exponential", "hard"):
        raise InvalidParameter("cutoff", cutoff, "exponential or hard")
    if cutoff == "hard" and math.isinf(omega_c):
        raise InvalidParameter("omega_c", omega_c, "a finite omega_c > 0 with the hard cutoff")
    if cutoff == "hard" and math.hypot(J, delta) + abs(J) >= omega_c:
        raise InvalidParameter(
            "omega_c", omega_c, f"> R + |J| = {math.hypot(J, delta) + abs(J):.4g} (the hard "
            "cutoff would remove a transition)"
        )  # fmt: skip
    t_max = _real("t_max", t_max, "t_max > 0", positive=True)
    dt = _real("dt", dt, "0 < dt <= t_max", positive=True)
    steps = t_max / dt
    if dt > t_max or abs(steps - round(steps)) > 1e-9 or round(steps) > MAX_TIME_POINTS:
        raise InvalidParameter(
            "dt",
            dt,
            f"0 < dt <= t_max = {t_max:g} with t_max/dt an integer <= "
            f"{MAX_TIME_POINTS} (or change t_max)",
        )
    # the reference integrates the Bloch-Redfield/Lindblad generator over t_max: its steps
    # follow the fastest frequency (J = 1000 takes ~90 s here, the limit ~10 min)
    fastest = max(abs(J), delta) * (1 + 2 * math.pi * alpha)
    check_evolution_time("t_max", t_max, fastest, "--t-max, --J, --delta or --alpha",
                         limit=REFERENCE_RATE_TIMES)  # fmt: skip
    if isinstance(encodings, str):
        encodings = [encodings]
    encodings = [part for e in encodings  # a repeated --encoding, each a name or a comma list
                 for part in ([e] if isinstance(e, Encoding) else _split_encodings(str(e)))
                 if part]  # fmt: skip
    parsed = tuple(e if isinstance(e, Encoding) else parse_encoding(e) for e in encodings)
    if not parsed:
        raise InvalidParameter("encodings", encodings, "at least one encoding")
    names = [e.name for e in parsed]
    if len(set(names)) != len(names):
        raise InvalidParameter("encodings", ",".join(names), "each encoding at most once")
    return DissipativeQubits(
        J=J, alpha=alpha, omega_c=omega_c, cutoff=cutoff, delta=delta, t_max=t_max, dt=dt,
        encodings=parsed, squared=bool(squared),
    )  # fmt: skip


def _split_encodings(text: str) -> list[str]:
    """Split 'af,symm:0.8,0.2,nsymm:0.9' at the commas that start a new encoding (a name
    starts with a letter; coefficients do not)."""
    parts: list[str] = []
    for piece in (p.strip() for p in text.split(",")):
        if parts and not piece[:1].isalpha():
            parts[-1] += "," + piece
        else:
            parts.append(piece)
    return parts


def from_mapping(values: Mapping[str, object]) -> DissipativeQubits:
    """Build from a parameter mapping (CLI/JSON); ``encodings`` a string or a list."""
    values = dict(values)
    if isinstance(values.get("encodings"), list):
        values["encodings"] = [str(e) for e in values["encodings"]]
    return dissipative_qubits(**values)


#: This protocol's run (plugin interface): qcompile's one runner over the data flow above.
run = one_runner(__name__)


def rank_encodings(block: dict, window: float = 1 / 3) -> list[tuple[str, float]]:
    """Encodings by their mean fidelity over the last ``window`` of the times, best first."""
    times = np.asarray(block["times"])
    late = times >= times[-1] - window * (times[-1] - times[0]) - 1e-12
    scores = [
        (name, float(np.mean(np.asarray(values["fidelity"])[late])))
        for name, values in block.items()
        if isinstance(values, dict) and "fidelity" in values
    ]
    return sorted(scores, key=lambda item: -item[1])


def check_options(protocols, backend, options: dict) -> dict:
    """Run options that need the backend, checked before anything runs (plugin interface):
    ``collisions`` only where circuits run."""
    collisions = options.get("collisions")
    if collisions is not None and not getattr(backend, "runs_circuits", True):
        raise InvalidParameter("collisions", collisions, "only with a circuit backend "
                               "(aer, aer:<fake>, ibm:<device>)")  # fmt: skip
    return options


def render(results: list, console) -> None:
    """Late-time means and rankings (plugin interface):
    :mod:`qcompile.protocols.rendering.dissipative_qubits`."""
    from qcompile.protocols.rendering.dissipative_qubits import render

    render(results, console)


def figure(result):
    """The run's figure (plugin interface): fidelity, leakage and purity vs t."""
    from qcompile.protocols.rendering.figures import encodings_figure

    return encodings_figure(result)
