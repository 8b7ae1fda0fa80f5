r"""One collision step of the bosonic Lindbladians, compiled through the oscillator encodings
(issue 8; spec 003 §8, spec 004 §2).

Each jump operator L gets the first-order dilation U = exp[−iτ(σ⁺⊗L + σ⁻⊗L†)], τ = √dt,
σ⁺ = |1⟩⟨0| on an ancilla in |0⟩ that is reset after every collision; its channel is
e^{dt𝒟[L]} + O(dt²), and a step of all collisions is e^{dt𝓛} + O(dt²) (R12). The Kraus pair
of a compiled collision is K_j = ⟨j|U|0⟩ (:func:`collision_kraus`).

**GKP on the position grid.** L_θ = 𝒜e^{iηq_θ}(1 − εηp_θ) − 1 = CD_θ-conjugated form: with
Y_θ = 𝒜(1 + κεη²/2) − 𝒜εη(c p − s q) (c = cos θ, s = sin θ) and the conditional displacement
CD_θ = e^{−iηq_θσ_z/2} = e^{−iηcqσ_z/2}e^{−iηspσ_z/2} (the BCH phase is global),
CD_θ(σ_x⊗Y_θ)CD_θ† = σ⁺⊗(L_θ + 1) + h.c., since e^{iηq_θ/2}Y_θe^{iηq_θ/2} = 𝒜e^{iηq_θ}
(1 − εηp_θ). So the collision is a Strang splitting of the −1 (an ancilla RX) around
CD_θ† · e^{−iτσ_x⊗Y_θ} · CD_θ: RZZ ladders for the q-parts, F†·(RZZ ladder)·F for the
p-parts, consecutive p-parts in one Fourier sandwich — ≈ 2m² + 4m CX for θ = 0 (176 at m = 8
after transpilation, spec §8 estimates ≈ 190).
The grid operator the circuit implements is :func:`grid_dissipator` (the same factors as
matrices); its truncation against the continuum is the grid window (``PositionGrid``).

**Cat in Fock-binary.** λ(a² + a†²) + κ₂𝒟[a²] = κ₂𝒟[a² − α²] with α² = −2iλ/κ₂ exactly (the
drive is the displacement of the jump), so the step is the collisions √κ₂(a² − α²) (a ladder
collision between two halves of an ancilla rotation by α²), √κ₁a and √κ_d N (a diagonal).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from qiskit.circuit import QuantumCircuit
from qiskit.quantum_info import Operator

from qcompile.errors import InvalidParameter
from qcompile.lowering.oscillator import (
    FockBinary,
    PositionGrid,
    conditional_diagonal,
    conditional_position,
    diagonal_collision,
    ladder_collision,
    momentum_conjugated,
)
from qcompile.lowering.report import LoweringReport

__all__ = [
    "Collision",
    "auto_dt",
    "default_step",
    "grid_dissipator",
    "gkp_collisions",
    "gkp_grid_jumps",
    "cat_collisions",
    "cat_jumps",
    "check_step_size",
    "step_circuit",
    "lower_step",
    "collision_kraus",
    "apply_step",
    "iterate_step",
]


@dataclass(frozen=True)
class Collision:
    """One collision: its circuit on (mode qubits…, ancilla) and the jump it dilates."""

    label: str
    circuit: QuantumCircuit
    jump: np.ndarray


def _clean(x: float) -> float:
    return 0.0 if abs(x) < 1e-12 else x


def grid_dissipator(
    grid: PositionGrid, theta: float, eta: float, epsilon: float, prefactor: float = 1.0
) -> np.ndarray:
    """L_θ on the grid, as the circuit builds it: e^{iηcq/2}e^{iηsp/2} Y_θ e^{iηsp/2}e^{iηcq/2}
    − 1 (equal to 𝒜e^{iηq_θ}(1 − εηp_θ) − 1 wherever the grid's [q, p] = iκ holds)."""
    c, s = _clean(math.cos(theta)), _clean(math.sin(theta))
    q, p = grid.position(), grid.momentum()
    eye = np.eye(grid.points)
    y = prefactor * (
        (1 + grid.kappa * epsilon * eta**2 / 2) * eye - epsilon * eta * (c * p - s * q)
    )
    outer = grid.function_of_position(lambda x: np.exp(0.5j * eta * c * x))
    inner = grid.function_of_momentum(lambda x: np.exp(0.5j * eta * s * x))
    return outer @ inner @ y @ inner @ outer - eye


def _emit(circuit: QuantumCircuit, grid: PositionGrid, wires, ancilla, terms) -> None:
    """Terms in time order: ("q"|"p", "z"|"x", θ) is e^{−iθ O⊗P_a}; ("rx", φ) an ancilla RX.
    Runs of p-terms (with ancilla gates between them) share one Fourier sandwich."""
    i = 0
    while i < len(terms):
        kind = terms[i][0]
        if kind == "rx":
            circuit.rx(terms[i][1], ancilla)
            i += 1
            continue
        if kind == "q":
            _, basis, theta = terms[i]
            if basis == "x":
                circuit.h(ancilla)
            conditional_position(circuit, grid, wires, ancilla, theta)
            if basis == "x":
                circuit.h(ancilla)
            i += 1
            continue
        j = i
        while j < len(terms) and terms[j][0] in ("p", "rx"):
            j += 1
        while terms[j - 1][0] == "rx":  # trailing ancilla gates stay outside
            j -= 1
        run = terms[i:j]

        def body(circ, momentum_wires, run=run):
            for term in run:
                if term[0] == "rx":
                    circ.rx(term[1], ancilla)
                    continue
                _, basis, theta = term
                if basis == "x":
                    circ.h(ancilla)
                conditional_diagonal(circ, momentum_wires, ancilla, grid.momenta(), theta)
                if basis == "x":
                    circ.h(ancilla)

        momentum_conjugated(circuit, grid, wires, body)
        i = j


def _gkp_terms(theta: float, eta: float, epsilon: float, prefactor: float, kappa: int, tau):
    c, s = _clean(math.cos(theta)), _clean(math.sin(theta))
    y0 = prefactor * (1 + kappa * epsilon * eta**2 / 2)
    g = tau * prefactor * epsilon * eta
    terms = [
        ("rx", -tau),  # e^{+iτσ_x/2}: half of the −1 term
        ("q", "z", -eta * c / 2),  # CD_θ†
        ("p", "z", -eta * s / 2),
        ("rx", 2 * tau * y0),  # e^{−iτ y₀ σ_x}
        ("p", "x", -g * c / 2),  # e^{+iτ𝒜εη c p⊗σ_x}, split around the q-part
        ("q", "x", g * s),
        ("p", "x", -g * c / 2),
        ("p", "z", eta * s / 2),  # CD_θ
        ("q", "z", eta * c / 2),
        ("rx", -tau),
    ]
    return [t for t in terms if t[-1] != 0]


def _collision_circuit(qubits: int, name: str) -> QuantumCircuit:
    return QuantumCircuit(qubits + 1, name=name)


def gkp_grid_jumps(protocol, grid: PositionGrid) -> list[tuple[str, np.ndarray]]:
    """The protocol's jump operators on the grid (dissipators, then quadrature noise)."""
    _check_grid_noise(protocol)
    n = 4 if protocol.lattice == "square" else 6
    jumps = [
        (
            f"L{k}",
            grid_dissipator(
                grid, 2 * math.pi * k / n, protocol.eta, protocol.epsilon, protocol.prefactor
            ),
        )  # fmt: skip
        for k in range(n)
    ]
    if protocol.noise == "quadrature" and protocol.sigma > 0:
        root = math.sqrt(protocol.sigma)
        jumps += [("sigma q", root * grid.position()), ("sigma p", root * grid.momentum())]
    return jumps


def _check_grid_noise(protocol) -> None:
    if protocol.noise not in ("none", "quadrature"):
        raise InvalidParameter(
            "noise", protocol.noise, "none or quadrature for grid circuits (the other noises "
            "of Fig. 1 are simulated by the reference backend only)",
        )  # fmt: skip


def gkp_collisions(protocol, grid: PositionGrid, dt: float) -> list[Collision]:
    """The collisions of one step of the GKP Lindbladian (spec 003 eq. 6, 29) on the grid."""
    _check_dt(dt)
    if grid.kappa != protocol.kappa:
        raise InvalidParameter("grid.kappa", grid.kappa, f"the protocol's kappa {protocol.kappa}")
    m, tau = grid.qubits, math.sqrt(dt)
    wires = list(range(m))
    jumps = dict(gkp_grid_jumps(protocol, grid))
    n = 4 if protocol.lattice == "square" else 6
    out = []
    for k in range(n):
        circ = _collision_circuit(m, f"L{k}")
        terms = _gkp_terms(2 * math.pi * k / n, protocol.eta, protocol.epsilon,
                           protocol.prefactor, protocol.kappa, tau)  # fmt: skip
        _emit(circ, grid, wires, m, terms)
        out.append(Collision(f"L{k}", circ, jumps[f"L{k}"]))
    if protocol.noise == "quadrature" and protocol.sigma > 0:
        root = math.sqrt(protocol.sigma) * tau
        for label, kind in (("sigma q", "q"), ("sigma p", "p")):
            circ = _collision_circuit(m, label)
            _emit(circ, grid, wires, m, [(kind, "x", root)])
            out.append(Collision(label, circ, jumps[label]))
    return out


def cat_jumps(protocol, fock: FockBinary) -> list[tuple[str, np.ndarray]]:
    """√κ₂(a² − α²), √κ₁a, √κ_d N on the register (H is absorbed in the first, exactly)."""
    alpha2 = -2j * protocol.photons  # α² = −2iλ/κ₂ with λ = Nκ₂
    eye = fock.pad(np.eye(fock.cutoff))
    jumps = [("two-photon", math.sqrt(protocol.kappa2) * (fock.lowering(2) - alpha2 * eye))]
    if protocol.kappa1 > 0:
        jumps.append(("loss", math.sqrt(protocol.kappa1) * fock.lowering(1)))
    if protocol.kappa_d > 0:
        jumps.append(("dephasing", math.sqrt(protocol.kappa_d) * fock.number()))
    return jumps


def cat_collisions(protocol, fock: FockBinary, dt: float) -> list[Collision]:
    """The collisions of one step of the cat Lindbladian (spec 004 §2) in Fock-binary."""
    _check_dt(dt)
    m = fock.qubits
    wires = list(range(m))
    jumps = dict(cat_jumps(protocol, fock))
    out = []
    tau = math.sqrt(protocol.kappa2 * dt)
    alpha2 = -2j * protocol.photons
    circ = _collision_circuit(m, "two-photon")
    # exp[−iτ(σ⁺⊗(a² − α²) + h.c.)]: the −α² part is e^{+iτ(Re α² X + Im α² Y)} on the
    # ancilla, split in halves around the ladder collision
    circ.r(-tau * abs(alpha2), np.angle(alpha2), m)
    ladder_collision(circ, fock, wires, m, 2, tau)
    circ.r(-tau * abs(alpha2), np.angle(alpha2), m)
    out.append(Collision("two-photon", circ, jumps["two-photon"]))
    if protocol.kappa1 > 0:
        circ = _collision_circuit(m, "loss")
        ladder_collision(circ, fock, wires, m, 1, math.sqrt(protocol.kappa1 * dt))
        out.append(Collision("loss", circ, jumps["loss"]))
    if protocol.kappa_d > 0:
        circ = _collision_circuit(m, "dephasing")
        diagonal_collision(circ, wires, m, np.diag(fock.number()).real,
                           math.sqrt(protocol.kappa_d * dt))  # fmt: skip
        out.append(Collision("dephasing", circ, jumps["dephasing"]))
    return out


def auto_dt(collisions: Sequence[Collision], target: float = 0.2, largest: float = 0.01) -> float:
    """dt with dt·max‖L‖² ≈ ``target`` (at most ``largest``), two significant digits."""
    stiffness = max(np.linalg.norm(c.jump, 2) ** 2 for c in collisions)
    dt = min(largest, target / stiffness)
    return float(f"{dt:.2g}")


def default_step(build: Callable[[float], list[Collision]]) -> tuple[float, list[Collision]]:
    """``(dt, collisions)`` of a step built by ``build(dt)`` at :func:`auto_dt`."""
    dt = auto_dt(build(1e-3))
    return dt, build(dt)


def _check_dt(dt: float) -> None:
    if not (isinstance(dt, (int, float)) and 0 < dt <= 0.1):
        raise InvalidParameter("dt", dt, "0 < dt <= 0.1 (the dilation is first order in dt)")


def check_step_size(collisions: Sequence[Collision], dt: float) -> float:
    """dt·max‖L‖² (the dilation's expansion parameter); refuses dt when it exceeds 1."""
    stiffness = max(np.linalg.norm(c.jump, 2) ** 2 for c in collisions)
    if dt * stiffness > 1:
        raise InvalidParameter(
            "dt", dt, f"dt <= {1 / stiffness:.2g} for this encoding (dt·max|L|^2 <= 1; "
            f"max|L|^2 = {stiffness:.3g})",
        )  # fmt: skip
    return float(dt * stiffness)


def step_circuit(collisions: Sequence[Collision], steps: int = 1) -> QuantumCircuit:
    """``steps`` steps of the collisions, the ancilla (last qubit) reset after each."""
    width = collisions[0].circuit.num_qubits
    circuit = QuantumCircuit(width, name="step")
    for _ in range(steps):
        for collision in collisions:
            circuit.compose(collision.circuit, range(width), inplace=True)
            circuit.reset(width - 1)
    return circuit


def lower_step(collisions: Sequence[Collision], dt: float) -> tuple[QuantumCircuit, LoweringReport]:
    """One step as a circuit (ancilla reset after each collision) and its ``LoweringReport``
    (CX count and depth after Qiskit's level-1 preset in the cx/rz/sx/x basis)."""
    from qiskit.transpiler import generate_preset_pass_manager

    from qcompile.metrics import circuit_metrics

    step = step_circuit(collisions)
    basis = ["cx", "rz", "sx", "x", "reset"]
    metrics = circuit_metrics(
        generate_preset_pass_manager(optimization_level=1, basis_gates=basis).run(step)
    )
    stiffness = check_step_size(collisions, dt)
    report = LoweringReport(
        system_qubits=step.num_qubits - 1, ancillas=1, steps=1, dt=dt,
        two_qubit_gates=metrics["two_qubit_gates"], depth=metrics["depth"],
        error_bound=stiffness**2,
        method={"dilation": "exp[-i sqrt(dt)(s+ L + h.c.)], ancilla reset",
                "collisions": [c.label for c in collisions]},
        notes=("error_bound is the worst-case scale (dt·max|L|^2)^2 of the one-step channel "
               "error over the whole encoded space (grid edges included), not a proven bound; "
               "on the states that matter it is far smaller and is measured against exp(dt L) "
               "(R12, observables.step_error)",),
    )  # fmt: skip
    return step, report


def collision_kraus(unitary: np.ndarray | QuantumCircuit) -> tuple[np.ndarray, np.ndarray]:
    """K₀ = ⟨0|U|0⟩, K₁ = ⟨1|U|0⟩ on the mode (ancilla = the last, most significant qubit)."""
    if isinstance(unitary, QuantumCircuit):
        unitary = Operator(unitary).data
    dim = unitary.shape[0] // 2
    u = np.asarray(unitary).reshape(2, dim, 2, dim)
    return u[0, :, 0, :].copy(), u[1, :, 0, :].copy()


def apply_step(kraus: Sequence[tuple[np.ndarray, np.ndarray]], rho: np.ndarray) -> np.ndarray:
    """One step: the collisions' channels in order."""
    for k0, k1 in kraus:
        rho = k0 @ rho @ k0.conj().T + k1 @ rho @ k1.conj().T
    return rho


def iterate_step(
    kraus: Sequence[tuple[np.ndarray, np.ndarray]],
    rho0: np.ndarray,
    steps: int,
    observables: Sequence[np.ndarray],
    every: int = 1,
    progress: Callable[[int, int], None] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Iterate the step channel; Tr(O ρ) every ``every`` steps: (step indices, values)."""
    rho = np.asarray(rho0, complex)
    marks, values = [0], [[np.trace(o @ rho).real for o in observables]]
    for n in range(1, steps + 1):
        rho = apply_step(kraus, rho)
        if n % every == 0 or n == steps:
            marks.append(n)
            values.append([np.trace(o @ rho).real for o in observables])
            if progress:
                progress(n, steps)
    return np.array(marks), np.array(values).T
