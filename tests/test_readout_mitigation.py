"""Readout-error mitigation: exact inversion of known assignment matrices, the simplex
projection against an independent algorithm, and the bias it removes on device noise."""

from __future__ import annotations

import numpy as np
import pytest
from test_cli import run_cli

from qcompile.backends import get_backend
from qcompile.backends.readout_mitigation import (
    assignment_matrices,
    mitigate_counts,
    nearest_probability,
)
from qcompile.protocols import homogenization
from qcompile.protocols.homogenization import run as run_experiment


def _assignment(e0: float, e1: float) -> np.ndarray:
    return np.array([[1 - e0, e1], [e0, 1 - e1]])


def test_assignment_matrices_read_the_calibration_the_right_way_round():
    """Asymmetric readout (qubit 3: P(1|0) = 0.1, P(0|1) = 0.3; qubit 7: 0.02, 0.05) from the
    all-|0> and all-|1> calibration tables: column j is the distribution read from state j,
    A = [[1 − P(1|0), P(0|1)], [P(1|0), 1 − P(0|1)]] (a transposed matrix reads back as other
    error rates). Clbit 0 is the rightmost character and measures qubit 3."""
    shots = 10_000
    zeros = {"00": 0.98 * 0.9 * shots, "01": 0.98 * 0.1 * shots,
             "10": 0.02 * 0.9 * shots, "11": 0.02 * 0.1 * shots}  # fmt: skip
    ones = {"11": 0.95 * 0.7 * shots, "10": 0.95 * 0.3 * shots,
            "01": 0.05 * 0.7 * shots, "00": 0.05 * 0.3 * shots}  # fmt: skip
    matrices = assignment_matrices(zeros, ones, [3, 7])
    assert matrices[3] == pytest.approx(np.array([[0.9, 0.3], [0.1, 0.7]]), abs=1e-12)
    assert matrices[7] == pytest.approx(np.array([[0.98, 0.05], [0.02, 0.95]]), abs=1e-12)


def test_known_assignment_matrices_are_inverted_exactly():
    rng = np.random.default_rng(4)
    true = rng.dirichlet(np.ones(8))  # over bit strings b2 b1 b0 (clbit 0 rightmost)
    clbit_qubits = {0: 7, 1: 3, 2: 12}
    matrices = {7: _assignment(0.02, 0.05), 3: _assignment(0.10, 0.01), 12: _assignment(0.04, 0.08)}
    # the measured distribution, built entry by entry from the definition P(m|t) = Π_i A[m_i,t_i]
    measured = np.zeros(8)
    for t in range(8):
        for m in range(8):
            factor = 1.0
            for clbit, qubit in clbit_qubits.items():
                factor *= matrices[qubit][(m >> clbit) & 1, (t >> clbit) & 1]
            measured[m] += factor * true[t]
    shots = 10_000
    counts = {format(m, "03b"): measured[m] * shots for m in range(8)}
    mitigated = mitigate_counts(counts, clbit_qubits, matrices)
    recovered = np.array([mitigated.get(format(t, "03b"), 0.0) for t in range(8)]) / shots
    # mthree solves in single precision: 1e-6 (shot noise at 10^4 shots is 1e-2)
    assert recovered == pytest.approx(true, abs=1e-6)
    assert sum(mitigated.values()) == pytest.approx(shots)


def _simplex_projection(v: np.ndarray) -> np.ndarray:
    """Euclidean projection onto the probability simplex (Duchi et al., ICML 2008)."""
    u = np.sort(v)[::-1]
    cumulative = np.cumsum(u)
    rho = np.nonzero(u * np.arange(1, len(v) + 1) > cumulative - 1)[0][-1]
    theta = (cumulative[rho] - 1) / (rho + 1)
    return np.maximum(v - theta, 0)


def test_nearest_probability_is_the_simplex_projection():
    rng = np.random.default_rng(11)
    for _ in range(200):
        quasi = rng.normal(size=rng.integers(2, 16))
        quasi += (1 - quasi.sum()) / len(quasi)  # quasi-probabilities sum to one
        projected = nearest_probability(quasi)
        assert projected.min() >= 0 and projected.sum() == pytest.approx(1)
        assert projected == pytest.approx(_simplex_projection(quasi), abs=1e-12)
    valid = rng.dirichlet(np.ones(5))
    assert nearest_probability(valid) == pytest.approx(valid)


def test_mitigation_removes_readout_bias_on_device_noise():
    h = homogenization(alpha=0.5, reservoir=3)
    exact = np.array(h.reference()["system_fidelity"])
    raw = run_experiment(h, get_backend("aer:fake_manila"), shots=4000, seed=0)
    fixed = run_experiment(h, get_backend("aer:fake_manila+readout-mitigation"), shots=4000, seed=0)
    assert fixed.backend == "aer:fake_manila+readout-mitigation"
    bias_raw = np.abs(np.array(raw.observables["system_fidelity"]) - exact)
    bias_fixed = np.abs(np.array(fixed.observables["system_fidelity"]) - exact)
    # FakeManila's readout errors (a few %) cost ~0.1 of fidelity after 3 collisions; what
    # is left after mitigation is gate error and shot noise
    assert bias_raw[-1] > 0.06
    assert bias_fixed[-1] < bias_raw[-1] / 2
    # the result keeps the same shots before inversion (same simulator seed: the raw run's
    # tables) for compare, and the mitigated errors carry the inversion's variance
    kept = fixed.mitigation["readout"]["raw"]
    assert kept["system_fidelity"] == pytest.approx(raw.observables["system_fidelity"], abs=1e-12)
    assert np.all(
        np.array(fixed.observables["system_fidelity_stderr"][1:])
        > np.array(kept["system_fidelity_stderr"][1:])
    )


def test_mitigation_flag_needs_a_device_noise_backend(capsys):
    args = ["run", "homogenization", "--alpha", "0.5", "--reservoir", "2", "--mitigate-readout"]
    assert run_cli(*args, "--backend", "aer") == 2
    assert "--mitigate-readout=True" in capsys.readouterr().err


def test_twenty_measured_qubits_are_mitigated_matrix_free():
    """A 20-qubit GHZ distribution (|0…0⟩, |1…1⟩, ½ each) read with 1–5% errors: raw, the
    two strings keep ~0.57 of the weight; mitigated, the exact answer 1 within 0.03. mthree
    works in the ~800 observed strings, not the 2^20 = 10^6 of a dense inversion; the weight
    the noise moved to strings never observed is not returned (~2% here, 0 for a dense
    inversion: ``benchmarks/readout_mitigation.py`` measures both)."""
    rng = np.random.default_rng(2026)
    n, shots = 20, 20_000
    flip0, flip1 = rng.uniform(0.01, 0.03, n), rng.uniform(0.02, 0.05, n)
    matrices = {q: _assignment(flip0[q], flip1[q]) for q in range(n)}
    ones = rng.random(shots) < 0.5
    flips = np.where(ones[:, None], rng.random((shots, n)) < flip1, rng.random((shots, n)) < flip0)
    counts: dict[str, int] = {}
    for row in ones[:, None] ^ flips:
        key = "".join("1" if b else "0" for b in row[::-1])
        counts[key] = counts.get(key, 0) + 1
    mitigated = mitigate_counts(counts, {q: q for q in range(n)}, matrices)
    ghz = ("0" * n, "1" * n)
    raw = sum(counts.get(b, 0) for b in ghz) / shots
    weight = sum(mitigated.get(b, 0) for b in ghz) / sum(mitigated.values())
    assert raw < 0.6
    assert weight == pytest.approx(1.0, abs=0.03)
    assert mitigated.get(ghz[0], 0) / shots == pytest.approx(0.5, abs=0.03)


def test_standard_errors_include_the_inversions_variance():
    """Monte Carlo over 400 independent experiments (calibration and counts drawn from known
    A and p, 2000 shots each): the spread of the mitigated ⟨Z⟩ is what one experiment's
    bootstrap reports (within 12%), and larger than the naive binomial error of the
    mitigated table by about 1/(1 − e₀ − e₁) = 1.25."""
    from qcompile.states.tomography import estimate_bloch

    rng = np.random.default_rng(21)
    e0, e1, p0, shots = 0.08, 0.12, 0.7, 2000
    measured0 = (1 - e0) * p0 + e1 * (1 - p0)

    def experiment():
        f0 = rng.binomial(shots, e0) / shots  # P(1|0) from the all-|0> calibration
        f1 = rng.binomial(shots, e1) / shots  # P(0|1) from the all-|1>
        zeros = rng.binomial(shots, measured0)
        counts = {"0": zeros, "1": shots - zeros}
        return mitigate_counts(counts, {0: 0}, {0: _assignment(f0, f1)}, shots)

    spread = np.std([(t["0"] - t.get("1", 0)) / shots for t in map(lambda _: experiment(),
                     range(400))], ddof=1)  # fmt: skip
    table = experiment()
    estimate = estimate_bloch([table] * 3, 1, bootstrap=2000, rng=np.random.default_rng(2))
    reported = estimate.samples[:, 0, 2].std(ddof=1)
    z = estimate.mean[0, 2]
    naive = np.sqrt((1 - z**2) / shots)
    assert reported == pytest.approx(spread, rel=0.12)
    assert reported > 1.2 * naive
    # the resamples are centred on the exact inverse of this experiment's raw counts
    assert estimate.samples[:, 0, 2].mean() == pytest.approx(z, abs=3 * reported / np.sqrt(2000))


def test_joint_state_bootstrap_resamples_the_raw_counts():
    """Two qubits: the resampled mitigated marginals average to the exact tensored inverse of
    the raw counts (1e-3), and the mitigated state's errors exceed those of the same table
    treated as raw counts."""
    from qcompile.states.mitigated_counts import MitigatedCounts
    from qcompile.states.tomography import estimate_state

    rng = np.random.default_rng(5)
    a0, a1 = _assignment(0.05, 0.1), _assignment(0.1, 0.03)
    raw = {"00": 500.0, "01": 300.0, "10": 150.0, "11": 50.0}
    table = mitigate_counts(raw, {0: 0, 1: 1}, {0: a0, 1: a1}, 1000)
    assert isinstance(table, MitigatedCounts)
    samples = table.marginal_samples([0, 1], 20_000, rng)
    q = np.array([raw[format(i, "02b")] for i in range(4)]) / 1000  # index bit j = clbit j
    exact = np.kron(np.linalg.inv(a1), np.linalg.inv(a0)) @ q
    assert samples.mean(axis=0) == pytest.approx(exact, abs=2e-3)
    settings = [table] * 9
    mitigated = estimate_state(settings, 2, rng=np.random.default_rng(1))
    plain = estimate_state([dict(table)] * 9, 2, rng=np.random.default_rng(1))
    spread = [np.std([s[0, 0].real for s in e.samples]) for e in (mitigated, plain)]
    assert spread[0] > 1.1 * spread[1]


def test_mid_circuit_measurements_are_mitigated_with_their_qubits_calibration():
    """A qubit measured twice (mid-circuit, then at the end) writes two clbits; each is
    undone with that qubit's assignment matrix: exact inversion (1e-6), and on FakeManila
    noise the mitigated P(010) moves from the raw value (< 0.97) to 1 within 3 standard errors."""
    from qiskit import QuantumCircuit

    from qcompile.backends.readout_mitigation import measured_qubits

    qc = QuantumCircuit(2, 3)
    qc.measure(0, 0)
    qc.x(0)
    qc.measure(0, 1)
    qc.measure(1, 2)
    clbit_qubits = measured_qubits(qc)
    assert clbit_qubits == {0: 0, 1: 0, 2: 1}
    matrices = {0: _assignment(0.1, 0.2), 1: _assignment(0.05, 0.03)}
    measured = np.zeros(8)
    for m in range(8):  # truth: clbits (2, 1, 0) = (0, 1, 0)
        factor = 1.0
        for clbit, qubit in clbit_qubits.items():
            factor *= matrices[qubit][(m >> clbit) & 1, (0b010 >> clbit) & 1]
        measured[m] = factor
    mitigated = mitigate_counts({format(m, "03b"): 1000 * measured[m] for m in range(8)},
                                clbit_qubits, matrices)  # fmt: skip
    assert mitigated["010"] == pytest.approx(1000, abs=1e-3)

    backend = get_backend("aer:fake_manila+readout-mitigation")
    raw_backend = get_backend("aer:fake_manila")
    from qcompile.passes.compile import compile_circuits

    (compiled,), _ = compile_circuits([qc], backend.compile_target, seed=1)
    (raw,) = raw_backend.run([compiled], 4000, seed=3)
    (table,) = backend.run([compiled], 4000, seed=3)
    assert raw["010"] / 4000 < 0.97
    samples = table.marginal_samples([0, 1, 2], 400, np.random.default_rng(0))[:, 0b010]
    assert abs(table["010"] / 4000 - 1) < 3 * samples.std() + 0.005
