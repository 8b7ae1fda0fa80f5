r"""Coherent quantum feedback (Zhang & Zhang) — spec 002.

A plant of n qubits follows ρ_D(t) = e^{−iH_P t}|φ₀⟩⟨φ₀|e^{iH_P t} (eq. 2). A controller qubit
with decay L_C1 = √γ |0⟩⟨1| (eq. 64) is coupled by the ladder Hamiltonian (eq. 65)

.. math:: H_I(0) = \gamma\sum_k \big(|\nu^k,1\rangle\langle\nu^{k+1},0|
          + |\nu^{k+1},0\rangle\langle\nu^k,1|\big),\qquad
          H_I(t) = U_P(t) H_I(0) U_P(t)^\dagger,\ U_P(t) = e^{-i(H_P\otimes 1)t}

(eq. 66), which makes |φ₀⟩⟨φ₀|⊗|0⟩⟨0| the unique fixed point in the frame rotating with H_P.
Basis: |ν^k⟩ = |k ⊕ φ₀⟩ in the standard computational basis |0⟩ = (1,0)ᵀ. The paper writes
|0⟩ = (0,1)ᵀ (eq. 76); its matrices (82) are this label construction in that basis (spec §5).

Scenarios: ``transient_at`` t_a applies the full computational-basis dephasing of plant and
controller (eq. 84) at t_a; ``noise="persistent"`` adds the plant jump operators of eq. (86)
(two-qubit plant), and ``initial="imperfect"`` starts from eq. (88) with its typo fixed
(controller 0.9|0⟩⟨0| + 0.1|1⟩⟨1|, spec §8). The figure of merit is
D(t) = ½‖tr_C σ(t) − ρ_D(t)‖₁ (eq. 85).

Subsystem order: plant qubits 1..n (subsystems 0..n−1), then the controller (subsystem n).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from qiskit.quantum_info import SparsePauliOp

from qcompile.errors import InvalidParameter
from qcompile.lowering.dynamics import lower_dynamics
from qcompile.model import InstantChannel, OpenSystem, TimeDependentTerm, embed
from qcompile.protocols.open_system_flow import (
    check_device,
    check_lowering,
    estimate_states,
    lower_evolution,
    measured_qubits,
    reference,
    resolve_options,
    run_parameters,
)
from qcompile.protocols.parameters import ESTIMATOR_OPTIONS, Parameter
from qcompile.protocols.plugin import one_runner
from qcompile.resources import check_evolution_time, check_time_steps

__all__ = [
    "CoherentFeedback", "FIG1_TABLE", "FIG2_PLATEAU", "NAME", "PARAMETERS", "coherent_feedback",
    "plateau", "trace_distance",
    # the data flow (qcompile.protocols.open_system_flow), run by the one runner's states path
    "check_device", "estimate_states", "lower_evolution", "measured_qubits", "reference",
    "resolve_options", "run_parameters",
]  # fmt: skip

NAME = "coherent-feedback"
#: Which runner executes this protocol (``qcompile.run.recipe``).
RUNNER = "dynamics"
SUMMARY = "plant kept on its ideal trajectory by a damped controller qubit (spec 002)"
#: ``qcompile run coherent-feedback``'s help (qcompile.cli.generated).
RUN_HELP = "Coherent feedback (spec 002): trace distance D(t) of the plant to its ideal trajectory."
MAX_PLANT_QUBITS = 4
#: The lowering of spec 002 §7: the end-point rule in the rotating frame, exact step unitaries
#: and exact collisions (the runner's default for this protocol).
DEFAULT_LOWERING = {"rule": "rotating", "synthesis": "exact", "order": 1, "collision": "exact"}
#: Largest t_max × gamma the reference integrates (minutes; spec 002's γ = 160 run: 6400).
REFERENCE_RATE_TIMES = 1e4
PARAMETERS = (
    Parameter(
        "gamma", "float", 5.0, "gamma >= 0; feedback strength (0: no feedback)", listable=True
    ),
    Parameter("t_max", "float", 6.0, "t_max > 0; final time"),
    Parameter("dt", "float", 0.01, "0 < dt <= t_max, t_max/dt an integer; circuit time step"),
    Parameter(
        "transient_at", "float", None, "0 <= t_a <= t_max, a multiple of dt; eq. (84) dephasing"
    ),
    Parameter("noise", "str", "none", "none | persistent (eq. 86, two-qubit plant)"),
    Parameter(
        "initial",
        "str",
        None,
        "ideal | imperfect (eq. 88, two-qubit plant); default imperfect with persistent noise",
    ),  # fmt: skip
    Parameter(
        "plant_hamiltonian", "str", "XX", "Pauli sum, e.g. 'XX' or '0.5*XZ+ZI' (qubit 1 leftmost)"
    ),
    Parameter("target", "str", "00", f"bit string |phi0>, 1..{MAX_PLANT_QUBITS} plant qubits"),
    Parameter(
        "sample_every", "float", None, "a multiple of dt; reported spacing (default: nearest 0.1)"
    ),
)

#: Options of this protocol's run (``qcompile sweep --option name=value``, recipes).
RUN_OPTIONS = (
    Parameter("rule", "str", DEFAULT_LOWERING["rule"],
              "rotating | end | midpoint | left (coefficient sampling)"),
    Parameter("synthesis", "str", DEFAULT_LOWERING["synthesis"],
              "trotter | exact (one unitary per step)"),
    Parameter("order", "int", DEFAULT_LOWERING["order"], "1 or 2 (product-formula order)"),
    Parameter("collision", "str", DEFAULT_LOWERING["collision"],
              "exact | dilation | channel (jump operators)"),
    Parameter("device_every", "int", 5, "an integer >= 1: tomograph every k-th time"),
    *ESTIMATOR_OPTIONS,
)  # fmt: skip

#: Spec 002 §6a, Fig. 1 scenario (γ = 5, t_a = 1, H_P = XX, φ₀ = |00⟩): D(t) after the kick.
FIG1_TABLE = {
    1.0: 0.45465,
    1.1: 0.44976,
    1.25: 0.42657,
    1.5: 0.39932,
    2.0: 0.18754,
    2.5: 0.095827,
    3.0: 0.051025,
    4.0: 5.438e-3,
    5.0: 1.809e-3,
    6.0: 1.941e-4,
    8.0: 1.931e-5,
    10.0: 2.009e-6,
}
#: Spec 002 §6b, Fig. 2 scenario (eqs. 86-88): limsup of D over the π-periodic orbit.
FIG2_PLATEAU = {0: 0.8026, 5: 0.3256, 10: 0.1971, 15: 0.1408, 20: 0.1099}

_SIGMA_MINUS = np.array([[0, 1], [0, 0]], dtype=complex)  # |0⟩⟨1| in labels
_X = np.array([[0, 1], [1, 0]], dtype=complex)
_Z = np.diag([1.0, -1.0]).astype(complex)


def parse_pauli_sum(text: str, num_qubits: int, name: str = "plant_hamiltonian") -> np.ndarray:
    """'0.5*XZ + ZI - YY' → matrix; the leftmost letter is plant qubit 1 (subsystem 0)."""
    cleaned = text.replace(" ", "")
    tokens = re.findall(r"([+-]?)(?:([0-9.eE+-]+)\*)?([IXYZ]+)", cleaned)
    if not tokens or "".join(
        "".join(t[:2]) + ("*" if t[1] else "") + t[2] for t in tokens
    ) != cleaned.lstrip("+"):
        raise InvalidParameter(name, text, "a sum of Pauli strings like 'XX' or '0.5*XZ+ZI'")
    terms = []
    for sign, coeff, label in tokens:
        if len(label) != num_qubits:
            raise InvalidParameter(
                name, text, f"Pauli strings of length {num_qubits} (one letter per plant qubit)"
            )
        value = float(coeff) if coeff else 1.0
        terms.append((label, -value if sign == "-" else value))
    # SparsePauliOp's leftmost letter is its highest qubit = leftmost tensor factor: our order
    return SparsePauliOp.from_list(terms).to_matrix()


def trace_distance(a: np.ndarray, b: np.ndarray) -> float:
    """½‖a − b‖₁."""
    return 0.5 * float(np.abs(np.linalg.eigvalsh(a - b)).sum())


def _ptrace_last(rho: np.ndarray, d_keep: int) -> np.ndarray:
    r = rho.reshape(d_keep, 2, d_keep, 2)
    return np.einsum("ajbj->ab", r)


@dataclass(frozen=True)
class CoherentFeedback:
    """A validated coherent-feedback experiment; build it with :func:`coherent_feedback`."""

    gamma: float
    t_max: float
    dt: float
    transient_at: float | None
    noise: str
    initial: str
    plant_hamiltonian: str
    target: str
    sample_every: float

    name = NAME

    @property
    def plant_qubits(self) -> int:
        return len(self.target)

    @property
    def num_qubits(self) -> int:
        return self.plant_qubits + 1

    def check_fits(self, device_qubits: int | None, where: str) -> None:
        """Plant, controller and one ancilla must fit on the device."""
        needed = self.num_qubits + 1
        if device_qubits is not None and needed > device_qubits:
            raise InvalidParameter(
                "target", self.target, f"at most {device_qubits - 2} plant qubits on {where}"
            )

    def parameters(self) -> dict:
        return {
            "gamma": self.gamma,
            "t_max": self.t_max,
            "dt": self.dt,
            "transient_at": self.transient_at,
            "noise": self.noise,
            "initial": self.initial,
            "plant_hamiltonian": self.plant_hamiltonian,
            "target": self.target,
            "sample_every": self.sample_every,
        }

    # -- operators --------------------------------------------------------------------------
    def plant_hamiltonian_matrix(self) -> np.ndarray:
        return parse_pauli_sum(self.plant_hamiltonian, self.plant_qubits)

    def frame(self) -> np.ndarray:
        """F = H_P ⊗ 1_C, the frame in which the feedback generator is constant (eq. 11)."""
        return np.kron(self.plant_hamiltonian_matrix(), np.eye(2))

    def ladder_basis(self) -> list[int]:
        """Computational index of |ν^k⟩ = |k ⊕ φ₀⟩ for k = 0..2^n − 1."""
        phi0 = int(self.target, 2)
        return [k ^ phi0 for k in range(2**self.plant_qubits)]

    def interaction(self) -> np.ndarray:
        """H_I(0) of eq. (65) on plant ⊗ controller."""
        dp = 2**self.plant_qubits
        nu = self.ladder_basis()
        h = np.zeros((2 * dp, 2 * dp), dtype=complex)
        for k in range(dp - 1):
            # |ν^k, 1⟩⟨ν^{k+1}, 0| + h.c.
            h[2 * nu[k] + 1, 2 * nu[k + 1]] += self.gamma
            h[2 * nu[k + 1], 2 * nu[k] + 1] += self.gamma
        return h

    def jump_operators(self) -> list[np.ndarray]:
        dims = (2,) * self.num_qubits
        control = embed(math.sqrt(self.gamma) * _SIGMA_MINUS, [self.plant_qubits], dims)
        jumps = [control] if self.gamma > 0 else []
        if self.noise == "persistent":  # eq. (86), each ⊗ 1_C
            eye = np.eye(2)
            for op in (np.kron(_SIGMA_MINUS, eye), np.kron(eye, _Z), np.kron(_X, _SIGMA_MINUS)):
                jumps.append(embed(0.5 * op, [0, 1], dims))
        return jumps

    def initial_state(self) -> np.ndarray:
        dp = 2**self.plant_qubits
        if self.initial == "imperfect":  # eq. (88), typo fixed
            plant = np.diag([0.8, 0.1, 0.05, 0.05]).astype(complex)
            controller = np.diag([0.9, 0.1]).astype(complex)
            return np.kron(plant, controller)
        psi = np.zeros(2 * dp, dtype=complex)
        psi[2 * int(self.target, 2)] = 1.0
        return np.outer(psi, psi.conj())

    def open_system(self) -> OpenSystem:
        """σ̇ = −i[H_P⊗1 + H_I(t), σ] + Σ D[L]σ (eqs. 5–8), with the eq. (84) channel."""
        n = self.num_qubits
        dims = (2,) * n
        frame = self.frame()
        terms = _rotating_terms(frame, self.interaction())
        channels = []
        if self.transient_at is not None:
            for q in range(n):
                kraus = tuple(
                    embed(np.diag(v).astype(complex), [q], dims) for v in ([1, 0], [0, 1])
                )
                channels.append(InstantChannel(self.transient_at, kraus, name=f"dephase{q}"))
        return OpenSystem(
            dims=dims,
            hamiltonian=frame,
            time_dependent=terms,
            jump_operators=tuple(self.jump_operators()),
            channels=tuple(channels),
            initial_state=self.initial_state(),
            labels=(*(f"p{k + 1}" for k in range(self.plant_qubits)), "c"),
        )

    # -- figure of merit --------------------------------------------------------------------
    def desired_state(self, t: float) -> np.ndarray:
        """ρ_D(t) of eq. (2)."""
        values, vectors = np.linalg.eigh(self.plant_hamiltonian_matrix())
        phi0 = np.zeros(2**self.plant_qubits, dtype=complex)
        phi0[int(self.target, 2)] = 1
        psi = vectors @ (np.exp(-1j * values * t) * (vectors.conj().T @ phi0))
        return np.outer(psi, psi.conj())

    def plant_state(self, state: np.ndarray) -> np.ndarray:
        """tr_C σ for a state on plant ⊗ controller (model order)."""
        return _ptrace_last(np.asarray(state), 2**self.plant_qubits)

    # -- what the data flow asks (qcompile.protocols.open_system_flow) ------------------------
    @property
    def measured_subsystems(self) -> tuple[int, ...]:
        """The plant (subsystems 0..n−1); the controller is traced out."""
        return tuple(range(self.plant_qubits))

    def lowering_options(self, overrides: Mapping | None = None) -> dict:
        """:data:`DEFAULT_LOWERING` with ``overrides`` (a ``None`` value keeps the default)."""
        given = {k: v for k, v in dict(overrides or {}).items() if v is not None}
        return DEFAULT_LOWERING | given

    def estimate(self, times: Sequence[float], plant_states: Sequence[np.ndarray]) -> dict:
        """D(t) of eq. (85) at ``times`` from plant states."""
        return {"trace_distance": self.trace_distances(times, plant_states).tolist()}

    def trace_distances(
        self, times: Sequence[float], plant_states: Sequence[np.ndarray]
    ) -> np.ndarray:
        """D(t) of eq. (85) from plant states at ``times``."""
        return np.array(
            [
                trace_distance(r, self.desired_state(t))
                for t, r in zip(times, plant_states, strict=True)
            ]
        )

    def is_fig1(self) -> bool:
        """Whether the parameters are those of the paper's Fig. 1 (spec 002 §5a)."""
        return (
            self.gamma == 5
            and self.transient_at == 1.0
            and self.noise == "none"
            and self.initial == "ideal"
            and self.target == "00"
            and self.plant_hamiltonian.replace(" ", "") in ("XX", "1*XX", "1.0*XX")
        )

    def circuit(self):
        """The whole lowered evolution with the default lowering (``qcompile compile``)."""
        return lower_dynamics(
            self.open_system(), t_max=self.t_max, dt=self.dt, frame=self.frame(),
            **DEFAULT_LOWERING,
        ).circuit  # fmt: skip

    def sample_times(self) -> list[float]:
        """Reported times: multiples of ``sample_every`` (and t_a), as multiples of dt."""
        every = max(1, round(self.sample_every / self.dt))
        steps = round(self.t_max / self.dt)
        ticks = set(range(0, steps + 1, every)) | {steps}
        if self.transient_at is not None:
            ticks.add(round(self.transient_at / self.dt))
        return [round(k * self.dt, 12) for k in sorted(ticks)]


def plateau(times: Sequence[float], distances: Sequence[float]) -> float:
    """limsup of D: its maximum over the last period [t_max − π, t_max] of the π-periodic
    long-time orbit (spec 002 §6b); over the second half if t_max < 2π."""
    times = np.asarray(times)
    window = np.pi if times[-1] >= 2 * np.pi else times[-1] / 2
    return float(np.max(np.asarray(distances)[times >= times[-1] - window - 1e-12]))


def _pauli_support(matrix: np.ndarray) -> SparsePauliOp:
    return SparsePauliOp.from_operator(matrix, atol=1e-12).simplify(atol=1e-12)


def _rotating_terms(frame: np.ndarray, h0: np.ndarray) -> tuple[TimeDependentTerm, ...]:
    """U(t) h0 U(t)† = Σ_P c_P(t) P with U = e^{−i frame t}; the Paulis P span the nested
    commutators ad_frame^k(h0), so the expansion is exact for every t."""
    labels: set[str] = set()
    current = h0
    for _ in range(4 ** int(round(math.log2(h0.shape[0])))):
        new = {p.to_label() for p in _pauli_support(current).paulis}
        if new <= labels and labels:
            break
        labels |= new
        current = frame @ current - current @ frame
        if np.allclose(current, 0, atol=1e-12):
            break
    labels.discard("I" * int(round(math.log2(h0.shape[0]))))
    values, vectors = np.linalg.eigh(frame)
    dim = h0.shape[0]

    @lru_cache(maxsize=64)
    def rotated(t: float) -> np.ndarray:
        u = (vectors * np.exp(-1j * values * t)) @ vectors.conj().T
        return u @ h0 @ u.conj().T

    paulis = [SparsePauliOp(label).to_matrix() for label in sorted(labels)]
    transposed = np.array([p.T for p in paulis])

    @lru_cache(maxsize=64)
    def coefficients(t: float) -> np.ndarray:
        """Every c_P(t) = tr(P·R(t))/dim at once (a solver asks for all of them per t)."""
        return np.real(np.einsum("kij,ij->k", transposed, rotated(t))) / dim

    def coefficient_of(k: int):
        return lambda t: float(coefficients(float(t))[k])

    return tuple(TimeDependentTerm(p, coefficient_of(k)) for k, p in enumerate(paulis))


def _positive(name: str, value: float, allowed: str, *, zero_ok: bool = False) -> float:
    try:
        value = float(value)
    except (TypeError, ValueError):
        raise InvalidParameter(name, value, allowed) from None
    if not math.isfinite(value) or value < 0 or (value == 0 and not zero_ok):
        raise InvalidParameter(name, value, allowed)
    return value


def coherent_feedback(
    *,
    gamma: float = 5.0,
    t_max: float = 6.0,
    dt: float = 0.01,
    transient_at: float | None = None,
    noise: str = "none",
    initial: str | None = None,
    plant_hamiltonian: str = "XX",
    target: str = "00",
    sample_every: float | None = None,
) -> CoherentFeedback:
    """Validate the physical parameters and build the protocol (defaults: the paper's Fig. 1
    set-up without the transient; ``initial`` defaults to ``imperfect`` with persistent noise)."""
    gamma = _positive("gamma", gamma, "gamma >= 0 (a feedback strength)", zero_ok=True)
    t_max = _positive("t_max", t_max, "t_max > 0")
    dt = _positive("dt", dt, f"0 < dt <= t_max = {t_max:g}")
    if dt > t_max:
        raise InvalidParameter("dt", dt, f"0 < dt <= t_max = {t_max:g}")
    check_time_steps(t_max, dt)
    # the reference integrates jumps of rate gamma (and the plant at frequency ~1) over
    # t_max: spec 002's stiffest run, gamma = 160 to t = 40, is 6400 rate-times
    check_evolution_time("t_max", t_max, max(gamma, 1.0), "--t-max or --gamma",
                         limit=REFERENCE_RATE_TIMES)  # fmt: skip
    if abs(round(t_max / dt) * dt - t_max) > 1e-9 * max(1, t_max):
        raise InvalidParameter("dt", dt, f"a divisor of t_max = {t_max:g} (t_max/dt an integer)")
    if transient_at is not None:
        transient_at = float(transient_at)
        if (
            not (0 <= transient_at <= t_max)
            or abs(round(transient_at / dt) * dt - transient_at) > 1e-9
        ):
            raise InvalidParameter(
                "transient_at", transient_at, f"a multiple of dt = {dt:g} in [0, {t_max:g}]"
            )
    if noise not in ("none", "persistent"):
        raise InvalidParameter("noise", noise, "none or persistent")
    if initial is None:
        initial = "imperfect" if noise == "persistent" else "ideal"
    if initial not in ("ideal", "imperfect"):
        raise InvalidParameter("initial", initial, "ideal or imperfect")
    if not re.fullmatch(rf"[01]{{1,{MAX_PLANT_QUBITS}}}", str(target)):
        raise InvalidParameter(
            "target", target, f"a bit string of 1..{MAX_PLANT_QUBITS} plant qubits"
        )
    if (noise == "persistent" or initial == "imperfect") and len(target) != 2:
        raise InvalidParameter(
            "noise",
            noise,
            "persistent noise and the imperfect start (eqs. 86-88) need a two-qubit plant",
        )
    parse_pauli_sum(plant_hamiltonian, len(target))
    if sample_every is None:  # 0.1, or the multiple of dt nearest it (every step if dt > 0.1)
        steps = max(1, round(0.1 / dt))
        sample_every = 0.1 if abs(steps * dt - 0.1) <= 1e-9 else steps * dt
    sample_every = _positive("sample_every", sample_every, f"a multiple of dt = {dt:g}")
    if abs(round(sample_every / dt) * dt - sample_every) > 1e-9 or sample_every < dt:
        raise InvalidParameter("sample_every", sample_every, f"a multiple of dt = {dt:g}")
    return CoherentFeedback(
        gamma, t_max, dt, transient_at, noise, initial, plant_hamiltonian, target, sample_every
    )


def from_mapping(values) -> CoherentFeedback:
    return coherent_feedback(**dict(values))


#: This protocol's run (plugin interface): qcompile's one runner over the data flow above.
run = one_runner(__name__)


def check_options(protocols, backend, options: dict) -> dict:
    """The lowering options checked before anything runs (plugin interface)."""
    names = ("rule", "synthesis", "order", "collision")
    check_lowering({n: options[n] for n in names if options.get(n) is not None})
    return options


def render(results: list, console) -> None:
    """D(t) tables and plateaus (plugin interface):
    :mod:`qcompile.protocols.rendering.coherent_feedback`."""
    from qcompile.protocols.rendering.coherent_feedback import render

    render(results, console)


def sweep_summary(results: list) -> dict:
    """The JSON of a run over several γ: the plateau of each, beside the sweep."""
    from qcompile.protocols.rendering.coherent_feedback import plateaus

    return {"plateau": plateaus(results)}


def figure(result):
    """The run's figure (plugin interface): D(t), linear and logarithmic."""
    from qcompile.protocols.rendering.figures import trace_distance_figure

    return trace_distance_figure(result)
