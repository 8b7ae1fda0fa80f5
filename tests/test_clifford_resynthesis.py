"""Clifford blocks resynthesized (issue 35, item 2): :mod:`qcompile.passes.clifford_resynthesis`
and the alternatives of :func:`~qcompile.passes.logical_optimization.optimize_logically`.

Exactness is operator equality up to a global phase (a Clifford tableau carries none), read
through the compiled layout where one is (:func:`test_compile_exactness._check_operator`,
1e-8).
"""

from __future__ import annotations

import numpy as np
import pytest
from qiskit import QuantumCircuit
from qiskit.circuit.random import random_clifford_circuit
from qiskit.quantum_info import Clifford, Operator
from qiskit.transpiler import generate_preset_pass_manager
from qiskit_ibm_runtime.fake_provider import FakeTorino
from test_compile_exactness import _check_operator

from qcompile.metrics import circuit_metrics
from qcompile.passes.clifford_resynthesis import resynthesize_cliffords, worth_resynthesizing
from qcompile.passes.compile import compile_best, compiler_revision
from qcompile.passes.logical_optimization import optimize_logically


def _clifford_circuit(gates: int, seed: int, n: int = 6) -> QuantumCircuit:
    qc = QuantumCircuit(n)
    qc.compose(random_clifford_circuit(n, gates, seed=seed), inplace=True)
    return qc


def _two_qubit(circuit: QuantumCircuit) -> int:
    return circuit_metrics(circuit)["two_qubit_gates"]


@pytest.mark.parametrize("seed", range(3))
def test_resynthesis_keeps_the_operator(seed):
    """Clifford runs between non-Clifford rotations, RZ by multiples of π/2 among them (taken
    as S^k): the operator is unchanged up to a global phase."""
    rng = np.random.default_rng(seed)
    qc = _clifford_circuit(30, seed, n=4)
    qc.rz(float(rng.uniform(0.1, 1.0)), 1)  # not a Clifford: splits the blocks
    qc.rz(3 * np.pi / 2, 2)
    qc.rz(-np.pi / 2, 0)
    qc.compose(_clifford_circuit(30, seed + 10, n=4), inplace=True)
    out = resynthesize_cliffords(qc)
    assert "swap" not in out.count_ops()
    overlap = abs(np.vdot(Operator(out).data, Operator(qc).data)) / 2**qc.num_qubits
    assert overlap == pytest.approx(1.0, abs=1e-9)


def test_a_deep_clifford_circuit_shrinks_to_the_greedy_synthesis():
    """200 random Clifford gates on 6 qubits are one Clifford: after the logical optimization
    at most what greedy synthesis of that Clifford itself needs (compiled), the operator
    unchanged up to phase; without the alternatives (revision ≤ 4) far more."""
    qc = _clifford_circuit(200, 7)
    assert worth_resynthesizing(qc)
    (plain,) = optimize_logically([qc])
    (better,) = optimize_logically([qc], alternatives=True)
    (direct,) = optimize_logically([resynthesize_cliffords(Clifford(qc).to_circuit())])
    assert _two_qubit(better) <= _two_qubit(direct) < _two_qubit(plain)
    assert Operator(better).equiv(Operator(qc))


@pytest.mark.parametrize("seed", range(2))
def test_deep_clifford_circuits_compile_exactly_and_below_o3(seed):
    """On FakeTorino: exact (operator through the layouts) and below Qiskit O3's count,
    where revision 4 was not."""
    qc = _clifford_circuit(150, seed, n=8)
    target = FakeTorino().target
    (ours,) = compile_best([qc], target, seed=seed, initial_state="any")
    _check_operator(qc, ours)
    o3 = generate_preset_pass_manager(3, target=target, seed_transpiler=seed).run(qc)
    with compiler_revision(4):
        (old,) = compile_best([qc], target, seed=seed, initial_state="any")
    assert _two_qubit(ours) < min(_two_qubit(o3), _two_qubit(old))
