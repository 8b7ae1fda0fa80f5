r"""``MergeCommutingPauliEvolutions``: commuting Pauli rotations gathered into one evolution.

A product formula is written one rotation per term, e^{−iθ_1P_1} e^{−iθ_2P_2} ⋯ (as
:func:`qcompile.lowering.trotter.trotter_step` writes it). Rotations whose Pauli strings
commute may be exchanged, and a set of pairwise-commuting rotations is exactly

.. math:: e^{-i(θ_1P_1 + θ_2P_2 + \dots)},

one ``PauliEvolutionGate`` whose terms may be synthesized in any order — which
:class:`~qcompile.passes.pauli_evolution.CommutingPauliEvolutionSynthesis` then does, with
fewer CX than a ladder per term.

The pass levels the circuit by the only orders that matter: an operation depends on every
earlier one on a shared qubit, except that two ``PauliEvolution`` s with commuting terms do
not depend on each other. Each operation goes to the level after the last one it depends on
(ASAP). Rotations on one level pairwise commute, so the rotations of a level that share qubits
(transitively) become one gate; the circuit is rebuilt level by level, which keeps every
dependency. This merges a Strang step's adjacent half steps, cancels a rotating frame's
e^{iFt}…e^{−iFt} pairs across operations on other qubits, and regroups the terms of a step by
commutation rather than by the order they were written in.

Preserves the circuit's operator exactly (global phase included). Gates with a symbolic time
or with non-commuting terms of their own (a product formula by definition) are ordinary
operations here.
"""

from __future__ import annotations

import numpy as np
from qiskit.circuit import CONTROL_FLOW_OP_NAMES
from qiskit.circuit.library import PauliEvolutionGate
from qiskit.dagcircuit import DAGCircuit, DAGOpNode
from qiskit.quantum_info import SparsePauliOp
from qiskit.transpiler.basepasses import TransformationPass

from qcompile.passes.pauli_evolution import commuting_exponent

__all__ = ["MergeCommutingPauliEvolutions"]

#: How far back along a qubit a rotation looks for what it may commute past; beyond this it
#: conservatively depends on everything earlier (bounds the pass at O(gates × SCAN)).
SCAN = 64
#: At most this many rounds (each merges what the previous round's cancellations freed).
ROUNDS = 3
#: Merged coefficients below this are dropped (a frame's e^{iFt} e^{−iFt} cancels to ~1e-17).
ATOL = 1e-12

Terms = list[tuple[dict[int, str], float]]  # per term: {qubit: letter}, coefficient × time
_LETTER = {(True, False): "X", (True, True): "Y", (False, True): "Z"}


def _terms(node: DAGOpNode, dag: DAGCircuit) -> Terms | None:
    """The exponent of a mergeable rotation, −i Σ_k c_k P_k, as {qubit: letter} and c_k·t;
    ``None`` for any other operation."""
    exponent = commuting_exponent(node.op)
    if exponent is None:
        return None
    op, time = exponent
    qubits = [dag.find_bit(q).index for q in node.qargs]
    xs, zs = op.paulis.x, op.paulis.z
    terms = []
    for row, coeff in enumerate(op.coeffs.real):
        paulis = {
            qubits[k]: _LETTER[bool(xs[row, k]), bool(zs[row, k])]
            for k in np.flatnonzero(xs[row] | zs[row])
        }
        terms.append((paulis, float(coeff) * time))
    return terms


def _wires(dag: DAGCircuit, node: DAGOpNode, terms: Terms | None) -> list[int]:
    """What an operation depends through: a rotation's support (not the qubits it idles on),
    any other operation's qubits and clbits (numbered after the qubits)."""
    if terms is not None:
        return sorted({q for paulis, _ in terms for q in paulis})
    wires = [dag.find_bit(q).index for q in node.qargs]
    return wires + [len(dag.qubits) + dag.find_bit(c).index for c in node.cargs]


def _commute(a: Terms, b: Terms) -> bool:
    """Whether every term of ``a`` commutes with every term of ``b``."""
    for pa, _ in a:
        for pb, _ in b:
            clashes = sum(1 for q, c in pa.items() if q in pb and pb[q] != c)
            if clashes % 2:
                return False
    return True


class MergeCommutingPauliEvolutions(TransformationPass):
    """Gather commuting ``PauliEvolution`` rotations into single gates (module docstring)."""

    def run(self, dag: DAGCircuit) -> DAGCircuit:
        # a merge can cancel rotations (a frame's e^{iFt} e^{−iFt}) that kept others apart: again
        for _ in range(ROUNDS):
            self._cancelled = False
            merged = self._merge_once(dag)
            if merged is dag:
                break
            dag = merged
            if not self._cancelled:
                break
        return dag

    def _merge_once(self, dag: DAGCircuit) -> DAGCircuit:
        if "PauliEvolution" not in dag.count_ops():
            return dag
        nodes = list(dag.topological_op_nodes())
        terms = [_terms(node, dag) for node in nodes]
        if sum(t is not None for t in terms) < 2:
            return dag
        if any(name in CONTROL_FLOW_OP_NAMES for name in dag.count_ops()):
            return dag  # classical control: leave the order alone
        level = self._levels(dag, nodes, terms)
        by_level: dict[int, list[int]] = {}
        for i, lvl in enumerate(level):
            by_level.setdefault(lvl, []).append(i)
        groups = [
            g for lvl in sorted(by_level) for g in _components(dag, nodes, by_level[lvl], terms)
        ]
        if all(len(g) == 1 for g in groups):
            return dag  # nothing to merge: keep the circuit as written
        out = dag.copy_empty_like()
        for group in groups:
            node = nodes[group[0]]
            if terms[group[0]] is None or (
                len(group) == 1 and len(_wires(dag, node, terms[group[0]])) == len(node.qargs)
            ):
                out.apply_operation_back(node.op, node.qargs, node.cargs)
            else:  # merged, or a rotation that idles on some of its qubits: on its support
                self._emit(out, dag, [terms[i] for i in group])
        return out

    @staticmethod
    def _levels(dag: DAGCircuit, nodes: list[DAGOpNode], terms: list) -> list[int]:
        """ASAP level of every operation under the commutation-relaxed dependencies."""
        level = [0] * len(nodes)
        history: dict[int, list[int]] = {}  # qubit → indices of earlier operations on it
        floor: dict[int, list[int]] = {}  # qubit → running max level along that history
        for i, node in enumerate(nodes):
            wires = _wires(dag, node, terms[i])
            best = 0
            for w in wires:
                past = history.get(w, [])
                for back, j in enumerate(reversed(past)):
                    if back == SCAN:  # depend on everything earlier, conservatively
                        best = max(best, floor[w][len(past) - 1 - back] + 1)
                        break
                    if terms[i] is None or terms[j] is None or not _commute(terms[i], terms[j]):
                        best = max(best, level[j] + 1)
                        if terms[j] is None:  # everything before it is below it already
                            break
            level[i] = best
            for w in wires:
                history.setdefault(w, []).append(i)
                top = floor.setdefault(w, [])
                top.append(max(best, top[-1]) if top else best)
        return level

    def _emit(self, out: DAGCircuit, dag: DAGCircuit, group_terms: list[Terms]) -> None:
        """One ``PauliEvolutionGate`` for pairwise-commuting rotations (their exponents add)."""
        summed: dict[tuple, float] = {}  # equal strings add up (a Strang step's half steps)
        for terms in group_terms:
            for paulis, weight in terms:
                key = tuple(sorted(paulis.items()))
                summed[key] = summed.get(key, 0.0) + weight
        phase = summed.pop((), 0.0)  # the identity: a global phase
        out.global_phase -= phase
        kept = {key: w for key, w in summed.items() if abs(w) > ATOL}
        self._cancelled |= len(kept) < len(summed)
        if not kept:
            return
        wires = sorted({q for key in kept for q, _ in key})
        position = {q: k for k, q in enumerate(wires)}
        sparse = [
            ("".join(c for _, c in key), [position[q] for q, _ in key], w)
            for key, w in kept.items()
        ]
        op = SparsePauliOp.from_sparse_list(sparse, len(wires))
        gate = PauliEvolutionGate(op, time=1.0, label="merged")  # (a default label costs)
        out.apply_operation_back(gate, tuple(dag.qubits[q] for q in wires), ())


def _components(dag: DAGCircuit, nodes: list[DAGOpNode], members: list[int], terms: list):
    """The operations of one level, the rotations that share qubits (transitively) together;
    every other operation alone. In order of first appearance."""
    parent = {i: i for i in members}

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    owner: dict[int, int] = {}
    for i in members:
        if terms[i] is None:
            continue
        for w in _wires(dag, nodes[i], terms[i]):
            if w in owner:
                parent[find(i)] = find(owner[w])
            else:
                owner[w] = i
    groups: dict[int, list[int]] = {}
    for i in members:
        groups.setdefault(find(i), []).append(i)
    return sorted(groups.values(), key=lambda g: g[0])
