"""The circuits of the transpiler benchmark suite (:mod:`qcompile.app.benchmark_suite`).

*Protocol* circuits are measured as they run (experiments from |0…0⟩); *operator* circuits are
protocol circuits left unmeasured, compiled as operators; *generic* circuits are compiled as
operators too (see the suite's docstring for the list and why).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from qiskit import QuantumCircuit

__all__ = ["SuiteCircuit", "measured_circuit", "suite_circuits"]


@dataclass(frozen=True)
class SuiteCircuit:
    name: str
    family: str
    circuit: QuantumCircuit
    bound: int | None = None  # target two-qubit count (issue 14: 2N for homogenization)
    kind: str = "protocol"  # "operator" (a protocol circuit, unmeasured) or "generic"


def measured_circuit(circuit: QuantumCircuit) -> QuantumCircuit:
    """``circuit`` as an experiment: measured at the end unless it measures already."""
    if any(i.operation.name == "measure" for i in circuit.data):
        return circuit
    out = circuit.copy()
    out.measure_all()
    return out


def suite_circuits(quick: bool = False) -> list[SuiteCircuit]:
    """The suite (``quick``: N ∈ {2, 4, 8, 16} and the smaller dynamics)."""
    from qcompile.lowering.dynamics import lower_dynamics
    from qcompile.model import OpenSystem, TimeDependentTerm
    from qcompile.protocols import (
        cat,
        coherent_feedback,
        dissipative_qubits,
        gkp,
        homogenization,
        ising_memory,
    )

    circuits = []
    sizes = (2, 4, 8, 16) if quick else range(2, 17)
    for n in sizes:
        h = homogenization(alpha=0.3, reservoir=n, reservoir_state="polar:2.2,0")
        circuits.append(SuiteCircuit(f"homogenization_N{n}", "homogenization", h.circuit(), 2 * n))
    for n in (8,) if quick else (4, 8, 16):
        h = homogenization(alpha=0.3, reservoir=n, reservoir_state="polar:2.2,0")
        circuits.append(
            SuiteCircuit(
                f"homogenization_reused_N{n}",
                "homogenization_reused",
                h.reused_reservoir_circuit(),
                2 * n,
            )
        )
    for n in (4,) if quick else (4, 8):
        h = homogenization(alpha=0.3, reservoir=n, rounds=2, reservoir_state="polar:2.2,0")
        circuits.append(SuiteCircuit(f"homogenization_2rounds_N{n}", "two_rounds", h.circuit()))
        circuits.append(SuiteCircuit(f"two_hub_N{n}", "two_hub", _two_hub_chain(n, 0.3)))
    cf = coherent_feedback(gamma=5, t_max=0.5 if quick else 1.0, dt=0.1)
    lowered = lower_dynamics(
        cf.open_system(),
        t_max=cf.t_max,
        dt=cf.dt,
        frame=cf.frame(),
        rule="rotating",
        synthesis="trotter",
    )
    trotterized = lowered.circuit
    circuits.append(SuiteCircuit("coherent_feedback_collisions", "coherent_feedback", trotterized))
    circuits.append(SuiteCircuit("coherent_feedback_default", "coherent_feedback", cf.circuit()))
    dq = dissipative_qubits()
    psi = np.array([0.6, 0.48j, -0.48, 0.4219])  # entangled in H_S's eigenbasis
    psi = psi / np.linalg.norm(psi)
    circuits.append(
        SuiteCircuit("dissipative_cascade_step", "dissipative_qubits", dq.circuit(psi, 1, dq.dt))
    )
    for m in (2, 3):
        memory = ising_memory(size=m)
        circuits.append(
            SuiteCircuit(f"ising_memory_M{m}_step", "ising_memory", memory.circuit(steps=1))
        )
    circuits.append(SuiteCircuit("gkp_grid5_step", "gkp", gkp().circuit(grid_qubits=5)))
    circuits.append(SuiteCircuit("cat_step", "cat", cat().circuit()))
    circuits.append(
        SuiteCircuit("random_collision_model", "random_collision", _random_collision_model(7))
    )
    sites = 10
    zz = sum(_pauli(sites, {i: "Z", i + 1: "Z"}) for i in range(sites - 1))
    xs = sum(_pauli(sites, {i: "X"}) for i in range(sites))
    tfim = OpenSystem(
        dims=(2,) * sites,
        hamiltonian=-zz,
        time_dependent=(TimeDependentTerm(-xs, lambda t: 1.0 + 0.5 * math.cos(t)),),
    )
    steps = 2 if quick else 4
    lowered = lower_dynamics(
        tfim, t_max=0.25 * steps, dt=0.25, order=2, rule="midpoint", synthesis="trotter"
    )
    circuits.append(SuiteCircuit("tfim10_trotter", "tfim", lowered.circuit))
    circuits = [
        SuiteCircuit(c.name, c.family, measured_circuit(c.circuit), c.bound, c.kind)
        for c in circuits
    ]
    # the Trotterized coherent feedback once more, unmeasured: compiled as an operator, so no
    # compiler may use the known input (from |0…0⟩ the plant stays on its trajectory and the
    # measured distribution needs one entangling gate, which state-aware synthesis finds)
    circuits.append(
        SuiteCircuit("coherent_feedback_collisions_operator", "coherent_feedback", trotterized,
                     kind="operator")
    )  # fmt: skip
    from qiskit.circuit.library import QFTGate, quantum_volume

    qft = QuantumCircuit(8, name="qft8")
    qft.append(QFTGate(8), range(8))
    circuits.append(SuiteCircuit("qft8", "qft", qft, kind="generic"))
    qv = QuantumCircuit(10, name="qv10")  # in a register, as pytket's converter needs
    qv.compose(quantum_volume(10, seed=11), inplace=True)
    circuits.append(SuiteCircuit("qv10", "quantum_volume", qv, kind="generic"))
    return circuits


def _two_hub_chain(n: int, alpha: float) -> QuantumCircuit:
    """Two systems S₁, S₂ (in |+⟩, |0⟩) meeting each of ``n`` fresh reservoir qubits in turn."""
    from qcompile.lowering.swap_power import SwapPowerGate

    qc = QuantumCircuit(n + 2, name=f"two_hub_N{n}")
    qc.h(0)
    for j in range(n):
        qc.ry(2.2, 2 + j)
        qc.append(SwapPowerGate(alpha), [0, 2 + j])
        qc.append(SwapPowerGate(alpha), [1, 2 + j])
    return qc


def _random_collision_model(seed: int, collisions: int = 8) -> QuantumCircuit:
    """4 system qubits and 2 ancillas; every collision a seeded random two-qubit unitary on a
    random system qubit and the next ancilla, which is reset after it."""
    from qiskit.quantum_info import random_unitary

    rng = np.random.default_rng(seed)
    qc = QuantumCircuit(6, name="random_collision_model")
    for q in range(4):
        qc.ry(float(rng.uniform(0, math.pi)), q)
    for step in range(collisions):
        system, ancilla = int(rng.integers(0, 4)), 4 + step % 2
        qc.unitary(random_unitary(4, seed=int(rng.integers(1 << 30))), [system, ancilla])
        qc.reset(ancilla)
        if step % 2:
            qc.cx(system, (system + 1) % 4)
    return qc


def _pauli(n: int, letters: dict[int, str]) -> np.ndarray:
    from qiskit.quantum_info import SparsePauliOp

    label = "".join(letters.get(n - 1 - q, "I") for q in range(n))  # little-endian label
    return SparsePauliOp(label).to_matrix()
