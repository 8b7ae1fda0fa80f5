r"""Lower an :class:`~qcompile.model.OpenSystem` to a circuit of time steps.

Step k (t_k = kδt → t_{k+1}) is: the Hamiltonian part, then one collision per jump operator
(Lie splitting; with ``order=2`` the collisions are split into half steps around the
Hamiltonian part, Strang), then any instantaneous channel scheduled at t_{k+1}.

Hamiltonian part, by ``rule`` (where the coefficients c_j(t) are sampled):

* ``left`` / ``midpoint`` / ``end``: H(s) at s = t_k, t_k + δt/2, t_{k+1};
* ``rotating``: for H(t) = F + U_F(t) G U_F(t)†, U_F(t) = e^{−iFt} (spec 002 eq. 66 with
  F = H_P ⊗ 1): e^{−iFδt} followed by U_F(t_{k+1}) e^{−iGδt} U_F(t_{k+1})†. This is the
  end-point rule with the interaction written in the frame, so e^{−iGδt} is the same gate in
  every step; when the dissipators commute with F, the circuit's fixed point is exact. This
  is what spec 002 §7 calls the *end-point rule* (plant step first, then H_I at the time the
  plant has reached); ``end`` here samples an unsplit H(t) at t_{k+1} and is first order.

and by ``synthesis``: ``trotter`` (Pauli product formula of ``order`` 1 or 2, one
``PauliEvolutionGate`` per term, group by group; qcompile's passes merge commuting ones and
synthesize them, see
:mod:`qcompile.lowering.trotter`) or ``exact`` (one dense unitary per step, for few qubits).
``collision``: ``exact``, ``dilation`` (see :mod:`qcompile.lowering.collision`) or ``channel``
(the whole step channel e^{δt𝓛(s)} as one Stinespring unitary; small systems only).

Circuit qubit q is subsystem n−1−q of the model (little-endian); ancillas follow the system.
``checkpoints`` maps a time to the number of circuit instructions that reach it, so a prefix
of the circuit is the evolution up to that time.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import scipy.linalg as sla
from qiskit.circuit import QuantumCircuit, QuantumRegister
from qiskit.circuit.library import PauliEvolutionGate, StatePreparation, UnitaryGate
from qiskit.quantum_info import SparsePauliOp
from qiskit.transpiler import generate_preset_pass_manager

from qcompile.errors import InvalidParameter, ResourceLimit
from qcompile.lowering.collision import (
    channel_circuit,
    dissipator_superoperator,
    jump_collision,
    kraus_from_superoperator,
    restrict,
    support,
)
from qcompile.lowering.report import LoweringReport
from qcompile.lowering.trotter import (
    commuting_groups,
    pauli_terms,
    splitting_error_bound,
    trotter_step,
)
from qcompile.metrics import circuit_metrics
from qcompile.model import OpenSystem
from qcompile.resources import check_time_steps

__all__ = [
    "LoweredDynamics",
    "lower_dynamics",
    "split_lowering_options",
    "RULES",
    "SYNTHESES",
    "COLLISIONS",
]

RULES = ("left", "midpoint", "end", "rotating")
SYNTHESES = ("trotter", "exact")
COLLISIONS = ("exact", "dilation", "channel")
MAX_EXACT_QUBITS = 5


@dataclass
class LoweredDynamics:
    """A lowered open system: the circuit, where each checkpoint time ends, and the report."""

    circuit: QuantumCircuit
    checkpoints: dict[float, int]
    report: LoweringReport
    system_qubits: tuple[int, ...]

    #: What every prefix ends with after the checkpoint: nothing (the circuit up to it).
    readout = None

    def prefix(self, time: float) -> QuantumCircuit:
        """The circuit up to ``time`` (a checkpoint)."""
        end = self.checkpoints[time]
        qc = self.circuit.copy_empty_like(name=f"{self.circuit.name}@t={time:g}")
        for inst in self.circuit.data[:end]:
            qc.append(inst)
        return qc


def _check(
    system: OpenSystem,
    t_max: float,
    dt: float,
    order: int,
    rule: str,
    synthesis: str,
    collision: str,
    ancillas: int,
) -> int:
    if any(d != 2 for d in system.dims):
        raise InvalidParameter("dims", system.dims, "qubit subsystems only (dimension 2 each)")
    if not (math.isfinite(t_max) and t_max > 0):
        raise InvalidParameter("t_max", t_max, "a finite time > 0")
    if not (math.isfinite(dt) and 0 < dt <= t_max):
        raise InvalidParameter("dt", dt, f"0 < dt <= t_max = {t_max:g}")
    steps = check_time_steps(t_max, dt)
    if abs(steps * dt - t_max) > 1e-9 * max(1.0, t_max):
        raise InvalidParameter("dt", dt, f"a divisor of t_max = {t_max:g} (t_max/dt an integer)")
    if order not in (1, 2):
        raise InvalidParameter("order", order, "1 or 2")
    if rule not in RULES:
        raise InvalidParameter("rule", rule, "one of " + ", ".join(RULES))
    if synthesis not in SYNTHESES:
        raise InvalidParameter("synthesis", synthesis, "one of " + ", ".join(SYNTHESES))
    if collision not in COLLISIONS:
        raise InvalidParameter("collision", collision, "one of " + ", ".join(COLLISIONS))
    if isinstance(ancillas, bool) or int(ancillas) != ancillas or ancillas < 1:
        raise InvalidParameter("ancillas", ancillas, "an integer >= 1")
    n = len(system.dims)
    if (synthesis == "exact" or collision == "channel") and n > MAX_EXACT_QUBITS:
        raise ResourceLimit(
            f"exact synthesis of a {n}-qubit step; at most {MAX_EXACT_QUBITS} qubits"
        )
    for channel in system.channels:
        k = channel.time / dt
        if channel.time <= t_max and abs(k - round(k)) > 1e-9:
            raise InvalidParameter("dt", dt, f"a divisor of the channel time {channel.time:g}")
    return steps


def split_lowering_options(options: dict) -> tuple[dict, dict]:
    """``(lowering, rest)``: a ``lowering`` mapping merged with flat ``rule``, ``synthesis``,
    ``order``, ``collision`` options (``None`` = not given; dropped, like a ``None``
    ``device_every``), and the other options as they are."""
    rest = dict(options)
    lowering = dict(rest.pop("lowering", None) or {})
    for name in ("rule", "synthesis", "order", "collision"):
        value = rest.pop(name, None)
        if value is not None:
            lowering[name] = value
    if rest.get("device_every", 0) is None:
        rest.pop("device_every")
    return lowering, rest


def _sample_time(rule: str, t: float, dt: float) -> float:
    return {"left": t, "midpoint": t + dt / 2, "end": t + dt, "rotating": t + dt}[rule]


class _HamiltonianSteps:
    """Builds e^{−iH(s)δt} for each step, by product formula or exactly."""

    def __init__(self, system: OpenSystem, dt: float, order: int, synthesis: str) -> None:
        self.system, self.dt, self.order, self.synthesis = system, dt, order, synthesis
        self.n = len(system.dims)
        # Pauli expansions of the static part and each time-dependent term
        self.static = pauli_terms(system.hamiltonian) if system.hamiltonian is not None else None
        self.terms = [pauli_terms(t.operator) for t in system.time_dependent]
        labels = set()
        for op in [self.static, *self.terms]:
            if op is not None:
                labels.update(p.to_label() for p in op.paulis)
        labels.discard("I" * self.n)
        self.labels = sorted(labels)
        self.groups = commuting_groups(self.labels) if self.labels else []

    def weights(self, s: float) -> dict[str, float]:
        total = {label: 0.0 for label in self.labels}
        parts = [(self.static, 1.0)] if self.static is not None else []
        parts += [
            (op, float(np.real(t.coefficient(s))))
            for op, t in zip(self.terms, self.system.time_dependent, strict=True)
        ]
        for op, c in parts:
            for pauli, w in zip(op.paulis, op.coeffs.real, strict=True):
                label = pauli.to_label()
                if label in total:
                    total[label] += c * w
        return total

    def append(self, qc: QuantumCircuit, s: float, qubits: Sequence[int]) -> float:
        """Append e^{−iH(s)δt}; return the splitting bound of this step."""
        if not self.labels:
            return 0.0
        weights = self.weights(s)
        if self.synthesis == "exact":
            op = SparsePauliOp.from_list(
                [(k, v) for k, v in weights.items()] or [("I" * self.n, 0.0)]
            )
            qc.append(
                UnitaryGate(
                    sla.expm(-1j * self.dt * op.to_matrix()), label="U(dt)", check_input=False
                ),
                qubits,
            )
            return 0.0
        step = trotter_step(
            self.labels, [weights[label] for label in self.labels], self.dt, self.n, self.order,
            self.groups,
        )  # fmt: skip
        qc.compose(step, qubits, inplace=True)
        groups = self.groups
        matrices = [
            SparsePauliOp.from_list(
                [(self.labels[j], weights[self.labels[j]]) for j in g]
            ).to_matrix()
            for g in groups
        ]
        return splitting_error_bound(matrices, self.dt, self.order) if len(groups) > 1 else 0.0


def lower_dynamics(
    system: OpenSystem,
    *,
    t_max: float,
    dt: float,
    order: int = 1,
    rule: str = "end",
    synthesis: str = "trotter",
    collision: str = "exact",
    ancillas: int = 1,
    frame: np.ndarray | None = None,
    checkpoints: Sequence[float] = (),
) -> LoweredDynamics:
    """Lower ``system`` on [0, ``t_max``] in steps of ``dt`` (see the module docstring).

    ``frame`` is F for ``rule="rotating"``; ``checkpoints`` are times (multiples of ``dt``)
    at which the state will be read.
    """
    steps = _check(system, t_max, dt, order, rule, synthesis, collision, ancillas)
    n = len(system.dims)
    for t in checkpoints:
        k = t / dt
        if not (0 <= t <= t_max + 1e-12) or abs(k - round(k)) > 1e-9:
            raise InvalidParameter("checkpoints", t, f"multiples of dt = {dt:g} in [0, {t_max:g}]")

    # dissipators on their supports, and how many ancillas each collision needs
    jumps = []
    for jump in system.jump_operators:
        where = support(jump, n)
        if not where:
            continue
        if collision != "channel":
            method = "dilation" if collision == "dilation" else "exact"
            jumps.append((where, jump_collision(restrict(jump, where, n), dt / order, method)))
    channel_blocks = {}
    for channel in system.channels:
        where = sorted(set().union(*(support(op, n) for op in channel.kraus)))
        if where and channel.time <= t_max:
            block = channel_circuit(
                [restrict(op, where, n) for op in channel.kraus], label=channel.name
            )
            channel_blocks.setdefault(round(channel.time / dt), []).append((where, block))

    hamiltonian = system if rule != "rotating" else _rotating_parts(system, frame)
    if collision == "channel":
        step_channel = _StepChannel(system, dt)
        need = step_channel.max_ancillas
    else:
        need = max([b.num_qubits - len(w) for w, b in jumps] + [0])
    preparation = _preparation(system.initial_density_matrix(), n)
    blocks = [b for bl in channel_blocks.values() for b in bl] + preparation
    need = max([need] + [b.num_qubits - len(w) for w, b in blocks])
    width = max(ancillas, need)
    sys_reg = QuantumRegister(n, "q")
    regs = [sys_reg] + ([QuantumRegister(width, "anc")] if width else [])
    qc = QuantumCircuit(*regs, name="dynamics")
    system_qubits = list(range(n))
    ancilla_qubits = list(range(n, n + width))
    if collision != "channel":
        h_steps = _HamiltonianSteps(
            hamiltonian if rule != "rotating" else hamiltonian[1], dt, order, synthesis
        )
        frame_steps = _frame_gates(hamiltonian[0]) if rule == "rotating" else None
    bound = 0.0
    next_ancilla = 0

    def collide(block_list):
        nonlocal next_ancilla
        for where, block in block_list:
            extra = block.num_qubits - len(where)
            anc = [ancilla_qubits[(next_ancilla + i) % width] for i in range(extra)]
            next_ancilla = (next_ancilla + extra) % width
            qc.compose(block, list(where) + anc, inplace=True)

    collide(preparation)
    marks = {0: len(qc.data)}
    for k in range(steps):
        t = k * dt
        s = _sample_time(rule, t, dt)
        if collision == "channel":
            step_channel.append(qc, s, system_qubits, ancilla_qubits)
        else:
            if order == 2:
                collide(jumps)
            if rule == "rotating":
                evolve_frame, conjugate = frame_steps
                evolve_frame(qc, dt, system_qubits)
                conjugate(qc, -(t + dt), system_qubits)
                bound += h_steps.append(qc, 0.0, system_qubits)
                conjugate(qc, t + dt, system_qubits)
            else:
                bound += h_steps.append(qc, s, system_qubits)
            collide(jumps)
        collide(channel_blocks.get(k + 1, []))
        marks[k + 1] = len(qc.data)

    step = qc.copy_empty_like()
    for inst in qc.data[marks[0] : marks[1]]:
        step.append(inst)
    per_step = circuit_metrics(
        generate_preset_pass_manager(
            optimization_level=1, basis_gates=["cx", "rz", "sx", "x", "reset"]
        ).run(step)
    )
    metrics = {
        "two_qubit_gates": per_step["two_qubit_gates"] * steps,
        "depth": per_step["depth"] * steps,
    }
    report = LoweringReport(
        system_qubits=n,
        ancillas=width,
        steps=steps,
        dt=dt,
        two_qubit_gates=metrics["two_qubit_gates"],
        depth=metrics["depth"],
        error_bound=bound,
        method={"rule": rule, "order": order, "synthesis": synthesis, "collision": collision},
        notes=(
            "error_bound covers the Hamiltonian product-formula splitting only; coefficient "
            "sampling, Hamiltonian/dissipator splitting and dilation errors are O(dt) or O(dt^2) "
            "and are measured against the reference, not bounded",
        ),
    )
    checkpoint_index = {float(t): marks[round(t / dt)] for t in checkpoints}
    return LoweredDynamics(qc, checkpoint_index, report, tuple(system_qubits))


def _preparation(rho: np.ndarray, n: int) -> list[tuple[list[int], QuantumCircuit]]:
    """Blocks preparing ρ = V diag(p) V† from |0…0⟩ with one reusable ancilla.

    Σ_k √p_k |k⟩ is prepared, every qubit is dephased by a collision (cx onto an ancilla,
    reset), which leaves Σ_k p_k |k⟩⟨k|, and V rotates to the eigenbasis. A pure state is one
    state preparation.
    """
    values, vectors = np.linalg.eigh(rho)
    values = np.clip(values, 0, None)
    d = rho.shape[0]
    everything = list(range(n))
    if np.sum(values > 1e-12) == 1:
        psi = vectors[:, int(np.argmax(values))]
        if np.allclose(np.abs(psi), np.eye(d)[0]):
            return []
        block = QuantumCircuit(n, name="prepare")
        block.append(StatePreparation(psi), everything)
        return [(everything, block)]
    if np.allclose(rho, np.diag(np.diag(rho)), atol=1e-12):
        values, vectors = np.real(np.diag(rho)).clip(0, None), np.eye(d)
    blocks = []
    amplitudes = np.sqrt(values / values.sum())
    prepare = QuantumCircuit(n, name="prepare")
    prepare.append(StatePreparation(amplitudes), everything)
    blocks.append((everything, prepare))
    dephase = QuantumCircuit(2, name="dephase")
    dephase.cx(0, 1)
    dephase.reset(1)
    blocks.extend(([q], dephase) for q in range(n))
    if not np.allclose(vectors, np.eye(d)):
        rotate = QuantumCircuit(n, name="eigenbasis")
        rotate.append(UnitaryGate(vectors, check_input=False), everything)
        blocks.append((everything, rotate))
    return blocks


def _rotating_parts(system: OpenSystem, frame: np.ndarray | None) -> tuple[np.ndarray, OpenSystem]:
    """(F, system with H = G) for H(t) = F + U_F(t) G U_F(t)†; checks the assumption."""
    if frame is None:
        raise InvalidParameter(
            "frame", None, "the frame Hamiltonian F, required by rule='rotating'"
        )
    g = system.hamiltonian_at(0.0) - frame
    for t in (0.37, 1.1, 2.9):
        u = sla.expm(-1j * frame * t)
        if not np.allclose(system.hamiltonian_at(t), frame + u @ g @ u.conj().T, atol=1e-9):
            raise InvalidParameter(
                "rule", "rotating", "a Hamiltonian of the form F + U_F(t) G U_F(t)† (check frame)"
            )
    static = OpenSystem(dims=system.dims, hamiltonian=g)
    return frame, static


def _frame_gates(frame: np.ndarray):
    """(evolve(qc, τ, qubits): e^{−iFτ}, the same for the conjugations), exact gates.

    Commuting Pauli terms (e.g. F = XX ⊗ 1) give a Pauli evolution gate, synthesised as
    rotations; otherwise a dense unitary.
    """
    op = pauli_terms(frame)
    commuting = len(commuting_groups([p.to_label() for p in op.paulis])) <= 1

    def evolve(qc: QuantumCircuit, tau: float, qubits) -> None:
        if commuting:
            qc.append(PauliEvolutionGate(op, time=tau), qubits)
        else:
            qc.append(
                UnitaryGate(sla.expm(-1j * tau * op.to_matrix()), label="U_F", check_input=False),
                qubits,
            )

    return evolve, evolve


class _StepChannel:
    """The whole step channel e^{δt𝓛(s)} as one Stinespring unitary (small systems)."""

    def __init__(self, system: OpenSystem, dt: float) -> None:
        self.system, self.dt = system, dt
        d = system.dimension
        self.max_ancillas = math.ceil(math.log2(d * d))
        eye = np.eye(d)
        self.dissipator = sum(
            (dissipator_superoperator(j) for j in system.jump_operators), np.zeros((d * d, d * d))
        )
        self.eye = eye

    def append(self, qc: QuantumCircuit, s: float, system_qubits, ancilla_qubits) -> None:
        h = self.system.hamiltonian_at(s)
        generator = -1j * (np.kron(self.eye, h) - np.kron(h.T, self.eye)) + self.dissipator
        block = channel_circuit(
            kraus_from_superoperator(sla.expm(self.dt * generator)), label="step"
        )
        extra = block.num_qubits - len(system_qubits)
        qc.compose(block, list(system_qubits) + list(ancilla_qubits[:extra]), inplace=True)
