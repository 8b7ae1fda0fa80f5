"""Compile once, cut at checkpoints (issue 33): every cut is the compiled evolution up to its
time, and Aer's checkpointed sampling draws from the distribution of the whole cut circuits.

References are independent of the code under test: the logical prefix's exact density
matrix (Aer, noiseless, the uncompiled circuit) for the cuts; Aer's noisy density-matrix run
of each whole cut circuit, and its counts, for the checkpointed sampling.
"""

from __future__ import annotations

import numpy as np
import pytest
from qiskit.circuit import QuantumCircuit
from qiskit_aer import AerSimulator

from qcompile.backends.aer import AerBackend, density_matrices_at
from qcompile.backends.checkpoint_sampling import checkpoint_states, sample_cuts
from qcompile.backends.restricted_noise import active_qubits, compact, restricted_noise_model
from qcompile.passes.checkpoint_cuts import (
    CutProgram,
    TailCompiler,
    append_tail,
    compile_cuts,
    mark_checkpoints,
)
from qcompile.passes.targets import resolve_target
from qcompile.protocols.dissipative_qubits import from_mapping
from qcompile.protocols.encoding_flow import lower_evolution
from qcompile.run.prefix_tomography import compile_prefixes

#: Agreement of exact density matrices (double-precision simulation of ~10³ gates).
EXACT = 1e-8


def _encoded(count: int = 2, collisions: int = 4):
    protocol = from_mapping({"J": 2, "alpha": 0.05, "t_max": 20})
    evolutions = list(lower_evolution(protocol, {"collisions": collisions}).values())
    return evolutions[:count]


def _prefix_state(evolution, time: float, qubits) -> np.ndarray:
    """The logical prefix's exact state of ``qubits`` (readout included)."""
    prefix = evolution.prefix(time)
    return density_matrices_at(prefix, {time: len(prefix.data)}, qubits)[time]


def _physical_state(circuit: QuantumCircuit, positions) -> np.ndarray:
    """The exact final state of the physical qubits ``positions`` of a compiled circuit."""
    qubits = sorted(set(active_qubits([circuit])) | set(positions))
    small = compact(circuit, qubits)
    where = [qubits.index(p) for p in positions]
    return density_matrices_at(small, {0.0: len(small.data)}, where)[0.0]


@pytest.mark.parametrize("target", ["fake_torino", "fake_manila", None])
def test_each_cut_is_the_compiled_evolution_up_to_its_time(target):
    """Cut at t, followed by the readout on the cut's positions, leaves the two system
    qubits in the logical prefix's state, at every checkpoint, on two devices and
    all-to-all."""
    evolutions = _encoded()
    resolved = resolve_target(target)
    times = list(evolutions[0].checkpoints)
    ends = [[e.checkpoints[t] for t in times] for e in evolutions]
    cuts = compile_cuts([e.circuit for e in evolutions], ends, resolved, seed=5)
    tails = TailCompiler(resolved, seed=5)
    for evolution, by_end in zip(evolutions, cuts, strict=True):
        assert len(by_end) == len(times)
        for t in times:
            cut = by_end[evolution.checkpoints[t]]
            assert not any(i.operation.name == "barrier" for i in cut.circuit.data)
            circuit = append_tail(cut, evolution.readout, tails)
            final = (circuit.layout.final_index_layout() if circuit.layout is not None
                     else list(range(circuit.num_qubits)))  # fmt: skip
            got = _physical_state(circuit, final[:2])
            np.testing.assert_allclose(got, _prefix_state(evolution, t, [0, 1]), atol=EXACT)
    # every tail compiled once per placement, not once per cut
    assert tails.compiled <= len({c.positions for by_end in cuts for c in by_end.values()})


def test_checkpoints_are_barriers_in_order():
    evolution = _encoded(1)[0]
    marked = mark_checkpoints(evolution.circuit, [9, 1, 5, 5])
    labels = [i.operation.label for i in marked.data if i.operation.name == "barrier"]
    assert labels == ["qcompile.checkpoint:0", "qcompile.checkpoint:1", "qcompile.checkpoint:2"]
    assert len(marked.data) == 9 + 3
    with pytest.raises(ValueError, match="checkpoint ends"):
        mark_checkpoints(evolution.circuit, [len(evolution.circuit.data) + 1])


def _program(device: str, count: int = 2) -> tuple[CutProgram, AerBackend]:
    backend = AerBackend(device)
    evolutions = _encoded(count)
    times = list(evolutions[0].checkpoints)[1:]
    program, info = compile_prefixes(backend.device, evolutions, times, [0, 1], 3, False)
    assert info["strategy"] == "cuts" and info["circuits"] == count * len(times) * 9
    return program, backend


def test_checkpointed_states_equal_the_noisy_states_of_the_whole_cuts():
    """The density matrix saved at each checkpoint of one noisy run equals the noisy state
    of the whole cut circuit up to that checkpoint (Aer, FakeManila's noise, each cut run on
    its own)."""
    program, backend = _program("fake_manila", 1)
    qubits, kept, states = checkpoint_states(program, backend.device)
    noise = restricted_noise_model(backend.device, qubits)
    simulator = AerSimulator(method="density_matrix", noise_model=noise)
    seen = set()
    for source, j in zip(program.sources, program.checkpoints, strict=True):
        if (id(source), j) in seen:
            continue
        seen.add((id(source), j))
        cut = _cut_body(source, j)
        small = compact(cut, qubits)
        small.save_density_matrix(qubits=kept[id(source)][j], label="rho")
        expected = np.asarray(simulator.run(small).result().data(0)["rho"])
        np.testing.assert_allclose(states[id(source)][f"rho_{j}"], expected, atol=EXACT)
    assert len(seen) == len(set(program.checkpoints))


def _cut_body(source: QuantumCircuit, j: int) -> QuantumCircuit:
    body = source.copy_empty_like()
    for inst in source.data:
        if inst.operation.name == "barrier" and inst.operation.label == f"qcompile.checkpoint:{j}":
            return body
        if inst.operation.name != "barrier":
            body.append(inst)
    raise AssertionError(f"no checkpoint {j}")


def _chi2_homogeneity(a: dict, b: dict) -> tuple[float, int]:
    """Pearson's two-sample χ² over the outcomes either table saw, and its degrees of
    freedom (equal totals)."""
    keys = sorted(set(a) | set(b))
    x = np.array([a.get(k, 0) for k in keys], float)
    y = np.array([b.get(k, 0) for k in keys], float)
    total = x + y
    keep = total > 0
    stat = float(np.sum((x[keep] - y[keep]) ** 2 / total[keep]))
    return stat, int(keep.sum()) - 1


@pytest.mark.parametrize("mitigate", [False, True])
def test_checkpointed_counts_follow_the_distribution_of_the_cut_circuits(mitigate):
    """χ² homogeneity of the checkpointed counts against each whole cut circuit run on the
    same noisy backend (FakeManila), over every circuit of a program: the summed statistic
    is χ²-distributed with the summed degrees of freedom; p > 10⁻³ (seeds fixed)."""
    from scipy.stats import chi2

    program, backend = _program("fake_manila")
    backend.readout_mitigation = mitigate
    shots = 2000
    fast = sample_cuts(program, backend.device, shots, seed=11, mitigate_readout=mitigate)
    # one call per circuit, each seeded apart: in one call Aer draws the i-th circuit of
    # every chunk from the same seed, which correlates equal distributions
    slow = [backend.run([c], shots, seed=100 + i)[0] for i, c in enumerate(program.circuits)]
    raw = [getattr(t, "raw", t) for t in fast], [getattr(t, "raw", t) for t in slow]
    stat, dof = 0.0, 0
    for a, b in zip(*raw, strict=True):
        s, d = _chi2_homogeneity(a, b)
        stat, dof = stat + s, dof + d
    assert chi2.sf(stat, dof) > 1e-3, (stat, dof)
    # the same statistic detects a different distribution: the tails run without noise
    ideal = sample_cuts(program, None, shots, seed=11)
    off = sum(_chi2_homogeneity(a, b)[0] for a, b in zip(ideal, raw[1], strict=True))
    assert chi2.sf(off, dof) < 1e-6
    # mitigated as the per-cut run is: the raw tables kept beside the inverted ones
    assert all(hasattr(t, "raw") == mitigate for t in [*fast, *slow])


def test_the_old_revision_compiles_every_prefix():
    """Compiler revision 3 (a stored run's recipe) compiles each prefix on its own: the
    circuits a job submitted before revision 4 ran are recompiled alike."""
    from qcompile.passes.compile import compiler_revision

    backend = AerBackend("fake_manila")
    evolutions = _encoded(1, collisions=4)
    times = list(evolutions[0].checkpoints)[1:]
    with compiler_revision(3):
        circuits, info = compile_prefixes(backend.device, evolutions, times, [0, 1], 3, False)
    assert info["strategy"] == "prefixes" and info["compiled_circuits"] == len(circuits) == 36
    program, info = compile_prefixes(backend.device, evolutions, times, [0, 1], 3, False)
    # one evolution, and a tail per setting and placement of the two system qubits
    assert info["strategy"] == "cuts" and len(program.circuits) == 36
    placements = len({tuple(c.layout.final_index_layout()[:2]) for c in program.circuits})
    assert info["compiled_circuits"] <= 1 + 9 * placements < 36


def _outcome_probabilities(circuit: QuantumCircuit) -> np.ndarray:
    """Exact noiseless distribution of a measured circuit's clbits (its final
    measurements made probabilities on the measured qubits, in clbit order)."""
    from qiskit import transpile

    from qcompile.backends.checkpoint_sampling import _final_measurements

    simulator = AerSimulator(method="density_matrix")
    small = transpile(compact(circuit, active_qubits([circuit])), simulator,
                      optimization_level=0)  # fmt: skip
    unmeasured, _ = _final_measurements(small)
    result = simulator.run(unmeasured, shots=1).result()
    return np.asarray(result.data(0)["probabilities"])


def test_bloch_path_pieces_compile_to_the_logical_distributions():
    """Homogenization's tomography and --recoverability process-tomography circuits as
    (prefix, setting) pieces cut from evolutions compiled once on FakeTorino: every
    compiled circuit has the logical circuit's exact outcome distribution (1e-9), and the
    prefixes of one probe share one compiled evolution."""
    from qcompile.passes.checkpoint_cuts import compile_pieces
    from qcompile.protocols import homogenization
    from qcompile.protocols.homogenization_recoverability import recoverability_experiment

    protocol = homogenization(alpha=0.5, reservoir=3)
    experiment = recoverability_experiment(protocol)
    pieces = list(experiment.pieces)
    program = compile_pieces(pieces, resolve_target("fake_torino"), seed=4,
                             layout_from=protocol.circuit())  # fmt: skip
    assert len({id(c.source) for c in program.cuts}) == 4  # one evolution per probe input
    for i in range(0, len(pieces), 7):
        want = _outcome_probabilities(experiment.circuits[i])
        got = _outcome_probabilities(program.circuits[i])
        np.testing.assert_allclose(got, want, atol=1e-9)


def test_tables_of_equal_distributions_are_drawn_independently():
    """One evolution compiled twice into one program (equal cuts, equal distributions): in one
    sampling call each table is its own draw. The summed two-sample χ² of the twin tables lies
    inside its two-sided 99.9 % band — not 0, as tables drawn from one seed would make it
    (such correlated draws once put an ensemble average 6.8σ off)."""
    from scipy.stats import chi2

    backend = AerBackend("fake_manila")
    (evolution,) = _encoded(1)
    times = list(evolution.checkpoints)[1:]
    program, _ = compile_prefixes(backend.device, [evolution, evolution], times, [0, 1], 3, False)
    tables = sample_cuts(program, backend.device, 2000, seed=5)
    half = len(tables) // 2
    stat, dof = 0.0, 0
    for a, b in zip(tables[:half], tables[half:], strict=True):
        s, d = _chi2_homogeneity(a, b)
        stat, dof = stat + s, dof + d
    assert dof > 0 and 5e-4 < chi2.cdf(stat, dof) < 1 - 5e-4, (stat, dof)
