"""Compiler exactness as a property, on seeded random circuits it was not tuned for.

Each circuit is drawn by :func:`random_program` from its seed: random 2- and 3-qubit unitary
blocks, single-qubit rotations, CX, resets and mid-circuit measurements, on 3 or 4 qubits. It
goes through :func:`~qcompile.passes.compile.compile_best` — layout, routing, the
state-aware optimisations and candidate choice — for FakeTorino (CZ, heavy hex),
FakeSherbrooke (ECR, heavy hex) and all-to-all, and is checked against the circuit as drawn:

* unitary circuits compiled for any input: the compiled operator on the qubits it uses,
  read through its initial and final layout (other qubits in |0⟩ and returned to |0⟩), equals
  the drawn operator up to a global phase (|Tr(E†M)|/2ⁿ = 1 within 1e-8);
* circuits with resets and measurements: every measurement is deferred to a record qubit of
  its clbit (a CX onto it: the same channel, as nothing is conditioned on it), the records
  dephased (they are classical), and the joint density matrix of the qubits that are not
  measured last (at their final places) and the records — the quantum output and the
  distribution of every classical bit together — equals the drawn circuit's within 1e-8: for
  |0…0⟩ inputs when compiled for known |0⟩ inputs, and for random product inputs when
  compiled for any input. (A qubit whose last operation is a measurement has no quantum
  output: a compiler may drop diagonal gates before it, as Qiskit's own passes do.)

A bounded number of seeds runs by default; ``pytest -m slow`` runs many more.
"""

from __future__ import annotations

import numpy as np
import pytest
from qiskit import QuantumCircuit
from qiskit.quantum_info import Operator, random_unitary
from qiskit_aer import AerSimulator
from qiskit_ibm_runtime.fake_provider import FakeSherbrooke, FakeTorino

from qcompile.backends.restricted_noise import compact
from qcompile.passes.compile import compile_best

TARGETS = {"fake_torino": FakeTorino().target, "fake_sherbrooke": FakeSherbrooke().target,
           "all_to_all": None}  # fmt: skip
TOLERANCE = 1e-8
SIMULATOR = AerSimulator(method="density_matrix")


def random_program(seed: int, *, unitary: bool) -> QuantumCircuit:
    """A random circuit: unitary on 3 or 4 qubits; or on 3 qubits with resets, up to two
    mid-circuit measurements (each to its own clbit) and final measurements of a random
    subset of the qubits."""
    rng = np.random.default_rng(seed)
    n = int(rng.integers(3, 5)) if unitary else 3
    qc = QuantumCircuit(n) if unitary else QuantumCircuit(n, n + 2)
    kinds = ["block2", "block3", "rotation", "cx"] + ([] if unitary else ["reset", "measure"])
    mid = 0
    for _ in range(int(rng.integers(6, 11))):
        kind = kinds[int(rng.integers(len(kinds)))]
        if kind in ("block2", "block3"):
            size = 2 if kind == "block2" else 3
            qubits = [int(q) for q in rng.choice(n, size, replace=False)]
            qc.unitary(random_unitary(2**size, seed=int(rng.integers(2**31))), qubits)
        elif kind == "rotation":
            q, angle = int(rng.integers(n)), float(rng.uniform(-np.pi, np.pi))
            [qc.rx, qc.ry, qc.rz][int(rng.integers(3))](angle, q)
        elif kind == "cx":
            a, b = (int(q) for q in rng.choice(n, 2, replace=False))
            qc.cx(a, b)
        elif kind == "reset":
            qc.reset(int(rng.integers(n)))
        elif mid < 2:
            qc.measure(int(rng.integers(n)), n + mid)
            mid += 1
    if not unitary:
        for q in range(n):
            if rng.random() < 0.6:
                qc.measure(q, q)
    return qc


def _places(compiled: QuantumCircuit, n: int) -> tuple[list[int], list[int], list[int]]:
    """Initial and final physical place of each virtual qubit, and every qubit used."""
    if compiled.layout is None:
        initial = final = list(range(n))
    else:
        initial = compiled.layout.initial_index_layout(filter_ancillas=True)[:n]
        final = compiled.layout.final_index_layout(filter_ancillas=True)[:n]
    touched = {compiled.find_bit(q).index for inst in compiled.data
               if inst.operation.name not in ("barrier", "delay") for q in inst.qubits}  # fmt: skip
    return initial, final, sorted(touched | set(initial) | set(final))


def _small(compiled: QuantumCircuit, n: int) -> tuple[QuantumCircuit, list[int]]:
    """The compiled circuit on its used qubits, the virtual qubits' final places first (in
    virtual order); and where each virtual qubit starts in it."""
    initial, final, used = _places(compiled, n)
    order = final + [p for p in used if p not in final]
    return compact(compiled, order), [order.index(p) for p in initial]


def _deferred(circuit: QuantumCircuit, records: dict, keep: list[int], prepare=None,
              starts=None) -> np.ndarray:  # fmt: skip
    """The density matrix of qubits ``keep`` of ``circuit`` and of its records, each
    measurement deferred onto the record qubit ``records[clbit]`` (after the circuit's
    qubits), the records dephased; ``prepare[v]`` a 2×2 unitary applied first to virtual
    qubit v, which starts on qubit ``starts[v]``. Aer's density-matrix method, exact."""
    width = circuit.num_qubits
    out = QuantumCircuit(width + len(records), global_phase=circuit.global_phase)
    for v, u in enumerate(prepare or []):
        out.unitary(u, [starts[v]])
    for inst in circuit.data:
        qubits = [circuit.find_bit(q).index for q in inst.qubits]
        name = inst.operation.name
        if name == "measure":
            out.cx(qubits[0], width + records[circuit.find_bit(inst.clbits[0]).index])
        elif name not in ("barrier", "delay"):
            out.append(inst.operation, qubits)
    kept = [*keep, *range(width, width + len(records))]
    out.save_density_matrix(kept)
    rho = SIMULATOR.run(out).result().data()["density_matrix"].data
    low = 2 ** len(keep)  # records are the high bits of the kept qubits' index
    index = np.arange(rho.shape[0]) // low
    return np.where(index[:, None] == index[None, :], rho, 0)


def _check_channel(program: QuantumCircuit, compiled: QuantumCircuit, prepare=None) -> None:
    n = program.num_qubits
    last = {}
    for inst in program.data:
        for q in inst.qubits:
            last[program.find_bit(q).index] = inst.operation.name
    keep = [v for v in range(n) if last.get(v) != "measure"]
    written = sorted({program.find_bit(c).index for inst in program.data for c in inst.clbits})
    records = {c: i for i, c in enumerate(written)}
    small, starts = _small(compiled, n)
    expected = _deferred(program, records, keep, prepare, list(range(n)))
    got = _deferred(small, records, keep, prepare, starts)
    gap = np.abs(got - expected).max()
    assert gap < TOLERANCE, f"joint state of the qubits and records differs by {gap:.1e}"


def _check_operator(program: QuantumCircuit, compiled: QuantumCircuit) -> None:
    n = program.num_qubits
    small, starts = _small(compiled, n)
    u_small = Operator(small).data
    drawn = Operator(program).data
    columns = [sum(((x >> v) & 1) << starts[v] for v in range(n)) for x in range(2**n)]
    expected = np.zeros((2**small.num_qubits, 2**n), dtype=complex)
    for y in range(2**n):  # output: virtual v at its final place v, ancillas back in |0>
        expected[sum(((y >> v) & 1) << v for v in range(n))] = drawn[y]
    overlap = abs(np.vdot(expected, u_small[:, columns])) / 2**n
    assert overlap == pytest.approx(1.0, abs=TOLERANCE), f"|Tr(E†M)|/2^n = {overlap}"


def _compile(program: QuantumCircuit, target: str, seed: int, initial_state: str):
    (compiled,) = compile_best([program], TARGETS[target], seed=seed, initial_state=initial_state)
    return compiled


def check_seed(seed: int, target: str) -> None:
    """The three properties of the module docstring for the circuits drawn from ``seed``."""
    program = random_program(seed, unitary=True)
    _check_operator(program, _compile(program, target, seed, "any"))
    program = random_program(seed, unitary=False)
    _check_channel(program, _compile(program, target, seed, "zero"))
    rng = np.random.default_rng(seed)
    prepare = [random_unitary(2, seed=int(rng.integers(2**31))).data
               for _ in range(program.num_qubits)]  # fmt: skip
    _check_channel(program, _compile(program, target, seed, "any"), prepare)


DEFAULT_SEEDS = range(8)


@pytest.mark.parametrize("target", sorted(TARGETS))
@pytest.mark.parametrize("seed", DEFAULT_SEEDS)
def test_random_circuits_compile_exactly(seed, target):
    check_seed(seed, target)


@pytest.mark.slow
@pytest.mark.parametrize("target", sorted(TARGETS))
@pytest.mark.parametrize("seed", range(100, 160))
def test_many_random_circuits_compile_exactly(seed, target):
    check_seed(seed, target)


def test_the_checks_see_a_wrong_compilation():
    """The checks are not vacuous: a compiled circuit with one gate changed, a measurement
    sent to the wrong clbit or a reset dropped fails them."""
    program = random_program(1, unitary=True)
    compiled = _compile(program, "fake_torino", 1, "any")
    wrong = compiled.copy()
    wrong.rz(1e-3, wrong.find_bit(wrong.data[-1].qubits[0]).index)
    with pytest.raises(AssertionError):
        _check_operator(program, wrong)
    program = random_program(2, unitary=False)
    compiled = _compile(program, "fake_torino", 2, "zero")
    swapped = compiled.copy_empty_like()
    for inst in compiled.data:
        clbit = compiled.find_bit(inst.clbits[0]).index if inst.clbits else None
        if inst.operation.name == "measure" and clbit < 2:
            inst = inst.replace(clbits=[compiled.clbits[1 - clbit]])
        swapped.append(inst)
    with pytest.raises(AssertionError):
        _check_channel(program, swapped)
    no_reset = compiled.copy_empty_like()
    for inst in compiled.data:
        if inst.operation.name != "reset":
            no_reset.append(inst)
    if any(i.operation.name == "reset" for i in compiled.data):
        with pytest.raises(AssertionError):
            _check_channel(program, no_reset)
