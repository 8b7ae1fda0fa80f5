r"""Commuting Pauli evolutions with fewer two-qubit gates: a high-level-synthesis plugin.

A product-formula step of a Hamiltonian is a sequence of ``PauliEvolutionGate`` s, one per
group of commuting terms (:mod:`qcompile.lowering.trotter`). Inside a group

.. math:: e^{-it\sum_j w_j P_j} = \prod_j e^{-itw_jP_j}\quad\text{in any order,}

so the synthesis may reorder the rotations freely, which Qiskit's default synthesis (one CX
ladder per term, in the given order) does not do. :class:`CommutingPauliEvolutionSynthesis`
tries Rustiq's Pauli-network synthesis (Goubault de Brugière & Martiel, arXiv:2404.03280;
shipped with Qiskit) with the order relaxed — optimizing count and, separately, depth — and
Qiskit's default, cleans each with Qiskit's level 3 (no coupling map), and keeps the one with
the fewest CX (then the fewest coupled qubit pairs, which route better; then the smallest
depth; the default on a tie). On the coherent-feedback interaction
of spec 002 (6 terms in two commuting groups, 3 qubits) that is 8 CX per step where Qiskit's
level 3 leaves 16 from a CX ladder per term (11 from the same two gates) and pytket's
FullPeepholeOptimise 9.

Preserves the operator exactly, global phase included; a gate whose terms do not all commute,
or whose time is a free parameter, is left to the next method (``default``). The choice is
made once per set of Pauli strings (on fixed weights: compiling is deterministic), the
circuits are cached by the exact operator and time.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
from qiskit.circuit import QuantumCircuit
from qiskit.circuit.library import PauliEvolutionGate
from qiskit.converters import circuit_to_dag
from qiskit.dagcircuit import DAGCircuit
from qiskit.quantum_info import SparsePauliOp
from qiskit.synthesis import synth_pauli_network_rustiq
from qiskit.transpiler import StagedPassManager
from qiskit.transpiler.basepasses import TransformationPass
from qiskit.transpiler.passes import HLSConfig
from qiskit.transpiler.passes.synthesis.plugin import HighLevelSynthesisPlugin
from qiskit.transpiler.preset_passmanagers import generate_preset_pass_manager

__all__ = [
    "CANDIDATES",
    "CommutingPauliEvolutionSynthesis",
    "SynthesizePauliEvolutions",
    "all_commute",
    "commuting_exponent",
    "hls_config",
]

_BASIS = ["cx", "rz", "sx", "x"]
_MAX_QUBITS = 64  # wider evolutions are left to Qiskit's default synthesis


def all_commute(op: SparsePauliOp) -> bool:
    """Whether every pair of terms of ``op`` commutes (symplectic form, vectorized)."""
    x = op.paulis.x.astype(np.int64)
    z = op.paulis.z.astype(np.int64)
    return not np.any((x @ z.T + z @ x.T) % 2)


def commuting_exponent(gate) -> tuple[SparsePauliOp, float] | None:
    """(operator, time) of a ``PauliEvolutionGate`` that is exactly exp(−i·time·operator) with
    commuting real-weighted terms and a numeric time; ``None`` for any other operation."""
    if not isinstance(gate, PauliEvolutionGate) or not isinstance(gate.operator, SparsePauliOp):
        return None
    try:
        time = float(gate.time)
    except TypeError:  # a free parameter
        return None
    op = gate.operator
    if np.any(np.abs(op.coeffs.imag) > 1e-12) or not all_commute(op):
        return None
    return op, time


@lru_cache(maxsize=1)
def _cleanup() -> StagedPassManager:
    """Qiskit's level 3 without a coupling map (two-qubit blocks resynthesized, single-qubit
    runs merged): what the rest of the pipeline does anyway, applied to each candidate so they
    are compared as they will end up."""
    return generate_preset_pass_manager(optimization_level=3, basis_gates=_BASIS)


def _cost(circuit: QuantumCircuit) -> tuple[int, int, int]:
    """Two-qubit gates, then how many qubit pairs they couple (fewer pairs route with fewer
    SWAPs on a device: a path needs none, a triangle does), then depth."""
    pairs = {
        frozenset(circuit.find_bit(q).index for q in inst.qubits)
        for inst in circuit.data
        if inst.operation.num_qubits == 2
    }
    return circuit.num_nonlocal_gates(), len(pairs), circuit.depth()


def _network(op: SparsePauliOp, time: float) -> list:
    """``op`` as Rustiq's sparse rotation list: exp(−iθ/2 P) per term, θ = 2·w·t."""
    network = []
    for pauli, weight in zip(op.paulis, op.coeffs.real, strict=True):
        qubits = [q for q in range(op.num_qubits) if pauli.x[q] or pauli.z[q]]
        if not qubits:
            continue
        label = pauli.to_label()[::-1]  # little-endian: label[q] is qubit q's letter
        network.append(("".join(label[q] for q in qubits), qubits, 2.0 * float(weight) * time))
    return network


#: The candidates, in order of preference on a tie: Qiskit's default synthesis, then Rustiq's
#: network optimized for depth, then for count.
CANDIDATES = ("default", "rustiq-depth", "rustiq-count")


def _candidate(op: SparsePauliOp, time: float, method: str) -> QuantumCircuit:
    """exp(−i·time·op) synthesized by ``method`` (one of :data:`CANDIDATES`)."""
    network = _network(op, time)
    if method == "default" or not network:  # (only the identity: a global phase)
        default = QuantumCircuit(op.num_qubits)
        default.append(PauliEvolutionGate(op, time), range(op.num_qubits))
        return default.decompose()
    circuit = synth_pauli_network_rustiq(
        op.num_qubits, network, optimize_count=method == "rustiq-count", preserve_order=False
    )
    circuit.global_phase -= time * _identity(op)  # the network leaves the identity out
    return circuit


@lru_cache(maxsize=512)
def _method(labels: tuple[str, ...]) -> str:
    """Which candidate to use for a sum of these Pauli strings: the fewest CX once cleaned
    (:func:`_cost`), judged on fixed generic weights. The networks' CX structure depends on the
    strings only, so a step whose coefficients change in time is judged once per string set —
    and the choice never depends on what the process compiled before."""
    weights = 0.1 + 0.37 * np.sqrt(np.arange(2, len(labels) + 2))  # generic, fixed
    op = SparsePauliOp(list(labels), weights)
    # one by one: a list would go to Qiskit's process pool, for three tiny circuits
    cleaned = [_cleanup().run(_candidate(op, 0.1, method)) for method in CANDIDATES]
    return CANDIDATES[min(range(len(cleaned)), key=lambda i: (_cost(cleaned[i]), i))]


@lru_cache(maxsize=4096)
def _synthesize(labels: tuple[str, ...], weights: bytes, time: float) -> QuantumCircuit:
    op = SparsePauliOp(list(labels), np.frombuffer(weights, dtype=float))
    # the candidate as synthesized, not as cleaned: the pipeline's own level-3 pass then
    # optimizes it together with its neighbours (on the coherent-feedback step that merges
    # the two groups' networks, 10 → 8 CX, where cleaned networks stay at 10)
    return _candidate(op, time, _method(labels))


def clear_caches() -> None:
    """Forget every synthesized network and method choice (a benchmark's cold compile)."""
    _method.cache_clear()
    _synthesize.cache_clear()


def _identity(op: SparsePauliOp) -> float:
    """The weight of the identity term (a global phase e^{−iwt} the network leaves out)."""
    mask = ~(op.paulis.x.any(axis=1) | op.paulis.z.any(axis=1))
    return float(np.sum(op.coeffs.real[mask]))


class CommutingPauliEvolutionSynthesis(HighLevelSynthesisPlugin):
    """``PauliEvolution`` synthesis for gates whose terms commute (see module docstring);
    ``None`` (the next method) for any other."""

    def run(self, high_level_object, coupling_map=None, target=None, qubits=None, **options):
        exponent = commuting_exponent(high_level_object)
        if exponent is None or exponent[0].num_qubits > _MAX_QUBITS:
            return None
        op, time = exponent[0].simplify(atol=0), exponent[1]
        labels = tuple(p.to_label() for p in op.paulis)
        return _synthesize(labels, np.ascontiguousarray(op.coeffs.real).tobytes(), time).copy()


class SynthesizePauliEvolutions(TransformationPass):
    """Every ``PauliEvolution`` gate replaced by its synthesis, before anything else looks at
    it: :class:`CommutingPauliEvolutionSynthesis` where its terms commute, else the gate's own
    definition (its product formula). Qiskit's level 3 would otherwise consolidate one- and
    two-qubit evolutions into blocks first, computing each gate's matrix by a sparse matrix
    exponential (about 5 ms per gate: a 240-step lowering took 40 s). Preserves the operator."""

    def run(self, dag: DAGCircuit) -> DAGCircuit:
        plugin = CommutingPauliEvolutionSynthesis()
        for node in dag.op_nodes():
            if node.op.name != "PauliEvolution":
                continue
            circuit = plugin.run(node.op)
            if circuit is None:
                circuit = QuantumCircuit(node.op.num_qubits)
                circuit.append(node.op, range(node.op.num_qubits))
                circuit = circuit.decompose()
            dag.substitute_node_with_dag(node, circuit_to_dag(circuit))
        return dag


def hls_config() -> HLSConfig:
    """The high-level-synthesis configuration of qcompile's pipeline: commuting Pauli
    evolutions by :class:`CommutingPauliEvolutionSynthesis`, everything else Qiskit's default."""
    return HLSConfig(PauliEvolution=[CommutingPauliEvolutionSynthesis(), "default"])
