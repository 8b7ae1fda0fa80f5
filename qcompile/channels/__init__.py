"""Quantum channels as plain arrays: Choi matrices, their reconstruction from tomography, and
how well a channel's input can be recovered from its output (spec 000 §3).

Convention (Qiskit's ``qiskit.quantum_info.Choi``): J = Σ_ij |i⟩⟨j| ⊗ E(|i⟩⟨j|), the input
factor first, so ``J.reshape(d_in, d_out, d_in, d_out)[i, :, j, :] = E(|i⟩⟨j|)``.
"""

from qcompile.channels.choi import (
    apply_choi,
    choi_from_kraus,
    complementary_pair,
    constant_channel_choi,
    identity_choi,
    kraus_from_choi,
)
from qcompile.channels.process_tomography import PROBE_STATES, fit_channel
from qcompile.channels.recoverability import (
    RecoverabilityPoint,
    diamond_distance,
    entanglement_fidelity,
    optimal_recovery,
    petz_recovery,
    recoverability_point,
    recovery_diamond_error,
)

__all__ = [
    "PROBE_STATES",
    "RecoverabilityPoint",
    "apply_choi",
    "choi_from_kraus",
    "complementary_pair",
    "constant_channel_choi",
    "diamond_distance",
    "entanglement_fidelity",
    "fit_channel",
    "identity_choi",
    "kraus_from_choi",
    "optimal_recovery",
    "petz_recovery",
    "recoverability_point",
    "recovery_diamond_error",
]
