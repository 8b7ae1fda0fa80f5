"""``SplitWiresAtResets``: a reset starts a new wire (issue 35, item 1).

Transformation pass (before layout; it widens the circuit). After a ``reset`` a qubit carries
nothing of its past: the operations from the reset up to the next reset (a *segment*) may run
on any qubit that is idle then, as long as they start with the reset. A collision model whose
one ancilla is reset and reused for every jump operator — a user's Lindblad model lowered with
``ancillas=1`` (spec 002 §7) — otherwise routes that ancilla around the system qubits with
SWAPs; split, each segment goes to a wire that already met the same partners, or to a new wire
next to them, which layout then places beside its partner: the circuit of one ancilla per
partner, which routes without moving the ancillas (the inverse of
:class:`~qcompile.passes.ancilla_reuse.AncillaReuse`).

Segments are assigned in topological order of their first operation (so no cycle can form):
to the idle wire whose earlier segments met most of the segment's partners; failing that to a
new wire while the width stays within ``max_width``; failing that to its own wire or any idle
one. The first and the last segment of every wire stay on it: the first may carry the wire's
input and the last its output, so the circuit's channel on its own qubits is preserved
exactly; the new wires (register ``reset_wire``) start in |0⟩ and are traced out, as
ancillas are. A segment that holds a barrier stays too (a checkpoint barrier of
:mod:`qcompile.passes.checkpoint_cuts` keeps the wires it orders). Every moved segment keeps
its leading ``reset``; measurements keep their clbits. Circuits with control flow are left
alone.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field, replace

from qiskit.circuit import CONTROL_FLOW_OP_NAMES, QuantumCircuit, QuantumRegister
from qiskit.converters import circuit_to_dag, dag_to_circuit
from qiskit.dagcircuit import DAGCircuit
from qiskit.transpiler.basepasses import TransformationPass

__all__ = ["NEW_WIRES", "SplitWiresAtResets", "added_wires", "as_ancillas", "split_at_resets"]

#: Name of the register of the wires :class:`SplitWiresAtResets` adds.
NEW_WIRES = "reset_wire"


@dataclass
class _Segment:
    wire: object  # the qubit it was drawn on
    first: int  # topological index of its first and last operation
    last: int
    nodes: list
    movable: bool


@dataclass
class _Wire:
    # a drawn wire hosts segments only between its first and its last: (after, before)
    window: tuple = (float("-inf"), float("inf"))
    busy: list = field(default_factory=list)  # (first, last) intervals of its segments
    partners: Counter = field(default_factory=Counter)

    def idle(self, first: int, last: int) -> bool:
        after, before = self.window
        inside = after < first and last < before
        return inside and all(last < a or first > b for a, b in self.busy)


class SplitWiresAtResets(TransformationPass):
    """Move the segments between resets to wires beside their partners (module docstring).

    ``max_width`` bounds the widened circuit (the target's size); ``None``: unbounded. Sets
    ``property_set["reset_wires_added"]`` to the number of wires added (0: unchanged)."""

    def __init__(self, max_width: int | None = None) -> None:
        super().__init__()
        self.max_width = max_width

    def run(self, dag: DAGCircuit) -> DAGCircuit:
        self.property_set["reset_wires_added"] = 0
        if any(node.op.name in CONTROL_FLOW_OP_NAMES for node in dag.op_nodes()):
            return dag
        order = {node: i for i, node in enumerate(dag.topological_op_nodes())}
        segments, of = self._segments(dag, order)
        if not any(s.movable for s in segments):
            return dag
        wires = {q: _Wire() for q in dag.qubits}
        host: dict[int, object] = {}  # segment index → wire
        for i, s in enumerate(segments):
            if not s.movable:
                host[i] = s.wire
                wires[s.wire].busy.append((s.first, s.last))
        for wire in wires.values():  # its first segment's end, its last segment's start
            ends = sorted(wire.busy)
            wire.window = (ends[0][1], ends[-1][0]) if len(ends) > 1 else (0, 0)
        for i in list(host):  # what the segments that stay met
            wires[host[i]].partners.update(self._partners(segments[i], of, host))
        added = []
        limit = self.max_width if self.max_width is not None else float("inf")
        for i in sorted((i for i, s in enumerate(segments) if s.movable),
                        key=lambda i: segments[i].first):  # fmt: skip
            s = segments[i]
            partners = self._partners(s, of, host)
            idle = [w for w, wire in wires.items() if wire.idle(s.first, s.last)]
            scored = [(sum(1 for p in partners if wires[w].partners[p]), w) for w in idle]
            best = max((score for score, _ in scored), default=0)
            if best > 0:  # most shared partners; its own wire first on a tie, then the oldest
                tied = [w for score, w in scored if score == best]
                choice = s.wire if s.wire in tied else tied[0]
            elif partners and len(wires) < limit:
                choice = object()
                wires[choice] = _Wire()
                added.append(choice)
            elif s.wire in idle:
                choice = s.wire
            elif idle:
                choice = idle[0]
            elif len(wires) < limit:
                choice = object()
                wires[choice] = _Wire()
                added.append(choice)
            else:
                return dag  # no room: leave the circuit as drawn
            host[i] = choice
            wires[choice].busy.append((s.first, s.last))
            wires[choice].partners.update(partners)
        if all(host[i] is s.wire for i, s in enumerate(segments)):
            return dag
        self.property_set["reset_wires_added"] = len(added)
        return self._rebuild(dag, segments, of, host, added)

    @staticmethod
    def _segments(dag: DAGCircuit, order: dict) -> tuple[list[_Segment], dict]:
        """Each wire's segments (a reset opens one) and the segment of each (node, qubit)."""
        segments: list[_Segment] = []
        of: dict = {}
        for q in dag.qubits:
            nodes = list(dag.nodes_on_wire(q, only_ops=True))
            runs: list[list] = []
            for node in nodes:
                if not runs or (node.op.name == "reset" and runs[-1]):
                    runs.append([])
                runs[-1].append(node)
            for k, run in enumerate(runs):
                for node in run:
                    of[(node, q)] = len(segments)
                movable = 0 < k < len(runs) - 1 and all(n.op.name != "barrier" for n in run)
                segments.append(_Segment(q, order[run[0]], order[run[-1]], run, movable))
        return segments, of

    @staticmethod
    def _partners(s: _Segment, of: dict, host: dict) -> set:
        """The wires of the segments ``s`` meets that are placed already."""
        partners = set()
        for node in s.nodes:
            if node.op.name == "barrier":  # orders, does not interact
                continue
            for q in node.qargs:
                if q is not s.wire:
                    j = of[(node, q)]
                    if j in host:
                        partners.add(host[j])
        return partners

    @staticmethod
    def _rebuild(dag, segments, of, host, added) -> DAGCircuit:
        new = dag.copy_empty_like()
        register = QuantumRegister(len(added), NEW_WIRES)
        new.add_qreg(register)
        wire_of = {w: register[k] for k, w in enumerate(added)}
        for node in dag.topological_op_nodes():
            qargs = []
            for q in node.qargs:
                w = host[of[(node, q)]]
                qargs.append(wire_of.get(w, w))
            new.apply_operation_back(node.op, tuple(qargs), node.cargs, check=False)
        return new


def split_at_resets(
    circuit: QuantumCircuit, max_width: int | None = None, *, width: int | None = None
) -> QuantumCircuit:
    """``circuit`` through :class:`SplitWiresAtResets` (the circuit itself if nothing moved
    and no ``width`` is asked); its added qubits follow its own, in register
    :data:`NEW_WIRES`, which ``width`` pads with idle qubits to that many qubits (a layout
    chosen for a wider split: ``max_width`` is then ``width``)."""
    if width is not None:
        max_width = width
    original = circuit_to_dag(circuit)
    dag = SplitWiresAtResets(max_width).run(original)
    if dag is original and width in (None, circuit.num_qubits):
        return circuit
    if width is not None and width > dag.num_qubits():
        wires = [r for r in dag.qregs.values() if r.name == NEW_WIRES]
        padding = QuantumRegister(width - dag.num_qubits(), NEW_WIRES if not wires else
                                  f"{NEW_WIRES}_idle")  # fmt: skip
        dag.add_qreg(padding)
    widened = dag_to_circuit(dag, copy_operations=False)
    widened.name, widened.metadata = circuit.name, dict(circuit.metadata or {})
    return widened


def added_wires(layout) -> int:
    """How many wires :func:`split_at_resets` added to the circuit ``layout`` (a
    :class:`~qiskit.transpiler.TranspileLayout`) was chosen for."""
    if layout is None:
        return 0
    return sum(r.size for r in layout.initial_layout.get_registers()
               if r.name.startswith(NEW_WIRES))  # fmt: skip


def as_ancillas(compiled: QuantumCircuit, num_qubits: int) -> QuantumCircuit:
    """``compiled`` (a compilation of a circuit :func:`split_at_resets` widened from
    ``num_qubits`` qubits) with the added wires counted as the compiler's ancillas: its
    layout then reads as a compilation of the original circuit."""
    layout = compiled.layout
    if layout is not None and layout._input_qubit_count != num_qubits:
        compiled._layout = replace(layout, _input_qubit_count=num_qubits)
    return compiled
