"""Compile an evolution once and cut it at its checkpoints (issue 33, compiler revision 4).

A run that tomographs an evolution at times t_1 < … < t_m used to compile every prefix
(and each of its measurement settings) on its own: O(m²) gates compiled per evolution, and
circuits compiled inconsistently from one time to the next. Here the evolution is compiled
once, with a full-width barrier labelled :data:`CHECKPOINT` after the instruction that
reaches each time (:func:`mark_checkpoints`). A barrier is respected by every pass (Qiskit's
and qcompile's: nothing moves over it, nothing optimizes across it) and routing keeps its
operands in order, so in the compiled circuit

* the instructions before the j-th checkpoint barrier are exactly the compiled evolution up
  to t_j (:class:`Cut`), and
* its operands are the physical qubits that hold virtual qubits 0, 1, … at t_j (the
  routing permutation there; :attr:`Cut.positions`).

What a prefix ends with — a readout unitary, basis changes, measurements — is the *tail*:
a small circuit on the virtual qubits, placed on the cut's positions and compiled on the
device with those qubits fixed (:func:`append_tail`; routed only if a multi-qubit tail lands
on uncoupled qubits). Tails are cached by placement, so m cuts × 3^k settings compile a
handful of tails. Every prefix is then the same compiled evolution up to its time — what
the device runs and what the simulation runs are the same circuits — at O(m) compile work.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
from qiskit.circuit import Barrier, CircuitInstruction, QuantumCircuit
from qiskit.transpiler import Layout, Target, TranspileLayout

from qcompile.passes.compile import CANDIDATES, compile_alike, compile_best, shared_layout

__all__ = ["CHECKPOINT", "Cut", "CutProgram", "TailCompiler", "append_tail",
           "checkpoint_index", "compile_cuts", "compile_pieces", "cut_at_checkpoints",
           "mark_checkpoints", "whole_evolutions"]  # fmt: skip

#: Label of the barriers :func:`mark_checkpoints` inserts (``"<CHECKPOINT>:<index>"``).
CHECKPOINT = "qcompile.checkpoint"


def mark_checkpoints(circuit: QuantumCircuit, ends: Sequence[int]) -> QuantumCircuit:
    """``circuit`` up to its last checkpoint, with a full-width barrier after the first e
    instructions for each distinct end e of ``ends`` (in any order, repeats allowed),
    labelled ``"<CHECKPOINT>:<j>"`` with j = 0, 1, … in increasing e."""
    distinct = sorted(set(int(e) for e in ends))
    if distinct and not 0 <= distinct[0] <= distinct[-1] <= len(circuit.data):
        raise ValueError(f"checkpoint ends must lie in 0..{len(circuit.data)}")
    marked = circuit.copy_empty_like()
    index = {end: j for j, end in enumerate(distinct)}
    data = circuit.data
    for i in range(distinct[-1] + 1 if distinct else 0):
        if i in index:
            barrier = Barrier(circuit.num_qubits, label=f"{CHECKPOINT}:{index[i]}")
            marked._append(CircuitInstruction(barrier, tuple(circuit.qubits)))
        if i < distinct[-1]:
            marked._append(data[i])  # valid instructions of a valid circuit: unchecked
    return marked


@dataclass(frozen=True)
class Cut:
    """The compiled evolution up to one checkpoint: the first ``end`` instructions of
    ``source`` (the compiled evolution with its checkpoint barriers), whose barrier
    ``checkpoint`` ends there; ``positions[v]`` is the physical qubit that holds virtual qubit
    v at it. :attr:`circuit` is that prefix without the checkpoint barriers (made when first
    asked for: a simulator that runs the source once never needs it)."""

    positions: tuple[int, ...]
    source: QuantumCircuit = field(repr=False, compare=False)
    checkpoint: int = 0
    end: int = 0

    @cached_property
    def circuit(self) -> QuantumCircuit:
        """The cut as a circuit (physical qubits, unmeasured; its layout's final permutation
        is the one at the checkpoint)."""
        body = self.source.copy_empty_like(name=f"{self.source.name}@checkpoint{self.checkpoint}")
        data = self.source.data
        for i in range(self.end):
            inst = data[i]
            if inst.operation.name != "barrier" or checkpoint_index(inst.operation.label) is None:
                body._append(inst)
        body._layout = _layout_at(self.source, self.positions)
        return body


class _Circuits(Sequence):
    """A :class:`CutProgram`'s circuits, each made when first asked for."""

    def __init__(self, program: CutProgram) -> None:
        self._program = program
        self._made: dict[int, QuantumCircuit] = {}

    @property
    def program(self) -> CutProgram:
        """The program these are the circuits of."""
        return self._program

    def __len__(self) -> int:
        return len(self._program.cuts)

    def __getitem__(self, index):
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        index = range(len(self))[index]
        if index not in self._made:
            program = self._program
            self._made[index] = append_tail(program.cuts[index], program.logical_tails[index],
                                            program.compile_tail, program.names[index])  # fmt: skip
        return self._made[index]


@dataclass
class CutProgram:
    """Circuits cut from compiled evolutions: circuit i is ``cuts[i]`` followed by
    ``tails[i]`` (compiled on the same physical qubits). What a device runs is
    :attr:`circuits` (made on demand); a simulator may instead run each source once and apply
    the tails to the states saved at its checkpoints
    (:mod:`qcompile.backends.checkpoint_sampling`)."""

    compile_tail: TailCompiler
    cuts: list[Cut] = field(default_factory=list)
    tails: list[QuantumCircuit] = field(default_factory=list)
    logical_tails: list[QuantumCircuit] = field(default_factory=list, repr=False)
    names: list[str | None] = field(default_factory=list, repr=False)

    def add(self, cut: Cut, tail: QuantumCircuit, name: str | None = None) -> None:
        """Append ``cut`` followed by ``tail`` (a circuit on the evolution's virtual qubits:
        :func:`append_tail`)."""
        self.cuts.append(cut)
        self.logical_tails.append(tail)
        self.names.append(name)
        self.tails.append(self.compile_tail(tail, cut.positions, cut.source.num_qubits)[0])

    @cached_property
    def circuits(self) -> Sequence[QuantumCircuit]:
        return _Circuits(self)

    @property
    def sources(self) -> list[QuantumCircuit]:
        return [cut.source for cut in self.cuts]

    @property
    def checkpoints(self) -> list[int]:
        return [cut.checkpoint for cut in self.cuts]

    def largest(self) -> QuantumCircuit:
        """The circuit with the most instructions."""
        sizes = [cut.end + len(tail.data) for cut, tail in zip(self.cuts, self.tails, strict=True)]
        return self.circuits[int(np.argmax(sizes))]

    def count(self, names: set[str]) -> int:
        """Instructions named in ``names`` over all the circuits (without making them)."""
        prefix_counts: dict[int, np.ndarray] = {}
        total = 0
        for cut, tail in zip(self.cuts, self.tails, strict=True):
            counts = prefix_counts.get(id(cut.source))
            if counts is None:
                hits = [inst.operation.name in names for inst in cut.source.data]
                counts = prefix_counts[id(cut.source)] = np.concatenate([[0], np.cumsum(hits)])
            total += int(counts[cut.end]) + sum(n for k, n in tail.count_ops().items()
                                                 if k in names)  # fmt: skip
        return total


def checkpoint_index(label: str | None) -> int | None:
    """The checkpoint a barrier label marks (``None``: not a checkpoint barrier)."""
    if not label or not label.startswith(CHECKPOINT + ":"):
        return None
    return int(label.rsplit(":", 1)[1])


def cut_at_checkpoints(compiled: QuantumCircuit) -> list[Cut]:
    """One :class:`Cut` per checkpoint barrier of ``compiled`` (a circuit marked by
    :func:`mark_checkpoints` and compiled), in checkpoint order. The checkpoint barriers
    are left out of every cut; other instructions are kept as they are."""
    found: dict[int, tuple[int, tuple[int, ...]]] = {}
    for i, inst in enumerate(compiled.data):
        if inst.operation.name == "barrier":
            j = checkpoint_index(inst.operation.label)
            if j is not None:
                found[j] = (i, tuple(compiled.find_bit(q).index for q in inst.qubits))
    if sorted(found) != list(range(len(found))):
        raise ValueError("the compiled circuit lost checkpoint barriers: " + str(sorted(found)))
    return [Cut(positions, compiled, j, end) for j, (end, positions) in sorted(found.items())]


def _layout_at(compiled: QuantumCircuit, positions: Sequence[int]) -> TranspileLayout | None:
    """``compiled``'s layout with the routing permutation that holds at a cut (virtual
    qubit v on ``positions[v]``; the other physical qubits, idle ancillas, in order)."""
    layout = compiled.layout
    if layout is None:
        return None
    start = layout.initial_index_layout(filter_ancillas=True)
    return _with_final(layout, compiled, dict(zip(start, positions, strict=True)))


def _with_final(layout: TranspileLayout, circuit: QuantumCircuit,
                moved: dict[int, int]) -> TranspileLayout:  # fmt: skip
    """``layout`` whose final permutation sends physical qubit p to ``moved[p]`` (and the
    qubits not in ``moved`` onto the free ones, in order)."""
    width = circuit.num_qubits
    free_to = iter(sorted(set(range(width)) - set(moved.values())))
    full = dict(moved)
    for p in range(width):
        if p not in full:
            full[p] = next(free_to)
    final = Layout({circuit.qubits[p]: q for p, q in full.items()})
    return TranspileLayout(
        initial_layout=layout.initial_layout,
        input_qubit_mapping=layout.input_qubit_mapping,
        final_layout=final,
        _input_qubit_count=layout._input_qubit_count,
        _output_qubit_list=list(circuit.qubits),
    )


def _fingerprint(circuit: QuantumCircuit) -> Hashable:
    """What makes two tails the same circuit: instructions, operands and parameters."""

    def param(p) -> Hashable:
        if isinstance(p, np.ndarray):
            return (p.shape, np.round(p, 12).tobytes())
        return repr(p)

    return tuple(
        (inst.operation.name, tuple(circuit.find_bit(q).index for q in inst.qubits),
         tuple(circuit.find_bit(c).index for c in inst.clbits),
         tuple(param(p) for p in inst.operation.params))
        for inst in circuit.data
    ) + (circuit.num_clbits,)  # fmt: skip


@dataclass
class TailCompiler:
    """Compiles tails on fixed physical qubits of ``target`` (``None``: all-to-all), caching
    them by content and placement; ``compiled`` counts the tails compiled."""

    target: Target | None
    seed: int = 0
    compiled: int = 0
    _cache: dict = field(default_factory=dict)
    _fingerprints: dict = field(default_factory=dict)
    #: Layouts of cuts followed by routed tails, by cut and permutation (for append_tail).
    layouts: dict = field(default_factory=dict)

    def __call__(self, tail: QuantumCircuit, positions: Sequence[int], width: int):
        """``(compiled tail on ``width`` physical qubits, its routing permutation)``."""
        key = self.prepare([(tail, positions, width)])[0]
        return self._cache[key]

    def _fingerprint(self, tail: QuantumCircuit) -> Hashable:
        """:func:`_fingerprint`, once per tail object (kept alive with it)."""
        known = self._fingerprints.get(id(tail))
        if known is None or known[0] is not tail:
            known = self._fingerprints[id(tail)] = (tail, _fingerprint(tail))
        return known[1]

    def prepare(self, requests: Sequence[tuple[QuantumCircuit, Sequence[int], int]]) -> list:
        """Compile the tails of ``requests`` (tail, positions, width) not yet cached, in one
        batch (one pass manager); their cache keys."""
        keys = [(self._fingerprint(t), tuple(p), w) for t, p, w in requests]
        todo = {}
        for key, request in zip(keys, requests, strict=True):
            if key not in self._cache:
                todo.setdefault(key, request)
        if todo:
            placed = [_placed(*request) for request in todo.values()]
            self.compiled += len(placed)
            layout = list(range(placed[0].num_qubits)) if self.target else None
            same_width = len({c.num_qubits for c in placed}) == 1
            compiled = (compile_best(placed, self.target, seed=self.seed, initial_layout=layout,
                                     initial_state="any", candidates=1) if same_width
                        else [compile_best([c], self.target, seed=self.seed,
                                           initial_layout=list(range(c.num_qubits))
                                           if self.target else None,
                                           initial_state="any", candidates=1)[0]
                              for c in placed])  # fmt: skip
            for key, out in zip(todo, compiled, strict=True):
                permutation = list(range(out.num_qubits))
                if out.layout is not None and out.layout.final_layout is not None:
                    permutation = list(out.layout.routing_permutation())
                self._cache[key] = (out, permutation)
        return keys


def _placed(tail: QuantumCircuit, positions: Sequence[int], width: int) -> QuantumCircuit:
    """``tail`` on ``width`` physical qubits, virtual qubit v on ``positions[v]``."""
    wide = QuantumCircuit(width, name="tail", global_phase=tail.global_phase)
    for creg in tail.cregs:
        wide.add_register(creg)
    clbits = dict(zip(tail.clbits, wide.clbits, strict=True))
    for inst in tail.data:
        wide.append(inst.operation, [positions[tail.find_bit(q).index] for q in inst.qubits],
                    [clbits[c] for c in inst.clbits])  # fmt: skip
    return wide


def append_tail(cut: Cut, tail: QuantumCircuit, compile_tail: TailCompiler,
                name: str | None = None) -> QuantumCircuit:  # fmt: skip
    """``cut``'s circuit followed by ``tail`` (a circuit on the evolution's virtual qubits,
    e.g. a readout unitary, basis changes and measurements) on the cut's positions; the
    layout's final permutation includes the tail's routing, if it needed any."""
    width = cut.circuit.num_qubits
    if not tail.data and not tail.num_clbits:
        return cut.circuit
    compiled, permutation = compile_tail(tail, cut.positions, width)
    out = cut.circuit.copy(name=name or cut.circuit.name)
    for creg in compiled.cregs:
        out.add_register(creg)
    out.global_phase += compiled.global_phase
    qubits = dict(zip(compiled.qubits, out.qubits, strict=True))  # the same physical qubits
    clbits = dict(zip(compiled.clbits, out.clbits, strict=True))
    for inst in compiled.data:
        out._append(CircuitInstruction(inst.operation, tuple(qubits[q] for q in inst.qubits),
                                       tuple(clbits[c] for c in inst.clbits)))  # fmt: skip
    layout = cut.circuit.layout
    if layout is not None and any(permutation[q] != q for q in cut.positions):
        key = (id(cut.circuit), tuple(permutation[q] for q in cut.positions))
        if key not in compile_tail.layouts:  # (the tails of one cut share it)
            start = layout.initial_index_layout(filter_ancillas=True)
            moved = {p: permutation[q] for p, q in zip(start, cut.positions, strict=True)}
            compile_tail.layouts[key] = (cut.circuit, _with_final(layout, out, moved))
        layout = compile_tail.layouts[key][1]
    out._layout = layout
    return out


def compile_cuts(
    circuits: Sequence[QuantumCircuit],
    ends: Sequence[Sequence[int]],
    target: Target | None,
    *,
    seed: int | None = 0,
    initial_state: str = "auto",
    layout_from: QuantumCircuit | None = None,
    initial_layout: Sequence[int] | None = None,
) -> list[dict[int, Cut]]:
    """Each circuit compiled once with checkpoints after ``ends[i]`` instructions, as
    :func:`cut_at_checkpoints`: ``{end: Cut}`` per circuit. With a coupling map the circuits
    share the layout chosen on ``layout_from`` (default the first circuit) as
    :func:`~qcompile.passes.compile.compile_circuits` chooses it (or on ``initial_layout``),
    and are compiled alike (:func:`~qcompile.passes.compile.compile_alike`)."""
    marked = [mark_checkpoints(c, e) for c, e in zip(circuits, ends, strict=True)]
    layout = initial_layout
    if layout is None and target is not None and target.build_coupling_map() is not None:
        layout = shared_layout(layout_from or circuits[0], target, seed=seed,
                               initial_state=initial_state)  # fmt: skip
    if layout is None:
        compiled = compile_best(marked, target, seed=seed, initial_state=initial_state,
                                candidates=CANDIDATES)  # fmt: skip
    else:
        compiled = compile_alike(marked, target, seed=seed, initial_layout=layout,
                                 initial_state=initial_state)  # fmt: skip
    out = []
    for circuit_ends, body in zip(ends, compiled, strict=True):
        distinct = sorted(set(int(e) for e in circuit_ends))
        out.append(dict(zip(distinct, cut_at_checkpoints(body), strict=True)))
    return out


def whole_evolutions(program: CutProgram, readouts: Sequence[QuantumCircuit | None],
                     target: Target | None, seed: int = 0) -> list[QuantumCircuit]:  # fmt: skip
    """Each compiled evolution of ``program`` (its checkpoint barriers kept) followed by its
    readout (``readouts[i]`` for the i-th distinct source, ``None``: none) at its last
    checkpoint: the circuits every cut of ``program`` is a prefix of."""
    sources = list({id(s): s for s in program.sources}.values())
    tails = TailCompiler(target, seed=seed)
    whole = []
    for source, readout in zip(sources, readouts, strict=True):
        last = cut_at_checkpoints(source)[-1]
        if readout is None:
            whole.append(source)
            continue
        whole.append(append_tail(_Whole(last.positions, source, last.checkpoint, last.end),
                                 readout, tails, name=source.name))  # fmt: skip
    return whole


class _Whole(Cut):
    """A cut at the last checkpoint that keeps the source whole, barriers included."""

    @cached_property
    def circuit(self) -> QuantumCircuit:
        return self.source


def compile_pieces(
    pieces: Sequence[tuple[QuantumCircuit, QuantumCircuit]],
    target: Target | None,
    *,
    seed: int | None = 0,
    layout_from: QuantumCircuit | None = None,
    initial_layout: Sequence[int] | None = None,
) -> CutProgram:
    """Circuits given as ``(prefix, tail)`` pieces — the same register, every prefix run
    from |0…0⟩ — compiled as cuts: the prefixes that are beginnings of a longer one are cut
    from it (instruction by instruction equal), each longest prefix compiled once
    (:func:`compile_cuts`, on ``initial_layout`` or the layout chosen on ``layout_from``),
    every tail on the cut's qubits. Circuit i of the program is piece i."""
    prefixes = list({id(p): p for p, _ in pieces}.values())
    evolutions: list[QuantumCircuit] = []
    home: dict[int, tuple[int, int]] = {}  # prefix id -> (evolution index, end)
    for prefix in sorted(prefixes, key=lambda c: -len(c.data)):
        n = len(prefix.data)
        for e, evolution in enumerate(evolutions):
            if all(evolution.data[i] == prefix.data[i] for i in range(n)):
                home[id(prefix)] = (e, n)
                break
        else:
            home[id(prefix)] = (len(evolutions), n)
            evolutions.append(prefix)
    ends: list[list[int]] = [[] for _ in evolutions]
    for prefix in prefixes:
        e, n = home[id(prefix)]
        ends[e].append(n)
    cuts = compile_cuts(evolutions, ends, target, seed=seed, initial_state="zero",
                        layout_from=layout_from, initial_layout=initial_layout)  # fmt: skip
    tails = TailCompiler(target, seed=0 if seed is None else seed)
    placed = [(cuts[home[id(p)][0]][home[id(p)][1]], tail) for p, tail in pieces]
    tails.prepare([(tail, cut.positions, cut.source.num_qubits) for cut, tail in placed])
    program = CutProgram(tails)
    for (cut, tail), (prefix, _) in zip(placed, pieces, strict=True):
        program.add(cut, tail, f"{prefix.name}:{tail.name}")
    return program
