"""The Ising memory's decoder (spec 004 §3.2): majority vote — "flip the smaller domain" —
on the measured sites, a tie counted as ½. From |0̄⟩ the decoded overlap is P(majority 0),
and the logical channel a bit flip with probability 1 − p. As counts, as a function on
outcomes, and as one Z-diagonal observable (for the Estimator)."""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np
from qiskit.quantum_info import SparsePauliOp

__all__ = ["majority_observable", "majority_success", "majority_weights"]


def majority_success(counts: Mapping[str, float], sites: int) -> tuple[float, float]:
    """Decoded success P(majority 0) from measured bit strings (ties ½) and its standard error."""
    shots = sum(counts.values())
    success = 0.0
    for bits, n in counts.items():
        ones = bits.replace(" ", "").count("1")
        success += n * (1.0 if 2 * ones < sites else 0.5 if 2 * ones == sites else 0.0)
    p = success / shots
    return p, math.sqrt(max(p * (1 - p), 0.0) / shots)


def majority_weights(sites: int) -> np.ndarray:
    """f(s) for every outcome s of the sites (bit i of s = site i): 1 for a majority of 0s,
    ½ on a tie, 0 otherwise — the decoder as a function on outcomes."""
    ones = np.array([bin(c).count("1") for c in range(1 << sites)])
    return np.where(2 * ones < sites, 1.0, np.where(2 * ones == sites, 0.5, 0.0))


def majority_observable(sites: int, num_qubits: int | None = None) -> SparsePauliOp:
    r"""The decoded success as one Z-diagonal observable: Π = Σ_s f(s)|s⟩⟨s| with f = 1 for
    a majority of 0s, ½ on a tie, 0 otherwise (so ⟨Π⟩ = :func:`majority_success`), written
    as Z strings, c_S = 2^{−n} Σ_s f(s)(−1)^{|s ∩ S|} (a Walsh–Hadamard transform), on the
    first ``sites`` of ``num_qubits`` qubits (default: just the sites)."""
    from scipy.linalg import hadamard

    configs = np.arange(1 << sites)
    coefficients = hadamard(1 << sites) @ majority_weights(sites) / (1 << sites)
    width = sites if num_qubits is None else num_qubits
    labels = []
    for subset in configs:
        z = "".join("Z" if (subset >> q) & 1 else "I" for q in range(width))
        labels.append(z[::-1])
    keep = np.abs(coefficients) > 1e-14
    return SparsePauliOp(np.array(labels)[keep].tolist(), coefficients[keep])
