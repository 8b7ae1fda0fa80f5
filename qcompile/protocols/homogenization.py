r"""Quantum homogenization with (SWAP)^α collisions — spec 000 (Yosifov et al. 2024).

A system qubit S meets reservoir qubits R_1..R_N, each prepared in ξ, one after the other;
collision k applies U^α (eq. 8) to (S, R_k). The sweep may be repeated (``rounds``). The
reduced states follow the iterated map of eqs. (4)–(5) with η = −πα/2 (eq. 9):

.. math:: \rho_S^{(k+1)} = \cos^2\eta\,\rho_S^{(k)} + \sin^2\eta\,\xi
          + i\cos\eta\sin\eta\,[\xi, \rho_S^{(k)}],\qquad
          \xi^{(k+1)} = \sin^2\eta\,\rho_S^{(k)} + \cos^2\eta\,\xi
          + i\cos\eta\sin\eta\,[\rho_S^{(k)}, \xi].

That map is exact for one round (R_k is fresh when S meets it); for more rounds the
reference is the exact simulation of the register. Fidelity is Uhlmann's
F = (tr√(√ρ σ √ρ))² to ξ.

Register (little-endian circuit qubits): S = 0, R_j = j, then one purification qubit for S
(if ρ_S⁽⁰⁾ is mixed) and one per reservoir qubit (if ξ is mixed).
"""

from __future__ import annotations

import math
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, replace

import numpy as np
from qiskit.circuit import QuantumCircuit, QuantumRegister
from qiskit.quantum_info import Statevector

from qcompile.errors import InvalidParameter, ResourceLimit
from qcompile.lowering.swap_power import SwapPowerGate, alpha_from_eta, eta_from_alpha
from qcompile.model import OpenSystem, TimeDependentTerm, embed
from qcompile.protocols.parameters import ESTIMATOR_OPTIONS, Parameter
from qcompile.protocols.plugin import DataFlowPlugin, one_runner
from qcompile.states.circuit_states import reduced_qubit_states
from qcompile.states.qubit_state import QubitState, bloch_fidelity, bloch_vector, parse_qubit_state
from qcompile.states.tomography import TomographyTask

__all__ = ["Homogenization", "homogenization", "PARAMETERS", "NAME"]

NAME = "homogenization"
#: The runner name its recipes record (``qcompile.run.recipe``; the name predates the one runner).
RUNNER = "experiment"
SUMMARY = "system qubit driven to a reservoir state ξ by N (SWAP)^α collisions (spec 000)"
#: ``qcompile run homogenization``: its help and default backend (qcompile.cli.generated).
RUN_HELP = "Homogenization (spec 000): system fidelity to xi after k = 0..N collisions."
DEFAULT_BACKEND = "aer:fake_torino"
MAX_RESERVOIR = 1000
MAX_ROUNDS = 100
#: With rounds >= 2 the reference is the exact state of the register after every collision.
MAX_EXACT_QUBITS = 20
MAX_EXACT_WORK = 2.0**28
PARAMETERS = (
    Parameter("alpha", "float", None, "any real; (SWAP)^alpha exponent (give alpha or eta)"),
    Parameter("eta", "float", None, "any real; partial-swap angle, alpha = -2 eta/pi"),
    Parameter("reservoir", "int", 4, f"1 <= N <= {MAX_RESERVOIR}; reservoir qubits"),
    Parameter("rounds", "int", 1, f"1 <= R <= {MAX_ROUNDS}; sweeps over the reservoir"),
    Parameter(
        "input_state", "state", "0", "label 0 1 + - +i -i, x,y,z (|r|<=1), polar:theta,phi[,r]"
    ),
    Parameter("reservoir_state", "state", "+", "as input_state; the state xi"),
)


#: Options of this protocol's run (``qcompile sweep --option name=value``, recipes).
RUN_OPTIONS = (
    Parameter("recoverability", "bool", False, "true|false; delta_k, recovery fidelities "
              "(spec 000 §3), exact and measured for k <= 4"),
    Parameter("zne", "str", None, "odd scale factors from 1, e.g. 1,3,5; zero-noise "
              "extrapolation (device-noise backends)"),
    *ESTIMATOR_OPTIONS,
)  # fmt: skip


@dataclass(frozen=True)
class Homogenization:
    """A validated homogenization experiment; build it with :func:`homogenization`."""

    alpha: float
    reservoir: int
    rounds: int
    input_state: QubitState
    reservoir_state: QubitState

    name = NAME

    @property
    def eta(self) -> float:
        return eta_from_alpha(self.alpha)

    @property
    def collisions(self) -> int:
        return self.rounds * self.reservoir

    @property
    def num_qubits(self) -> int:
        """Qubits of the circuit: S, R_1..R_N and the purifiers of mixed states."""
        n = 1 + self.reservoir
        n += 0 if self.input_state.is_pure else 1
        n += 0 if self.reservoir_state.is_pure else self.reservoir
        return n

    def check_fits(self, device_qubits: int | None, where: str) -> None:
        """Raise :class:`InvalidParameter` on ``reservoir`` if the register exceeds the device."""
        if device_qubits is None or self.num_qubits <= device_qubits:
            return
        per_reservoir = 1 if self.reservoir_state.is_pure else 2
        fixed = 1 if self.input_state.is_pure else 2
        largest = (device_qubits - fixed) // per_reservoir
        raise InvalidParameter(
            "reservoir",
            self.reservoir,
            f"N <= {largest} on {where}; this register needs {self.num_qubits} qubits",
        )

    def parameters(self) -> dict:
        return {
            "alpha": self.alpha,
            "eta": self.eta,
            "reservoir": self.reservoir,
            "rounds": self.rounds,
            "input_state": list(self.input_state.bloch),
            "reservoir_state": list(self.reservoir_state.bloch),
        }

    # -- circuits ---------------------------------------------------------------------------
    def circuit(self, collisions: int | None = None) -> QuantumCircuit:
        """The unitary circuit of the first ``collisions`` collisions (default: all).

        Every prefix acts on the whole register, so one qubit layout serves them all.
        """
        k = self.collisions if collisions is None else collisions
        if not 0 <= k <= self.collisions:
            raise InvalidParameter("collisions", k, f"0 <= k <= {self.collisions}")
        n = self.reservoir
        regs = [QuantumRegister(1, "S"), QuantumRegister(n, "R")]
        if not self.input_state.is_pure:
            regs.append(QuantumRegister(1, "P_S"))
        if not self.reservoir_state.is_pure:
            regs.append(QuantumRegister(n, "P_R"))
        qc = QuantumCircuit(*regs, name=f"homogenization_k{k}")
        purifier = iter(range(n + 1, qc.num_qubits))
        self.input_state.prepare(qc, 0, None if self.input_state.is_pure else next(purifier))
        for j in range(1, n + 1):
            self.reservoir_state.prepare(
                qc, j, None if self.reservoir_state.is_pure else next(purifier)
            )
        gate = SwapPowerGate(self.alpha)
        for step in range(k):
            qc.append(gate, [0, 1 + step % n])
        return qc

    def reused_reservoir_circuit(self) -> QuantumCircuit:
        """The same system dynamics with one reservoir qubit, reset and re-prepared in ξ
        before every collision (spec 000 §4): 2 qubits (3 with a purifier per mixed state)
        instead of N + 1, at the price of N resets. Only the system's state is kept."""
        regs = [QuantumRegister(1, "S"), QuantumRegister(1, "R")]
        if not self.input_state.is_pure:
            regs.append(QuantumRegister(1, "P_S"))
        if not self.reservoir_state.is_pure:
            regs.append(QuantumRegister(1, "P_R"))
        qc = QuantumCircuit(*regs, name="homogenization_reused")
        purifier = iter(range(2, qc.num_qubits))
        p_s = None if self.input_state.is_pure else next(purifier)
        p_r = None if self.reservoir_state.is_pure else next(purifier)
        self.input_state.prepare(qc, 0, p_s)
        gate = SwapPowerGate(self.alpha)
        for step in range(self.collisions):
            if step:
                qc.reset(1)
                if p_r is not None:
                    qc.reset(p_r)
            self.reservoir_state.prepare(qc, 1, p_r)
            qc.append(gate, [0, 1])
        return qc

    def isometries(self) -> Iterator[np.ndarray]:
        """The Stinespring isometry of the input qubit after k = 1..R·N collisions (spec 000
        §3): ``V[r, s, i]`` = ⟨s|_S ⟨r|_R U_k (|i⟩_S ⊗ |ξ⟩^{⊗N}), r over the reservoir
        register little-endian (R_1 least significant). Needs a pure ξ."""
        if not self.reservoir_state.is_pure:
            raise InvalidParameter(
                "reservoir_state", "mixed", "a pure state: the input's isometry into S and R"
            )
        gate = SwapPowerGate(self.alpha)
        register = []
        for label in ("0", "1"):
            start = replace(self, input_state=parse_qubit_state(label, "input_state"))
            register.append(Statevector(start.circuit(0)))
        for step in range(self.collisions):
            qubits = [0, 1 + step % self.reservoir]
            register = [state.evolve(gate, qargs=qubits) for state in register]
            columns = np.stack([state.data for state in register], axis=-1)
            yield columns.reshape(2**self.reservoir, 2, 2)

    def tomography_tasks(self) -> list[TomographyTask]:
        """S after every k = 0..R·N collisions; at the end also every R_j."""
        tasks = [TomographyTask(f"k={k}", self.circuit(k), (0,)) for k in range(self.collisions)]
        final = tuple(range(self.reservoir + 1))
        tasks.append(TomographyTask(f"k={self.collisions}", self.circuit(), final))
        return tasks

    def observables(self, blochs: list[np.ndarray]) -> dict[str, np.ndarray]:
        """Fidelities to ξ from per-task Bloch vectors (from :meth:`tomography_tasks`).

        ``blochs[t]`` has shape (..., q_t, 3); leading axes (bootstrap samples) broadcast.
        """
        xi = np.asarray(self.reservoir_state.bloch)
        system = np.stack([b[..., 0, :] for b in blochs], axis=-2)
        return {
            "system_fidelity": bloch_fidelity(system, xi),
            "reservoir_fidelity": bloch_fidelity(blochs[-1][..., 1:, :], xi),
        }

    # -- references -------------------------------------------------------------------------
    def reference_states(self) -> tuple[list[np.ndarray], list[np.ndarray]]:
        """Exact ρ_S after k = 0..R·N collisions and every final ρ_{R_j}.

        One round: the iterated map of eqs. (4)–(5). More rounds: the exact statevector of
        the purified register (the map no longer applies once S meets a used R_j).
        """
        if self.rounds == 1:
            return self.iterated_map()
        final = reduced_qubit_states(self.circuit(), range(self.reservoir + 1))
        system = [reduced_qubit_states(self.circuit(k), [0])[0] for k in range(self.collisions)]
        return system + [final[0]], final[1:]

    def iterated_map(self) -> tuple[list[np.ndarray], list[np.ndarray]]:
        """Eqs. (4)–(5): ρ_S after k = 0..N collisions and the final state of each R_k."""
        c, s = math.cos(self.eta), math.sin(self.eta)
        xi = self.reservoir_state.density_matrix()
        rho = self.input_state.density_matrix()
        system, reservoir = [rho], []
        for _ in range(self.reservoir):
            reservoir.append(s * s * rho + c * c * xi + 1j * c * s * (rho @ xi - xi @ rho))
            rho = c * c * rho + s * s * xi + 1j * c * s * (xi @ rho - rho @ xi)
            system.append(rho)
        return system, reservoir

    def reference(self) -> dict[str, list[float]]:
        """The exact observables (the ``reference`` block of a result)."""
        system, reservoir = self.reference_states()
        blochs = [np.array([bloch_vector(r)]) for r in system[:-1]]
        blochs.append(np.array([bloch_vector(r) for r in [system[-1], *reservoir]]))
        return {k: v.tolist() for k, v in self.observables(blochs).items()}

    def open_system(self) -> OpenSystem:
        """The register as an :class:`OpenSystem` with the exchange Hamiltonian of each step.

        U^α = e^{iπα/4} exp(−i πα/4 (XX+YY+ZZ)), so collision k is unit time under
        H_k = πα/4 (XX+YY+ZZ) on (S, R_k) during t ∈ [k−1, k). Subsystem 0 is S, j is R_j.
        """
        if self.reservoir > 9:
            raise ResourceLimit("open_system() builds dense 2^(N+1) matrices: reservoir <= 9")
        dims = (2,) * (self.reservoir + 1)
        paulis = [
            np.array(m, dtype=complex)
            for m in ([[0, 1], [1, 0]], [[0, -1j], [1j, 0]], [[1, 0], [0, -1]])
        ]
        exchange = sum(np.kron(p, p) for p in paulis) * (math.pi * self.alpha / 4)
        terms = []
        for j in range(self.reservoir):
            windows = [
                (r * self.reservoir + j, r * self.reservoir + j + 1) for r in range(self.rounds)
            ]
            terms.append(TimeDependentTerm(embed(exchange, [0, 1 + j], dims), _window(windows)))
        rho = self.input_state.density_matrix()
        for _ in range(self.reservoir):
            rho = np.kron(rho, self.reservoir_state.density_matrix())
        return OpenSystem(
            dims=dims,
            time_dependent=tuple(terms),
            initial_state=rho,
            labels=("S", *(f"R{j + 1}" for j in range(self.reservoir))),
        )


def _window(intervals: list[tuple[int, int]]):
    def coefficient(t: float) -> float:
        return 1.0 if any(a <= t < b for a, b in intervals) else 0.0

    return coefficient


def homogenization(
    *,
    alpha: float | None = None,
    eta: float | None = None,
    reservoir: int = 4,
    rounds: int = 1,
    input_state: str | QubitState | tuple = "0",
    reservoir_state: str | QubitState | tuple = "+",
) -> Homogenization:
    """Validate physical parameters and build the protocol; give exactly one of α and η."""
    if (alpha is None) == (eta is None):
        given = "both" if alpha is not None else "neither"
        raise InvalidParameter(
            "alpha", f"{given} of alpha and eta", "exactly one of --alpha and --eta"
        )
    if alpha is None:
        if not math.isfinite(eta):
            raise InvalidParameter("eta", eta, "a finite real number")
        alpha = alpha_from_eta(eta)
    if not math.isfinite(alpha):
        raise InvalidParameter("alpha", alpha, "a finite real number")
    if (
        isinstance(reservoir, bool)
        or int(reservoir) != reservoir
        or not 1 <= reservoir <= MAX_RESERVOIR
    ):
        raise InvalidParameter("reservoir", reservoir, f"an integer 1 <= N <= {MAX_RESERVOIR}")
    if isinstance(rounds, bool) or int(rounds) != rounds or not 1 <= rounds <= MAX_ROUNDS:
        raise InvalidParameter("rounds", rounds, f"an integer 1 <= R <= {MAX_ROUNDS}")
    protocol = Homogenization(
        alpha=float(alpha),
        reservoir=int(reservoir),
        rounds=int(rounds),
        input_state=parse_qubit_state(input_state, "input_state"),
        reservoir_state=parse_qubit_state(reservoir_state, "reservoir_state"),
    )
    if protocol.rounds > 1:  # the reference is the exact register, state by state
        work = protocol.collisions * 2.0**protocol.num_qubits
        if protocol.num_qubits > MAX_EXACT_QUBITS or work > MAX_EXACT_WORK:
            raise InvalidParameter(
                "reservoir", reservoir, f"with rounds = {rounds} the reference simulates all "
                f"{protocol.num_qubits} qubits after each of {protocol.collisions} collisions: "
                f"at most {MAX_EXACT_QUBITS} qubits and collisions x 2^qubits <= 2^28 (fewer "
                "reservoir qubits or rounds)"
            )  # fmt: skip
    return protocol


def from_mapping(values: Mapping[str, object]) -> Homogenization:
    """Build from a parameter mapping (CLI ``--param``/JSON), keys as in :data:`PARAMETERS`.

    A mapping from :meth:`Homogenization.parameters` names both α and η; they are accepted
    together when they agree (α = −2η/π), so stored runs rebuild their protocol.
    """
    values = dict(values)
    alpha, eta = values.get("alpha"), values.get("eta")
    if (
        alpha is not None
        and eta is not None
        and math.isclose(alpha_from_eta(float(eta)), float(alpha), rel_tol=1e-12, abs_tol=1e-12)
    ):
        values.pop("eta")
    return homogenization(**values)


# -- data flow: the one runner's Bloch path (qcompile.run.bloch_pipeline) --------------------
def reference(protocol: Homogenization) -> dict[str, list[float]]:
    """The exact observables: the iterated map (one round) or the exact register."""
    return protocol.reference()


def tomography_tasks(protocol: Homogenization) -> list[TomographyTask]:
    """S after every k = 0..R·N collisions; at the end also every R_j."""
    return protocol.tomography_tasks()


def estimate_blochs(protocol: Homogenization, blochs: list[np.ndarray]) -> dict[str, np.ndarray]:
    """The fidelities to ξ from the tasks' Bloch vectors."""
    return protocol.observables(blochs)


def program(protocol: Homogenization) -> QuantumCircuit:
    """The whole collision sequence: every circuit of a run is placed on the qubits chosen
    for it, and it is stored compiled with the run."""
    return protocol.circuit()


def side_experiment(protocol: Homogenization, options: Mapping[str, object]):
    """``recoverability`` (spec 000 §3): process tomography of the input's channels in the
    run's job (:class:`~qcompile.protocols.homogenization_recoverability.Recoverability`,
    checked here: before anything is stored)."""
    if not options.get("recoverability"):
        return None
    from qcompile.protocols.homogenization_recoverability import Recoverability

    return Recoverability(protocol)


#: This protocol's run (plugin interface): qcompile's one runner over the data flow above —
#: its options ``shots``, ``seed``, ``store``, ``recoverability``, ``zne``, ``estimator``,
#: ``resilience_level`` (:func:`qcompile.run.bloch_pipeline.run_blochs`).
run = one_runner(__name__)


def check(protocol: Homogenization, backend, **options) -> None:
    """Refuse what :func:`run` would refuse before any work, running nothing (the
    registry's :meth:`~qcompile.protocols.plugin.DataFlowPlugin.check`)."""
    DataFlowPlugin(sys.modules[__name__]).check(protocol, backend, **options)


def render(results: list, console) -> None:
    """The run's tables (plugin interface): :mod:`qcompile.protocols.rendering.homogenization`."""
    from qcompile.protocols.rendering.homogenization import render

    render(results, console)


def figure(result):
    """The run's figure (plugin interface): fidelities after k collisions, recoverability."""
    from qcompile.protocols.rendering.figures import homogenization_figure

    return homogenization_figure(result)
