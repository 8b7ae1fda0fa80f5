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
    for sites, ring in ((3, False),) if quick else ((3, False), (4, True)):
        name = f"lindblad_{'ring' if ring else 'chain'}{sites}_shared_ancilla"
        circuits.append(SuiteCircuit(name, "shared_ancilla", _shared_ancilla_model(sites, ring)))
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
    circuits.append(SuiteCircuit("clifford8", "clifford", _random_clifford(8, 5), kind="generic"))
    gates = _random_clifford_gates(8, 80, 5)
    circuits.append(SuiteCircuit("clifford_gates8", "clifford", gates, kind="generic"))
    circuits.append(SuiteCircuit("qaoa10_3regular", "qaoa", _qaoa(10, 3), kind="generic"))
    return circuits


def _shared_ancilla_model(sites: int, ring: bool, steps: int = 3) -> QuantumCircuit:
    """A user's Lindblad model as ``qcompile run lindblad`` lowers it: a Heisenberg chain (or
    ring) of ``sites`` qubits, amplitude damping γ = 0.2 on each, δt = 0.1, one ancilla
    shared by every jump operator and reset after each collision (issue 35)."""
    from qcompile.lowering.dynamics import lower_dynamics
    from qcompile.model import OpenSystem

    bonds = [(i, i + 1) for i in range(sites - 1)] + ([(sites - 1, 0)] if ring else [])
    h = sum(_pauli(sites, {a: p, b: p}) for a, b in bonds for p in "XYZ")
    lower = np.array([[0, 1], [0, 0]])
    jumps = tuple(
        np.sqrt(0.2) * np.kron(np.kron(np.eye(2 ** (sites - 1 - k)), lower), np.eye(2**k))
        for k in range(sites)
    )
    start = np.zeros((2**sites, 2**sites))
    start[1, 1] = 1.0  # qubit 0 excited
    model = OpenSystem(dims=(2,) * sites, hamiltonian=h, jump_operators=jumps,
                       initial_state=start)  # fmt: skip
    lowered = lower_dynamics(model, t_max=0.1 * steps, dt=0.1, ancillas=1).circuit
    lowered.name = f"lindblad_{'ring' if ring else 'chain'}{sites}"
    return lowered


def _random_clifford(n: int, seed: int) -> QuantumCircuit:
    """A seeded random n-qubit Clifford as Qiskit synthesizes it (CX, H, S): a generic
    circuit whose best form is a resynthesis, not a peephole."""
    from qiskit.quantum_info import random_clifford

    qc = QuantumCircuit(n, name=f"clifford{n}")
    qc.compose(random_clifford(n, seed=seed).to_circuit(), inplace=True)
    return qc


def _random_clifford_gates(n: int, gates: int, seed: int) -> QuantumCircuit:
    """``gates`` seeded random Clifford gates on n qubits (Qiskit's
    ``random_clifford_circuit``: one- and two-qubit Cliffords, SWAP, iSWAP, ECR among them)."""
    from qiskit.circuit.random import random_clifford_circuit

    qc = QuantumCircuit(n, name=f"clifford_gates{n}")
    qc.compose(random_clifford_circuit(n, gates, seed=seed), inplace=True)
    return qc


def _qaoa(n: int, seed: int, layers: int = 2) -> QuantumCircuit:
    """QAOA MaxCut on a seeded random 3-regular graph of ``n`` vertices, ``layers`` rounds of
    RZZ on every edge then RX on every vertex, fixed angles."""
    import networkx as nx

    graph = nx.random_regular_graph(3, n, seed=seed)
    qc = QuantumCircuit(n, name=f"qaoa{n}")
    qc.h(range(n))
    for layer in range(layers):
        gamma, beta = 0.4 + 0.3 * layer, 0.7 - 0.2 * layer
        for a, b in sorted(graph.edges()):
            qc.rzz(2 * gamma, a, b)
        qc.rx(2 * beta, range(n))
    return qc


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
