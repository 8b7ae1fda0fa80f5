r"""``OpenSystem``: the one description shared by lowering and the reference solvers.

.. math:: \dot\rho = -i[H_0 + \textstyle\sum_j c_j(t) H_j,\ \rho]
          + \sum_k \big(L_k\rho L_k^\dagger - \tfrac12\{L_k^\dagger L_k,\rho\}\big)

Operators are dense matrices on the tensor product of ``dims``. Tensor order: subsystem 0 is
the *leftmost* factor (the physics convention, as in QuTiP). Qiskit circuits are
little-endian, so qubit q of a circuit is subsystem ``len(dims) − 1 − q``; convert only with
:func:`OpenSystem.qiskit_qubit` so the swap happens in one place.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from qcompile.errors import InvalidParameter

__all__ = ["OpenSystem", "TimeDependentTerm", "InstantChannel", "embed", "partial_state"]

Coefficient = Callable[[float], complex]


@dataclass(frozen=True)
class TimeDependentTerm:
    """One term c(t) · H of the Hamiltonian; ``H`` Hermitian, ``c`` real-valued."""

    operator: np.ndarray
    coefficient: Coefficient


@dataclass(frozen=True)
class InstantChannel:
    """A CPTP map applied instantaneously at ``time``: ρ → Σ_k K_k ρ K_k†.

    The Kraus operators act on the whole register. A state reported at ``time`` is the state
    *after* the channel (right-continuous trajectories).
    """

    time: float
    kraus: tuple[np.ndarray, ...]
    name: str = "channel"


@dataclass(frozen=True)
class OpenSystem:
    """A finite-dimensional open quantum system (Lindblad form) with named observables."""

    dims: tuple[int, ...]
    hamiltonian: np.ndarray | None = None
    time_dependent: tuple[TimeDependentTerm, ...] = ()
    jump_operators: tuple[np.ndarray, ...] = ()
    channels: tuple[InstantChannel, ...] = ()
    initial_state: np.ndarray | None = None
    observables: Mapping[str, np.ndarray] = field(default_factory=dict)
    labels: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not self.dims or any(int(d) < 1 for d in self.dims):
            raise InvalidParameter("dims", self.dims, "a non-empty tuple of positive integers")
        dim = self.dimension
        if self.labels and len(self.labels) != len(self.dims):
            raise InvalidParameter(
                "labels", self.labels, f"{len(self.dims)} names, one per subsystem"
            )
        if self.hamiltonian is not None:
            _check_operator("hamiltonian", self.hamiltonian, dim, hermitian=True)
        for k, term in enumerate(self.time_dependent):
            _check_operator(f"time_dependent[{k}]", term.operator, dim, hermitian=True)
            value = complex(term.coefficient(0.0))
            if not (math.isfinite(value.real) and abs(value.imag) < 1e-12):
                raise InvalidParameter(
                    f"time_dependent[{k}].coefficient", value, "a real-valued function of t"
                )
        for k, jump in enumerate(self.jump_operators):
            _check_operator(f"jump_operators[{k}]", jump, dim, hermitian=False)
        for k, channel in enumerate(self.channels):
            if not math.isfinite(channel.time) or channel.time < 0:
                raise InvalidParameter(f"channels[{k}].time", channel.time, "a finite time >= 0")
            for j, op in enumerate(channel.kraus):
                _check_operator(f"channels[{k}].kraus[{j}]", op, dim, hermitian=False)
            total = sum(np.asarray(op).conj().T @ np.asarray(op) for op in channel.kraus)
            if not np.allclose(total, np.eye(dim), atol=1e-9):
                raise InvalidParameter(
                    f"channels[{k}]",
                    channel.name,
                    "Kraus operators with sum K†K = 1 (trace preserving)",
                )
        for name, obs in self.observables.items():
            _check_operator(f"observables[{name!r}]", obs, dim, hermitian=True)
        if self.initial_state is not None:
            rho = np.asarray(self.initial_state)
            if rho.ndim == 1:
                if rho.shape != (dim,) or not math.isclose(np.linalg.norm(rho), 1, abs_tol=1e-9):
                    raise InvalidParameter(
                        "initial_state", rho.shape, f"a unit vector of length {dim}"
                    )
            else:
                _check_operator("initial_state", rho, dim, hermitian=True)
                if not math.isclose(np.trace(rho).real, 1, abs_tol=1e-9):
                    raise InvalidParameter(
                        "initial_state", "tr ρ != 1", "a density matrix of trace 1"
                    )

    @property
    def dimension(self) -> int:
        return int(np.prod(self.dims))

    def hamiltonian_at(self, t: float) -> np.ndarray:
        """H(t) = H_0 + Σ_j c_j(t) H_j."""
        dim = self.dimension
        h = (
            np.zeros((dim, dim), dtype=complex)
            if self.hamiltonian is None
            else np.array(self.hamiltonian, dtype=complex)
        )
        for term in self.time_dependent:
            h = h + float(np.real(term.coefficient(t))) * term.operator
        return h

    def qiskit_qubit(self, subsystem: int) -> int:
        """The little-endian circuit qubit of qubit subsystem ``subsystem`` (all dims 2)."""
        if any(d != 2 for d in self.dims):
            raise ValueError("qiskit_qubit needs a register of qubits")
        return len(self.dims) - 1 - subsystem

    def initial_density_matrix(self) -> np.ndarray:
        if self.initial_state is None:
            rho = np.zeros((self.dimension, self.dimension), dtype=complex)
            rho[0, 0] = 1
            return rho
        state = np.asarray(self.initial_state, dtype=complex)
        return np.outer(state, state.conj()) if state.ndim == 1 else state


def embed(operator: np.ndarray, subsystems: Sequence[int], dims: Sequence[int]) -> np.ndarray:
    """``operator`` acting on ``subsystems`` (in that order) of the register ``dims``.

    Subsystem 0 is the leftmost tensor factor. The operator's own tensor order follows
    ``subsystems``.
    """
    subsystems = list(subsystems)
    if len(set(subsystems)) != len(subsystems) or any(not 0 <= s < len(dims) for s in subsystems):
        raise InvalidParameter("subsystems", subsystems, f"distinct indices in 0..{len(dims) - 1}")
    sub_dims = [dims[s] for s in subsystems]
    if operator.shape != (int(np.prod(sub_dims)),) * 2:
        raise InvalidParameter(
            "operator", operator.shape, f"a square matrix of size {np.prod(sub_dims)}"
        )
    rest = [s for s in range(len(dims)) if s not in subsystems]
    full = np.kron(operator, np.eye(int(np.prod([dims[s] for s in rest])), dtype=complex))
    order = subsystems + rest  # tensor order of `full`
    n = len(dims)
    tensor = full.reshape([dims[s] for s in order] * 2)
    perm = [order.index(s) for s in range(n)]
    tensor = tensor.transpose(perm + [n + p for p in perm])
    dim = int(np.prod(dims))
    return tensor.reshape(dim, dim)


def partial_state(rho: np.ndarray, dims: Sequence[int], keep: Sequence[int]) -> np.ndarray:
    """The reduced state of ``rho`` on the subsystems ``keep`` (in the model's order,
    subsystem 0 leftmost): the other subsystems traced out."""
    keep = sorted(keep)
    n = len(dims)
    if keep == list(range(n)):
        return np.asarray(rho)
    tensor = np.asarray(rho).reshape(list(dims) * 2)
    for offset, s in enumerate(s for s in reversed(range(n)) if s not in keep):
        remaining = n - offset
        tensor = np.trace(tensor, axis1=s, axis2=s + remaining)
    size = int(np.prod([dims[s] for s in keep]))
    return tensor.reshape(size, size)


def _check_operator(name: str, op: np.ndarray, dim: int, *, hermitian: bool) -> None:
    op = np.asarray(op)
    if op.shape != (dim, dim):
        raise InvalidParameter(
            name, f"shape {op.shape}", f"a {dim}x{dim} matrix (the register's dimension)"
        )
    if not np.all(np.isfinite(op)):
        raise InvalidParameter(name, "non-finite entries", "finite matrix entries")
    if hermitian and not np.allclose(op, op.conj().T, atol=1e-10):
        dev = float(np.max(np.abs(op - op.conj().T)))
        raise InvalidParameter(name, f"max |A - A†| = {dev:.3g}", "a Hermitian matrix")
