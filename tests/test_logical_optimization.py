"""Logical optimization before routing (qcompile.passes.logical_optimization): exact on
operators and on the distributions of measured circuits, qubit order kept, and the
device compilation it feeds at least as good as compiling the circuit as given."""

from __future__ import annotations

import numpy as np
import pytest
from qiskit import QuantumCircuit
from qiskit.circuit.random import random_circuit
from qiskit.quantum_info import DensityMatrix, Operator

from qcompile.passes import build_pass_manager
from qcompile.passes.compile import _cost, compile_best
from qcompile.passes.logical_optimization import optimize_logically
from qcompile.passes.targets import fake_backend


def padded(circuit: QuantumCircuit, width: int) -> QuantumCircuit:
    out = QuantumCircuit(width)
    out.compose(circuit, range(circuit.num_qubits), inplace=True)
    return out


def _repeated_interactions(seed: int) -> QuantumCircuit:
    """Five qubits, 40 seeded two-qubit rotations between few pairs (a product-formula step's
    shape): what consolidation before routing is for."""
    rng = np.random.default_rng(seed)
    qc = QuantumCircuit(5)
    pairs = [(0, 1), (0, 2), (0, 3), (0, 4), (1, 2), (2, 3), (3, 4), (1, 4)]
    for _ in range(40):
        a, b = pairs[rng.integers(len(pairs))]
        qc.rzz(rng.uniform(-1, 1), a, b)
        qc.rx(rng.uniform(-1, 1), a)
        qc.cp(rng.uniform(-1, 1), b, a)
    return qc


@pytest.mark.parametrize("seed", range(4))
def test_logical_circuit_is_the_same_operator(seed):
    """Unitary circuits (seeded random ones and repeated interactions): the logical circuit
    is the same operator on the same qubit order (no layout attached), to 1e-9."""
    circuits = [random_circuit(5, 8, max_operands=3, seed=seed), _repeated_interactions(seed)]
    for original, logical in zip(circuits, optimize_logically(circuits, seed=seed), strict=True):
        assert logical.layout is None
        assert logical.num_qubits == original.num_qubits
        assert Operator(logical).equiv(Operator(original), atol=1e-9)


def test_a_circuit_whose_compilation_permutes_qubits_is_kept_as_given():
    """Qiskit's ElidePermutations turns SWAPs into a relabelling of the wires (a final
    layout); the logical circuit must act on the qubits in their order, so such a circuit is
    passed on unchanged, and the others of the batch are still optimized."""
    swapped = QuantumCircuit(3)
    swapped.h(0)
    swapped.swap(0, 1)
    swapped.cx(1, 2)
    swapped.swap(1, 2)
    plain = _repeated_interactions(7)
    assert build_pass_manager(None).run(swapped).layout is not None  # it does permute
    kept, optimized = optimize_logically([swapped, plain])
    assert kept is swapped
    assert optimized is not plain and Operator(optimized).equiv(Operator(plain), atol=1e-9)


def test_measured_circuits_with_resets_keep_their_distribution():
    """A measured circuit with mid-circuit resets (a collision model with reused ancillas):
    the state-aware logical circuit gives the same exact outcome distribution (1e-9)."""
    qc = QuantumCircuit(3, 3)
    rng = np.random.default_rng(5)
    for _ in range(3):
        qc.ry(rng.uniform(0, 3), 2)
        qc.cry(rng.uniform(0, 3), 0, 2)
        qc.rzz(rng.uniform(0, 3), 1, 2)
        qc.cx(2, 1)
        qc.reset(2)
    qc.measure(range(3), range(3))
    (logical,) = optimize_logically([qc])

    def distribution(circuit):
        body = circuit.remove_final_measurements(inplace=False)
        return DensityMatrix(body).probabilities()

    assert np.allclose(distribution(logical), distribution(qc), atol=1e-9)


@pytest.mark.parametrize("device", ["fake_nairobi", "fake_jakarta"])
def test_device_compilation_of_the_logical_circuit_is_exact(device):
    """compile_best (which routes the logical circuit where that is cheaper): the compiled
    operator, with its initial and final layout, equals the original's (7-qubit devices)."""
    qc = _repeated_interactions(3)
    (compiled,) = compile_best([qc], fake_backend(device).target, seed=2)
    assert Operator.from_circuit(compiled).equiv(Operator(padded(qc, compiled.num_qubits)))


def test_routing_the_logical_circuit_is_never_worse_and_pays_on_a_dense_step():
    """The circuit as given is always a candidate, so the result costs at most its
    compilation; on the Ising-memory M = 3 step (dense controlled rotations on a
    heavy-hex device) routing the consolidated circuit saves over half the two-qubit gates
    (seeded: 479 → 139 on FakeTorino when measured)."""
    from qcompile.app.benchmark_circuits import suite_circuits

    target = fake_backend("fake_torino").target
    step = next(c for c in suite_circuits(quick=True) if c.name == "ising_memory_M3_step")
    (best,) = compile_best([step.circuit], target, seed=1)
    direct = build_pass_manager(target, seed=1).run(step.circuit)
    assert _cost(best) <= _cost(direct)
    assert _cost(best)[0] < 0.5 * _cost(direct)[0]


def test_a_recipe_compiles_as_its_recorded_revision(tmp_path):
    """make_recipe records the current compiler revision; executing a recipe compiles (and
    stores the run) under the revision it records — one without (stored before revisions
    existed) under revision 1."""
    from qcompile.backends import ResultStore, get_backend
    from qcompile.passes.compile import COMPILER_REVISION
    from qcompile.run.recipe import execute, make_recipe

    store = ResultStore(tmp_path / "runs.db")
    recipe = make_recipe("homogenization", {"alpha": 0.3, "reservoir": 2}, shots=200, seed=1)
    assert recipe["compiler_revision"] == COMPILER_REVISION
    older = {k: v for k, v in recipe.items() if k != "compiler_revision"}
    for given, revision in ((recipe, COMPILER_REVISION), (older, 1)):
        result = execute(given, get_backend("aer"), store=store)
        assert store.get_run(result.run_id)["recipe"]["compiler_revision"] == revision


def test_a_reseeded_pass_manager_compiles_like_a_fresh_one():
    """compile_best's candidates reuse one pass manager with the seeded stages (layout,
    routing) rebuilt: for circuits as given and optimized, with and without a fixed initial
    layout, on two devices, the compiled circuits and their layouts are identical to those of
    a pass manager built for that seed."""
    from qcompile.app.benchmark_circuits import suite_circuits
    from qcompile.passes import reseeded

    names = {"two_hub_N4", "qft8", "random_collision_model", "ising_memory_M2_step"}
    circuits = [c.circuit for c in suite_circuits(quick=True) if c.name in names]
    circuits += optimize_logically(circuits, seed=1)
    checked = 0
    for device, layout in (("fake_torino", None), ("fake_sherbrooke", None),
                           ("fake_torino", [0, 1, 2, 3, 4, 5])):  # fmt: skip
        target = fake_backend(device).target
        base = build_pass_manager(target, seed=7, initial_layout=layout)
        for seed in (1, 2):
            fresh = build_pass_manager(target, seed=seed, initial_layout=layout)
            for circuit in circuits:
                if layout is not None and circuit.num_qubits != len(layout):
                    continue
                a, b = fresh.run(circuit), reseeded(base, seed).run(circuit)
                assert a == b and a.layout == b.layout
                checked += 1
    assert checked == 2 * 2 * len(circuits) + 2 * 4  # 6-qubit circuits on the fixed layout
