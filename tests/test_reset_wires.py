"""A reset starts a new wire (issue 35, item 1): :mod:`qcompile.passes.reset_wires`.

Exactness is checked as :mod:`test_compile_exactness` checks it — the joint density matrix of
the circuit's unmeasured qubits and its classical records, against the circuit as drawn, within
1e-8 — on seeded random collision models with one shared, reset ancilla (the circuits the
split is for; the generic random circuits of that module rarely split). The counts are
compared with the same model lowered with one ancilla per jump operator, which needs no split.
"""

from __future__ import annotations

import numpy as np
import pytest
from qiskit import QuantumCircuit
from qiskit.quantum_info import random_unitary
from qiskit_ibm_runtime.fake_provider import FakeSherbrooke, FakeTorino
from test_compile_exactness import _check_channel

from qcompile.lowering.dynamics import lower_dynamics
from qcompile.metrics import circuit_metrics
from qcompile.model import OpenSystem
from qcompile.passes.compile import compile_best, compiler_revision, shared_layout
from qcompile.passes.reset_wires import NEW_WIRES, added_wires, split_at_resets

TARGETS = {"fake_torino": FakeTorino().target, "fake_sherbrooke": FakeSherbrooke().target}


def collision_program(seed: int, *, system: int = 3, collisions: int = 7) -> QuantumCircuit:
    """Random system rotations and couplings; ``collisions`` random two-qubit unitaries of a
    random system qubit with one shared ancilla (qubit ``system``), which is measured to its
    own clbit after some collisions and reset after every one."""
    rng = np.random.default_rng(seed)
    qc = QuantumCircuit(system + 1, collisions)
    anc = system
    for q in range(system):
        qc.ry(float(rng.uniform(0, np.pi)), q)
    for k in range(collisions):
        if rng.random() < 0.5:
            a, b = (int(q) for q in rng.choice(system, 2, replace=False))
            qc.cx(a, b)
        partner = int(rng.integers(system))
        qc.unitary(random_unitary(4, seed=int(rng.integers(2**31))), [partner, anc])
        if rng.random() < 0.3:
            qc.measure(anc, k)
        qc.reset(anc)
    return qc


def _two_qubit(circuit: QuantumCircuit) -> int:
    return circuit_metrics(circuit)["two_qubit_gates"]


def _damped_chain(ancillas: int) -> QuantumCircuit:
    """A 3-qubit Heisenberg chain with amplitude damping on every qubit (3 steps), lowered
    with ``ancillas`` reset ancillas (1: shared by the three jump operators)."""
    pauli = {"I": np.eye(2), "X": np.array([[0, 1], [1, 0]]),
             "Y": np.array([[0, -1j], [1j, 0]]), "Z": np.diag([1.0, -1.0])}  # fmt: skip
    lower = np.array([[0, 1], [0, 0]])

    def op(factors: dict) -> np.ndarray:
        out = np.eye(1)
        for k in range(3):
            out = np.kron(out, factors.get(k, pauli["I"]))
        return out

    h = sum(op({a: pauli[p], a + 1: pauli[p]}) for a in range(2) for p in "XYZ")
    jumps = tuple(np.sqrt(0.2) * op({k: lower}) for k in range(3))
    start = np.zeros((8, 8))
    start[1, 1] = 1.0
    model = OpenSystem(dims=(2, 2, 2), hamiltonian=h, jump_operators=jumps, initial_state=start)
    return lower_dynamics(model, t_max=0.3, dt=0.1, ancillas=ancillas).circuit


@pytest.mark.parametrize("seed", range(4))
def test_the_split_keeps_the_channel(seed):
    """Before any compilation: the split circuit's joint state of qubits and records is the
    drawn one's, and the moved segments went to new wires."""
    program = collision_program(seed)
    split = split_at_resets(program)
    assert split.num_qubits > program.num_qubits
    _check_channel(program, split)


@pytest.mark.parametrize("target", sorted(TARGETS))
@pytest.mark.parametrize("seed", range(3))
def test_split_collision_models_compile_exactly(seed, target):
    """Through compile_best, for |0…0⟩ inputs and for random product inputs."""
    program = collision_program(seed)
    (zero,) = compile_best([program], TARGETS[target], seed=seed, initial_state="zero")
    _check_channel(program, zero)
    (anything,) = compile_best([program], TARGETS[target], seed=seed, initial_state="any")
    rng = np.random.default_rng(seed)
    prepare = [random_unitary(2, seed=int(rng.integers(2**31))).data
               for _ in range(program.num_qubits)]  # fmt: skip
    _check_channel(program, anything, prepare)


@pytest.mark.parametrize("target", sorted(TARGETS))
def test_a_shared_ancilla_compiles_like_one_ancilla_per_jump(target):
    """The issue's measure: one shared reset ancilla routes like one ancilla per jump
    operator (before the split it cost 45 two-qubit gates against 33 on both devices)."""
    shared, per_jump = _damped_chain(1), _damped_chain(3)
    shared.measure_all()
    per_jump.measure_all()
    (a,) = compile_best([shared], TARGETS[target])
    (b,) = compile_best([per_jump], TARGETS[target])
    assert _two_qubit(a) <= _two_qubit(b)
    with compiler_revision(4):  # the stored-run recipe still compiles as it did
        (old,) = compile_best([shared], TARGETS[target])
    assert added_wires(old.layout) == 0
    assert _two_qubit(a) < _two_qubit(old)


def test_a_shared_layout_places_the_new_wires_and_every_circuit_fits_it():
    """shared_layout returns places for the added wires; circuits compiled on it (a prefix
    of the evolution, the evolution itself) are split to that width and stay exact."""
    target = TARGETS["fake_torino"]
    program = collision_program(5)
    layout = shared_layout(program, target)
    assert len(layout) > program.num_qubits
    assert len(set(layout)) == len(layout)
    prefix = program.copy_empty_like()
    for inst in program.data[: len(program.data) // 2]:
        prefix.append(inst)
    compiled = compile_best([program, prefix], target, initial_layout=layout,
                            initial_state="zero", candidates=1)  # fmt: skip
    for drawn, out in zip([program, prefix], compiled, strict=True):
        assert out.layout.initial_index_layout(filter_ancillas=True) == layout[: drawn.num_qubits]
        _check_channel(drawn, out)


def test_no_room_or_a_barrier_keeps_the_wires():
    """No wire is added beyond ``max_width``; a segment holding a barrier stays put."""
    program = collision_program(0)
    assert split_at_resets(program, max_width=program.num_qubits) is program
    pinned = QuantumCircuit(3)
    pinned.cx(0, 2)
    pinned.reset(2)
    pinned.cx(1, 2)
    pinned.barrier()
    pinned.reset(2)
    pinned.cx(0, 2)
    assert split_at_resets(pinned) is pinned
    free = pinned.copy_empty_like()
    for inst in pinned.data:
        if inst.operation.name != "barrier":
            free.append(inst)
    split = split_at_resets(free)
    assert [r.name for r in split.qregs] == ["q", NEW_WIRES]
    _check_channel(free, split)
