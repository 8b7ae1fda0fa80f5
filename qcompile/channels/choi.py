"""Choi matrices of channels: from Kraus operators, back to Kraus operators, applied to states.

J = Σ_ij |i⟩⟨j| ⊗ E(|i⟩⟨j|) (input factor first, as ``qiskit.quantum_info.Choi``); E is
completely positive iff J ⪰ 0 and trace preserving iff tr_out J = 1_in. E(ρ) = tr_in[(ρᵀ ⊗ 1) J].
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

__all__ = [
    "apply_choi",
    "choi_from_kraus",
    "complementary_pair",
    "constant_channel_choi",
    "identity_choi",
    "kraus_from_choi",
]


def choi_from_kraus(kraus: Sequence[np.ndarray]) -> np.ndarray:
    """J of ρ ↦ Σ_a K_a ρ K_a† for Kraus operators of shape (d_out, d_in)."""
    d_out, d_in = np.shape(kraus[0])
    # column a of J's square root: Σ_i |i⟩ ⊗ K|i⟩, i.e. Kᵀ flattened row by row
    vectors = np.array([np.asarray(k).T.reshape(d_in * d_out) for k in kraus])
    return vectors.T @ vectors.conj()


def kraus_from_choi(choi: np.ndarray, d_in: int, *, atol: float = 1e-12) -> list[np.ndarray]:
    """Kraus operators (d_out, d_in) of a completely positive J, from its eigenvectors;
    eigenvalues below ``atol`` (and the small negative ones of an estimate) are dropped."""
    values, vectors = np.linalg.eigh(0.5 * (choi + choi.conj().T))
    d_out = choi.shape[0] // d_in
    return [
        np.sqrt(v) * vectors[:, a].reshape(d_in, d_out).T for a, v in enumerate(values) if v > atol
    ]


def apply_choi(choi: np.ndarray, rho: np.ndarray) -> np.ndarray:
    """E(ρ) = tr_in[(ρᵀ ⊗ 1) J] for an operator ρ on the input (any operator, not only states)."""
    d_in = rho.shape[0]
    d_out = choi.shape[0] // d_in
    blocks = choi.reshape(d_in, d_out, d_in, d_out)
    return np.einsum("ij,iajb->ab", rho, blocks)


def identity_choi(dim: int) -> np.ndarray:
    """J of the identity channel: the unnormalised maximally entangled projector |Ω⟩⟨Ω|."""
    omega = np.eye(dim, dtype=complex).reshape(dim * dim)
    return np.outer(omega, omega)


def constant_channel_choi(state: np.ndarray, d_in: int) -> np.ndarray:
    """J of P(ρ) = σ tr ρ (spec 000 §3's P with σ = ξ): 1_in ⊗ σ."""
    return np.kron(np.eye(d_in), state)


def complementary_pair(isometry: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The two channels of a Stinespring isometry V: input → A ⊗ B, given as an array
    ``V[b, a, i]`` = (⟨a| ⊗ ⟨b|) V |i⟩: ρ ↦ tr_B VρV† and ρ ↦ tr_A VρV†.

    The second is returned on the support of its outputs (at most d_A·d_in dimensional, an
    isometric relabelling that changes no distance or recovery figure), so a large B costs
    nothing: Kraus operators V[:, a, :] restricted to the span of their columns."""
    d_b, d_a, d_in = isometry.shape
    to_a = np.einsum("bai,bcj->iajc", isometry, isometry.conj()).reshape(d_in * d_a, d_in * d_a)
    columns = isometry.reshape(d_b, d_a * d_in)
    u, s, _ = np.linalg.svd(columns, full_matrices=False)
    q = u[:, s > 1e-12 * max(s.max(), 1e-300)]
    to_b = choi_from_kraus([q.conj().T @ isometry[:, a, :] for a in range(d_a)])
    return to_a, to_b
