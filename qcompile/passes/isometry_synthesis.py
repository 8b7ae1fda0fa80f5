r"""Two-qubit blocks on known inputs: the cheapest unitary that agrees where it is used.

A two-qubit unitary U whose input qubit k is known to be in the pure state |ψ⟩ is only ever
used as the isometry V = U(|ψ⟩_k ⊗ ·): any U′ = U·C with

.. math:: C = |ψ⟩⟨ψ|_k ⊗ 1 + |ψ^⊥⟩⟨ψ^⊥|_k ⊗ G,\qquad G ∈ U(2),

acts the same on every state the circuit can feed it. A generic U needs 3 CX; a 1 → 2-qubit
isometry needs 2 (Iten et al., PRA 93, 032318 (2016), Table I). The completion is found by
choosing G such that U′ has Weyl coordinate c₃ = 0, with the criterion of Shende, Bullock and
Markov (PRA 69, 062321 (2004), Prop. III.3): U ∈ U(4) is a 2-CX gate iff

.. math:: \operatorname{tr}[U\,(Y⊗Y)\,U^T\,(Y⊗Y)] \,/\, \sqrt{\det U} \;\text{is real}

(its imaginary part is 4 sin 2c₃ sin 2c₁ sin 2c₂ for Weyl coordinates c₁ ≥ c₂ ≥ |c₃|),
a smooth equation in the four parameters of G, solved by Newton steps from fixed seeded
starts. With *both* inputs known the output is a two-qubit pure state: by its Schmidt form
(A⊗B)(cos t|00⟩ + sin t|11⟩) one CX, and none if it is a product. If U on the known input
leaves that qubit in a fixed state, no CX at all.

Matrices are little-endian (qubit 0 is the least significant index), as in Qiskit.
"""

from __future__ import annotations

import numpy as np
from qiskit.synthesis import TwoQubitWeylDecomposition

__all__ = [
    "complete_to_two_cx",
    "prepare_state_unitary",
    "local_action",
    "is_two_cx",
    "basis_unitary",
    "cheaper_on_inputs",
    "kron",
]

_Y = np.array([[0, -1j], [1j, 0]])
_YY = np.kron(_Y, _Y)
_TOL = 1e-12


def is_two_cx(unitary: np.ndarray, atol: float = _TOL) -> bool:
    """Whether ``unitary`` (4×4) has a circuit with at most two CX (Shende et al. Prop. III.3:
    tr γ(U) real for U scaled into SU(4); either square root of det U will do)."""
    return abs(_two_cx_invariant(unitary, np.sqrt(np.linalg.det(unitary))).imag) <= atol


def _two_cx_invariant(unitary: np.ndarray, sqrt_det: complex) -> complex:
    """tr[U (Y⊗Y) Uᵀ (Y⊗Y)] / √det U: real exactly for 2-CX unitaries (Weyl c₃ = 0)."""
    return np.trace(unitary @ _YY @ unitary.T @ _YY) / sqrt_det


def basis_unitary(state: np.ndarray) -> np.ndarray:
    """A 2×2 unitary whose first column is the (normalized) ``state``."""
    state = np.asarray(state, dtype=complex)
    state = state / np.linalg.norm(state)
    return np.array([[state[0], -np.conj(state[1])], [state[1], np.conj(state[0])]])


def _u2(p: np.ndarray) -> np.ndarray:
    a, b, c, d = p
    return np.exp(1j * d) * np.array(
        [
            [np.cos(a) * np.exp(1j * b), -np.sin(a) * np.exp(-1j * c)],
            [np.sin(a) * np.exp(1j * c), np.cos(a) * np.exp(-1j * b)],
        ]
    )


def kron(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``np.kron`` of two vectors or two matrices — the same products, bit for bit — without
    its shape-generic overhead (a third of :class:`KnownStates`' time went to ``np.kron``)."""
    outer = np.multiply.outer(a, b)
    if outer.ndim == 2:
        return outer.reshape(-1)
    rows, cols = a.shape[0] * b.shape[0], a.shape[1] * b.shape[1]
    return outer.transpose(0, 2, 1, 3).reshape(rows, cols)


def _embed(one: np.ndarray, qubit: int, other: np.ndarray) -> np.ndarray:
    """``one`` on ``qubit`` and ``other`` on the remaining qubit (little-endian kron)."""
    return kron(other, one) if qubit == 0 else kron(one, other)


def complete_to_two_cx(
    unitary: np.ndarray, state: np.ndarray, qubit: int, *, seed: int = 0, starts: int = 64
) -> np.ndarray | None:
    """A 2-CX unitary equal to ``unitary`` on every input with ``qubit`` in ``state``.

    Returns ``None`` if no start converges (not observed on random unitaries and states).
    """
    basis = basis_unitary(state)
    projector = np.outer(basis[:, 0], basis[:, 0].conj())
    complement = np.outer(basis[:, 1], basis[:, 1].conj())
    identity = np.eye(2)

    def completed(p: np.ndarray) -> np.ndarray:
        return unitary @ (_embed(projector, qubit, identity) + _embed(complement, qubit, _u2(p)))

    # det U·C(p) = det U · e^{2i p[3]}: a square root that is smooth in p, no branch cut
    root = np.sqrt(np.linalg.det(unitary))

    def residual(p: np.ndarray) -> float:
        return _two_cx_invariant(completed(p), root * np.exp(1j * p[3])).imag

    rng = np.random.default_rng(seed)
    step = 1e-7
    for _ in range(starts):
        p = rng.uniform(-np.pi, np.pi, 4)
        for _ in range(40):
            value = residual(p)
            if abs(value) < 1e-14:
                candidate = completed(p)
                if abs(TwoQubitWeylDecomposition(candidate).c) < 1e-12:
                    return candidate
            grad = np.array([(residual(p + step * e) - value) / step for e in np.eye(4)])
            norm = grad @ grad
            if norm < 1e-24:
                break
            p = p - value * grad / norm
    return None


def prepare_state_unitary(
    unitary: np.ndarray, state0: np.ndarray, state1: np.ndarray
) -> tuple[np.ndarray, bool]:
    """A unitary with at most one CX equal to ``unitary`` on |state1⟩⊗|state0⟩ (qubit 1 ⊗ 0).

    Returns ``(W, product)``: ``product`` is true when the output is a product state, and then
    W is local (no CX).
    """
    out = unitary @ kron(state1, state0)
    matrix = out.reshape(2, 2)  # matrix[i1, i0]
    left, singular, right = np.linalg.svd(matrix)
    # out = Σ_k s_k left[:, k] ⊗ right[k, :]  =  (L ⊗ R)(s0|00⟩ + s1|11⟩)
    local = kron(left, right.T)
    product = singular[1] < 1e-9
    if product:
        schmidt_prep = np.eye(4)
    else:
        theta = 2 * np.arctan2(singular[1], singular[0])
        ry = np.array(
            [[np.cos(theta / 2), -np.sin(theta / 2)], [np.sin(theta / 2), np.cos(theta / 2)]]
        )
        cx = np.eye(4)[[0, 3, 2, 1]]  # control qubit 0, target qubit 1 (little-endian)
        schmidt_prep = cx @ kron(np.eye(2), ry)  # |00⟩ → s0|00⟩ + s1|11⟩
    inputs = kron(basis_unitary(state1), basis_unitary(state0))
    return local @ schmidt_prep @ inputs.conj().T, product


def local_action(unitary: np.ndarray, state: np.ndarray, qubit: int) -> np.ndarray | None:
    """If ``unitary`` maps |state⟩ on ``qubit`` ⊗ anything to |a⟩ on ``qubit`` ⊗ B·anything,
    the local unitary A ⊗ B (A|state⟩ = |a⟩) that does the same; otherwise ``None``."""
    basis = basis_unitary(state)
    isometry = unitary @ _embed(basis[:, :1], qubit, np.eye(2))  # 4×2
    tensor = isometry.reshape(2, 2, 2)  # [i1, i0, input]
    moved = tensor if qubit == 1 else tensor.transpose(1, 0, 2)  # [known, other, input]
    flat = moved.reshape(2, 4)
    u, s, vh = np.linalg.svd(flat)
    if s[1] > 1e-9:
        return None
    kept = u[:, 0]
    other = (s[0] * vh[0]).reshape(2, 2)  # other-qubit operator: [other_out, input]
    if not np.allclose(other.conj().T @ other, np.eye(2), atol=1e-9):
        return None
    known_gate = basis_unitary(kept) @ basis.conj().T
    return _embed(known_gate, qubit, other)


def _key(array: np.ndarray) -> bytes:
    """The exact bytes: a hit returns what a fresh computation would, so a compilation never
    depends on what was compiled before in the process (a stored job's circuits are
    recompiled bit for bit when it is fetched; a rounded key once broke that)."""
    return np.ascontiguousarray(array, dtype=complex).tobytes()


_COMPLETIONS: dict[bytes, np.ndarray | None] = {}
_CACHE_SIZE = 4096


def cheaper_on_inputs(unitary: np.ndarray, states: tuple) -> tuple[np.ndarray | None, int]:
    """The cheapest unitary found equal to ``unitary`` on the known inputs, and its CX count.

    ``states[k]`` is qubit k's known input state or ``None``. Both known: 0 or 1 CX; one known:
    0 if the block only moves that qubit to another fixed state, else 2. Completions are cached
    (a collision model repeats the same block with the same reservoir state).
    """
    a, b = states
    if a is not None and b is not None:
        replacement, product = prepare_state_unitary(unitary, a, b)
        return replacement, 0 if product else 1
    qubit, state = (0, a) if a is not None else (1, b)
    if state is None:
        return None, 4
    local = local_action(unitary, state, qubit)
    if local is not None:
        return local, 0
    key = _key(unitary) + _key(state) + bytes([qubit])
    if key not in _COMPLETIONS:
        if len(_COMPLETIONS) >= _CACHE_SIZE:
            _COMPLETIONS.clear()
        _COMPLETIONS[key] = complete_to_two_cx(unitary, state, qubit)
    completed = _COMPLETIONS[key]
    return (None, 4) if completed is None else (completed, 2)
