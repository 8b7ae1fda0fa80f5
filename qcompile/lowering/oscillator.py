r"""A truncated oscillator encoded in qubits, and structured circuits for its operators
(issue 8; spec 003 §8).

Two encodings, Qiskit little-endian (register index j = Σ_b 2^b j_b, bit b on ``wires[b]``):

* :class:`FockBinary` — |n⟩ ↦ |j = n⟩ on m = ⌈log₂ d⌉ qubits; levels d … 2^m − 1 are padding
  that every encoded operator leaves at zero weight. Number-diagonal operators (e^{iθN},
  Kerr e^{iθN²}, parity e^{iπN}) are phase polynomials in the bits; aᵏ = Sₖ·diag(wₖ) with the
  cyclic shift Sₖ|n⟩ = |n − k⟩ (a Draper adder: QFT, phases, QFT†) and weights wₖ(n) that
  vanish on n < k and on the padding.
* :class:`PositionGrid` — 2^m points x_j = (j − c)Δq, c = (2^m − 1)/2, a discrete-variable
  representation with q = diag(x_j) = −(Δq/2) Σ_b 2^b Z_b. Momentum is reached by the centred
  Fourier transform F_kj = e^{−i p_k x_j/κ}/√M (p_k = (k − c)Δp, ΔqΔp = 2πκ/M), which is the
  inverse QFT between single-qubit phases; p = F† diag(p_k) F. With Δq = Δp = √(2πκ/M) (the
  default) F² is the parity x → −x exactly, so F† is the rotation R_{π/2} of the grid.

The truncation error of an encoded state is the probability the encoding cannot hold: the
Fock weight at n ≥ d, or the weight of ψ(q) outside the grid's window |q| ≤ MΔq/2 plus the
weight of ψ̃(p) outside |p| ≤ MΔp/2.

Every diagonal e^{i f(j)} (on the mode, or on the mode and an ancilla Z) is emitted from the
Walsh expansion f = Σ_S a_S Z_S: one RZ or RZZ per term of weight ≤ 2 and a CX parity ladder
otherwise, or Qiskit's ``DiagonalGate`` when the spectrum is dense and that is cheaper. So
e^{iηq} on the grid is m RZ gates, the conditional displacement e^{−iθq⊗Z} is m RZZ gates, and
e^{−iθp⊗Z} is F†·(m RZZ)·F with the QFTs synthesised without swaps (the bit reversal becomes
a relabelling of wires).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from qiskit.circuit import QuantumCircuit
from qiskit.circuit.library import DiagonalGate, UCRZGate
from qiskit.synthesis import synth_qft_full

from qcompile.errors import InvalidParameter
from qcompile.states.oscillator_basis import momentum_wavefunction, position_wavefunction

__all__ = [
    "FockBinary",
    "PositionGrid",
    "diagonal_phase",
    "conditional_diagonal",
    "position_phase",
    "conditional_position",
    "momentum_conjugated",
    "conditional_momentum",
    "momentum_phase",
    "centred_fourier",
    "number_phase",
    "controlled_shift",
    "ladder_collision",
    "diagonal_collision",
]


@dataclass(frozen=True)
class FockBinary:
    """Fock levels 0 … cutoff − 1 on ⌈log₂ cutoff⌉ qubits."""

    cutoff: int

    def __post_init__(self) -> None:
        if isinstance(self.cutoff, bool) or int(self.cutoff) != self.cutoff or self.cutoff < 2:
            raise InvalidParameter("cutoff", self.cutoff, "an integer >= 2")

    @property
    def qubits(self) -> int:
        return max(1, math.ceil(math.log2(self.cutoff)))

    @property
    def dim(self) -> int:
        return 2**self.qubits

    def levels(self) -> np.ndarray:
        """n for every register index (padding included)."""
        return np.arange(self.dim)

    def weights(self, power: int) -> np.ndarray:
        """wₖ(n) = √(n!/(n−k)!) on the kept levels, 0 below k and on the padding."""
        n = self.levels().astype(float)
        w = np.ones(self.dim)
        for i in range(power):
            w *= np.sqrt(np.clip(n - i, 0, None))
        w[self.cutoff :] = 0
        return w

    def pad(self, operator: np.ndarray) -> np.ndarray:
        """The cutoff × cutoff matrix on the register (zero on the padding)."""
        out = np.zeros((self.dim, self.dim), complex)
        out[: self.cutoff, : self.cutoff] = operator[: self.cutoff, : self.cutoff]
        return out

    def lowering(self, power: int = 1) -> np.ndarray:
        """aᵏ truncated to the cutoff, on the register."""
        return np.roll(np.eye(self.dim), -power, axis=0) @ np.diag(self.weights(power))

    def number(self) -> np.ndarray:
        n = self.levels().astype(float)
        n[self.cutoff :] = 0
        return np.diag(n).astype(complex)

    def encode(self, fock: np.ndarray) -> np.ndarray:
        """Fock amplitudes (any length) on the register, truncated and renormalised."""
        out = np.zeros(self.dim, complex)
        k = min(self.cutoff, len(fock))
        out[:k] = fock[:k]
        return out / np.linalg.norm(out)

    def truncation_error(self, fock: np.ndarray) -> float:
        """Weight of the normalised Fock amplitudes at n ≥ cutoff."""
        fock = np.asarray(fock)
        return float(np.sum(np.abs(fock[self.cutoff :]) ** 2) / np.sum(np.abs(fock) ** 2))


@dataclass(frozen=True)
class PositionGrid:
    """2^qubits position points; Δq = √(2πκ/M) unless ``spacing`` is given."""

    qubits: int
    kappa: int = 1
    spacing: float | None = None

    def __post_init__(self) -> None:
        if isinstance(self.qubits, bool) or int(self.qubits) != self.qubits:
            raise InvalidParameter("grid_qubits", self.qubits, "an integer 2 <= m <= 12")
        if not 2 <= self.qubits <= 12:
            raise InvalidParameter("grid_qubits", self.qubits, "an integer 2 <= m <= 12")
        if self.spacing is not None and not self.spacing > 0:
            raise InvalidParameter("spacing", self.spacing, "spacing > 0")

    @property
    def points(self) -> int:
        return 2**self.qubits

    @property
    def dq(self) -> float:
        if self.spacing is not None:
            return float(self.spacing)
        return math.sqrt(2 * math.pi * self.kappa / self.points)

    @property
    def dp(self) -> float:
        return 2 * math.pi * self.kappa / (self.points * self.dq)

    def positions(self) -> np.ndarray:
        return (np.arange(self.points) - (self.points - 1) / 2) * self.dq

    def momenta(self) -> np.ndarray:
        return (np.arange(self.points) - (self.points - 1) / 2) * self.dp

    def fourier(self) -> np.ndarray:
        """F_kj = e^{−i p_k x_j/κ}/√M."""
        return np.exp(-1j * np.outer(self.momenta(), self.positions()) / self.kappa) / math.sqrt(
            self.points
        )

    def position(self) -> np.ndarray:
        return np.diag(self.positions()).astype(complex)

    def momentum(self) -> np.ndarray:
        f = self.fourier()
        return f.conj().T @ np.diag(self.momenta()) @ f

    def function_of_position(self, f: Callable[[np.ndarray], np.ndarray]) -> np.ndarray:
        return np.diag(f(self.positions())).astype(complex)

    def function_of_momentum(self, f: Callable[[np.ndarray], np.ndarray]) -> np.ndarray:
        four = self.fourier()
        return four.conj().T @ np.diag(f(self.momenta())) @ four

    def encode(self, fock: np.ndarray) -> np.ndarray:
        """ψ(x_j)√Δq of the Fock amplitudes, renormalised on the grid."""
        psi = position_wavefunction(np.asarray(fock, complex), self.positions(), self.kappa)
        return psi / np.linalg.norm(psi)

    def truncation_error(self, fock: np.ndarray, step: float = 1e-3) -> float:
        """Weight of ψ outside |q| ≤ MΔq/2 plus weight of ψ̃ outside |p| ≤ MΔp/2."""
        fock = np.asarray(fock, complex) / np.linalg.norm(fock)
        reach = math.sqrt(2 * self.kappa * (len(fock) + 40))  # beyond every classical turning point
        total = 0.0
        for wavefunction, half in ((position_wavefunction, self.points * self.dq / 2),
                                   (momentum_wavefunction, self.points * self.dp / 2)):  # fmt: skip
            if half >= reach:
                continue
            x = np.arange(half, reach, step) + step / 2
            tail = (
                np.abs(wavefunction(fock, x, self.kappa)) ** 2
                + np.abs(wavefunction(fock, -x, self.kappa)) ** 2
            )
            total += float(np.sum(tail) * step)
        return total


# --- diagonals -----------------------------------------------------------------------------


def _walsh(phases: np.ndarray) -> np.ndarray:
    """a_S with f(j) = Σ_S a_S (−1)^{popcount(j & S)} (fast Walsh–Hadamard transform)."""
    a = np.array(phases, dtype=float)
    h = 1
    while h < a.size:
        a = a.reshape(-1, 2, h)
        a = np.stack((a[:, 0] + a[:, 1], a[:, 0] - a[:, 1]), axis=1).reshape(-1)
        h *= 2
    return a / a.size


def diagonal_phase(
    circuit: QuantumCircuit, wires: Sequence, phases: np.ndarray, atol: float = 1e-12
) -> None:
    """Append e^{i diag(phases)} on ``wires`` (index j = Σ 2^b j_b, bit b on wires[b])."""
    phases = np.asarray(phases, dtype=float)
    k = len(wires)
    if phases.size != 2**k:
        raise ValueError(f"{phases.size} phases for {k} wires")
    coeffs = _walsh(phases)
    terms = [(s, c) for s, c in enumerate(coeffs) if s and abs(c) > atol]
    weight = [bin(s).count("1") for s, _ in terms]
    ladder_cost = sum(2 * (w - 1) for w in weight)  # CX of e^{icZ_S}: a parity ladder
    if k > 2 and ladder_cost > 2**k:
        circuit.append(DiagonalGate(list(np.exp(1j * phases))), list(wires))
        return
    circuit.global_phase += coeffs[0]
    for (s, c), w in zip(terms, weight, strict=True):
        bits = [wires[b] for b in range(k) if s >> b & 1]
        # e^{i c Z_S}
        if w == 1:
            circuit.rz(-2 * c, bits[0])
        elif w == 2:
            circuit.rzz(-2 * c, bits[0], bits[1])
        else:
            for a, b in zip(bits[:-1], bits[1:], strict=True):
                circuit.cx(a, b)
            circuit.rz(-2 * c, bits[-1])
            for a, b in reversed(list(zip(bits[:-1], bits[1:], strict=True))):
                circuit.cx(a, b)


def conditional_diagonal(
    circuit: QuantumCircuit, wires: Sequence, ancilla, values: np.ndarray, theta: float,
    atol: float = 1e-12,
) -> None:  # fmt: skip
    """e^{−iθ diag(values)⊗Z_a}: every Walsh term carries Z_a, so a sparse spectrum costs
    2|S| CX per term (one RZZ for a linear ``values``) and a dense one is a uniformly
    controlled RZ on the ancilla (2^m CX, Gray-code order), whichever is cheaper."""
    values = np.asarray(values, dtype=float)
    coeffs = _walsh(values)
    cost = sum(2 * bin(s).count("1") for s, c in enumerate(coeffs) if s and abs(c) > atol)
    if cost <= 2 ** len(wires):
        diagonal_phase(
            circuit, [*wires, ancilla], np.concatenate((-theta * values, theta * values))
        )
        return
    circuit.append(UCRZGate(list(2 * theta * values)), [ancilla, *wires])


# --- the position grid ------------------------------------------------------------------------


def position_phase(
    circuit: QuantumCircuit, grid: PositionGrid, wires: Sequence, theta: float
) -> None:
    """e^{iθq}: m RZ gates."""
    diagonal_phase(circuit, wires, theta * grid.positions())


def conditional_position(
    circuit: QuantumCircuit, grid: PositionGrid, wires: Sequence, ancilla, theta: float
) -> None:
    """e^{−iθ q⊗Z_a} (a conditional displacement by 2θκ in p): m RZZ gates."""
    conditional_diagonal(circuit, wires, ancilla, grid.positions(), theta)


def momentum_conjugated(
    circuit: QuantumCircuit,
    grid: PositionGrid,
    wires: Sequence,
    body: Callable[[QuantumCircuit, list], None],
) -> None:
    """F† D F: ``body(circuit, momentum_wires)`` appends a diagonal D over the momentum index
    (bit b on momentum_wires[b]); F is the centred Fourier transform.

    F = g·D_k·IQFT·D_j with D_j = D_k = diag(e^{2πicj/M}); F†DF = D_j†·QFT·D·IQFT·D_j, and the
    swap-free QFT B satisfies QFT = S·B (S the bit reversal), so QFT·D·IQFT is B, D, B† on the
    reversed wires.
    """
    m = grid.qubits
    c = (grid.points - 1) / 2
    for b, w in enumerate(wires):
        circuit.p(2 * math.pi * c * 2**b / grid.points, w)
    reversed_wires = list(wires)[::-1]
    circuit.compose(synth_qft_full(m, do_swaps=False, inverse=True), reversed_wires, inplace=True)
    body(circuit, reversed_wires)
    circuit.compose(synth_qft_full(m, do_swaps=False), reversed_wires, inplace=True)
    for b, w in enumerate(wires):
        circuit.p(-2 * math.pi * c * 2**b / grid.points, w)


def momentum_phase(
    circuit: QuantumCircuit, grid: PositionGrid, wires: Sequence, theta: float
) -> None:
    """e^{iθp} = F†·(m RZ)·F."""

    def body(circ, momentum_wires):
        diagonal_phase(circ, momentum_wires, theta * grid.momenta())

    momentum_conjugated(circuit, grid, wires, body)


def conditional_momentum(
    circuit: QuantumCircuit, grid: PositionGrid, wires: Sequence, ancilla, theta: float
) -> None:
    """e^{−iθ p⊗Z_a} = F†·(m RZZ)·F."""

    def body(circ, momentum_wires):
        conditional_diagonal(circ, momentum_wires, ancilla, grid.momenta(), theta)

    momentum_conjugated(circuit, grid, wires, body)


def centred_fourier(grid: PositionGrid) -> QuantumCircuit:
    """The centred Fourier transform F as a circuit (single-qubit phases around an inverse
    QFT with its swaps), global phase included."""
    m, big = grid.qubits, grid.points
    c = (big - 1) / 2
    circuit = QuantumCircuit(m, name="F")
    for b in range(m):
        circuit.p(2 * math.pi * c * 2**b / big, b)
    circuit.compose(synth_qft_full(m, do_swaps=True, inverse=True), range(m), inplace=True)
    for b in range(m):
        circuit.p(2 * math.pi * c * 2**b / big, b)
    circuit.global_phase -= 2 * math.pi * c * c / big
    return circuit


# --- Fock-binary ------------------------------------------------------------------------------


def number_phase(
    circuit: QuantumCircuit, fock: FockBinary, wires: Sequence, coefficients: Sequence[float]
) -> None:
    """e^{−i Σ_k c_k N^{k+1}} (detuning c₀, Kerr c₁, …): a phase polynomial in the bits; the
    padding levels get the same polynomial (they carry no weight)."""
    n = fock.levels().astype(float)
    diagonal_phase(circuit, wires, -sum(c * n ** (k + 1) for k, c in enumerate(coefficients)))


def controlled_shift(circuit: QuantumCircuit, wires: Sequence, control, shift: int) -> None:
    """|n⟩ ↦ |n + shift mod 2^m⟩ when ``control`` is |1⟩ (Draper adder: the QFT diagonalises
    the cyclic shift; QFT|j⟩ = Σ_k e^{2πijk/M}|k⟩/√M, so adding v is e^{2πivk/M} on |k⟩)."""
    m = len(wires)
    shift %= 2**m
    if shift == 0:
        return
    low = (shift & -shift).bit_length() - 1  # a shift by v·2^r leaves the low r bits alone
    wires, shift, m = list(wires)[low:], shift >> low, m - low
    # the swap-free QFT B = S·QFT leaves the Fourier index bit-reversed: phases on wires[::-1]
    circuit.compose(synth_qft_full(m, do_swaps=False), wires, inplace=True)
    for b, w in enumerate(wires[::-1]):
        angle = (2 * math.pi * shift * 2**b / 2**m) % (2 * math.pi)
        if abs(angle) > 1e-12:
            circuit.cp(angle, control, w)
    circuit.compose(synth_qft_full(m, do_swaps=False, inverse=True), wires, inplace=True)


def diagonal_collision(
    circuit: QuantumCircuit, wires: Sequence, ancilla, values: np.ndarray, tau: float
) -> None:
    """exp[−iτ diag(values)⊗σ_x] (a Hermitian diagonal jump operator's dilation)."""
    circuit.h(ancilla)
    conditional_diagonal(circuit, wires, ancilla, values, tau)
    circuit.h(ancilla)


def ladder_collision(
    circuit: QuantumCircuit, fock: FockBinary, wires: Sequence, ancilla, power: int, tau: float
) -> None:
    """exp[−iτ(aᵏ⊗σ⁺ + a†ᵏ⊗σ⁻)], σ⁺ = |1⟩⟨0| on the ancilla, aᵏ truncated to the cutoff.

    With V = |0⟩⟨0|⊗1 + |1⟩⟨1|⊗Sₖ: V(σ_x⊗diag(wₖ))V† = σ⁺⊗aᵏ + σ⁻⊗a†ᵏ, so the collision is
    V† · exp[−iτ diag(wₖ)⊗σ_x] · V in time order V†, diagonal, V — exactly.
    """
    controlled_shift(circuit, wires, ancilla, power)  # V† = controlled S_k† = add +k
    diagonal_collision(circuit, wires, ancilla, fock.weights(power), tau)
    controlled_shift(circuit, wires, ancilla, -power)
