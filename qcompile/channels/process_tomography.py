r"""A qubit-input channel from the tomographic states of its outputs (process tomography).

The four probe inputs |0⟩, |1⟩, |+⟩, |+i⟩ span the qubit operators, so the outputs σ̂_p
of a channel E measured by state tomography fix E. Linear inversion gives a Choi matrix that
noise can make non-physical; the estimate here is the constrained least-squares fit

.. math:: \hat J = \arg\min_{J \succeq 0,\ \mathrm{tr}_{out} J = 1}
          \sum_p \| \mathrm{tr}_{in}[(\rho_p^T \otimes 1) J] - \hat\sigma_p \|_F^2

(an SDP, solved by cvxpy with SCS). Where the linear inversion is already completely
positive (exact outputs, or noise too small to matter) it is the fit and is returned as is.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

import numpy as np

from qcompile.channels.recoverability import (
    SOLVER,
    TOLERANCE,
    _cvxpy,
    solver_options,
    trace_output,
)

__all__ = ["PROBE_STATES", "fit_channel", "linear_inversion", "probe_density_matrices"]

#: The probe inputs, as ``qcompile.states.qubit_state`` labels.
PROBE_STATES = ("0", "1", "+", "+i")


def probe_density_matrices() -> list[np.ndarray]:
    """Density matrices of :data:`PROBE_STATES`, in that order."""
    plus = np.array([1, 1]) / np.sqrt(2)
    plus_i = np.array([1, 1j]) / np.sqrt(2)
    return [
        np.diag([1.0, 0.0]).astype(complex),
        np.diag([0.0, 1.0]).astype(complex),
        np.outer(plus, plus.conj()),
        np.outer(plus_i, plus_i.conj()),
    ]


def linear_inversion(outputs: Sequence[np.ndarray]) -> np.ndarray:
    """The Choi matrix that maps the probes exactly onto ``outputs`` (may not be positive):
    |0⟩⟨1| = ½[(2ρ₊ − 1) + i(2ρ₊ᵢ − 1)], so E(|0⟩⟨1|) = ½[(2σ₊ − σ₀ − σ₁) + i(2σ₊ᵢ − σ₀ − σ₁)]."""
    s0, s1, sx, sy = (np.asarray(o, dtype=complex) for o in outputs)
    off = 0.5 * ((2 * sx - s0 - s1) + 1j * (2 * sy - s0 - s1))
    off_dagger = 0.5 * ((2 * sx - s0 - s1) - 1j * (2 * sy - s0 - s1))
    return np.block([[s0, off], [off_dagger, s1]])


@lru_cache(maxsize=8)
def _fit_problem(d_out: int):
    """The least-squares SDP for outputs of dimension ``d_out``, built once: the outputs are
    parameters, so a bootstrap re-solves it without compiling it again."""
    cp = _cvxpy()
    j = cp.Variable((2 * d_out, 2 * d_out), hermitian=True)
    targets = [cp.Parameter((d_out, d_out), hermitian=True) for _ in PROBE_STATES]
    residual = 0
    for rho, target in zip(probe_density_matrices(), targets, strict=True):
        predicted = sum(  # E(ρ) = Σ_ab ρ_ab E(|a⟩⟨b|), E(|a⟩⟨b|) the (a, b) block of J
            rho[a, b] * j[a * d_out : (a + 1) * d_out, b * d_out : (b + 1) * d_out]
            for a in range(2)
            for b in range(2)
            if rho[a, b] != 0
        )
        diff = predicted - target
        residual += cp.sum_squares(cp.real(diff)) + cp.sum_squares(cp.imag(diff))
    constraints = [j >> 0, trace_output(j, 2, d_out) == np.eye(2)]
    return cp.Problem(cp.Minimize(residual), constraints), j, targets


def fit_channel(outputs: Sequence[np.ndarray], *, tol: float = TOLERANCE) -> np.ndarray:
    """The CPTP Choi matrix (input qubit first) closest to the outputs of the probes.

    ``outputs[p]`` is the estimated output for input ``PROBE_STATES[p]`` (a Hermitian matrix
    of trace one; a linear-inversion estimate need not be positive)."""
    if len(outputs) != len(PROBE_STATES):
        raise ValueError(f"need the outputs of the {len(PROBE_STATES)} probe states")
    linear = linear_inversion(outputs)
    trace = np.trace(linear.reshape(2, linear.shape[0] // 2, 2, -1), axis1=1, axis2=3)
    if np.linalg.eigvalsh(linear).min() >= -1e-12 and np.allclose(trace, np.eye(2), atol=1e-12):
        return linear
    problem, j, targets = _fit_problem(outputs[0].shape[0])
    for target, sigma in zip(targets, outputs, strict=True):
        target.value = 0.5 * (sigma + sigma.conj().T)
    problem.solve(solver=SOLVER, **solver_options(tol))
    if j.value is None:
        raise ArithmeticError("the process-tomography fit did not converge")
    fitted = np.asarray(j.value)
    return 0.5 * (fitted + fitted.conj().T)
