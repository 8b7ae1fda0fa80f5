"""Oscillators in qubits (issue 8; spec 003 §8): every lowered operator equals its truncated
matrix (up to a global phase), the encodings' truncation errors against analytic tails, the
one-step collision channel against e^{dt𝓛} (R12: error O(dt²)), and the Kraus-iterated
circuit rates against the encoded Lindbladian."""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.linalg as sla
from qiskit import QuantumCircuit, transpile
from qiskit.quantum_info import Operator
from scipy.special import erfc
from scipy.stats import poisson

from qcompile.errors import InvalidParameter
from qcompile.lowering.oscillator import (
    FockBinary,
    PositionGrid,
    centred_fourier,
    conditional_momentum,
    conditional_position,
    controlled_shift,
    diagonal_collision,
    diagonal_phase,
    ladder_collision,
    momentum_phase,
    number_phase,
    position_phase,
)
from qcompile.lowering.oscillator_collision import (
    cat_collisions,
    check_step_size,
    collision_kraus,
    gkp_collisions,
)
from qcompile.protocols import cat, gkp

SIGMA_PLUS = np.array([[0, 0], [1, 0]])  # |1⟩⟨0| on the ancilla (the last qubit)
Z = np.diag([1.0, -1.0])


def unitary(circuit: QuantumCircuit) -> np.ndarray:
    return Operator(circuit).data


def assert_equal_up_to_phase(a: np.ndarray, b: np.ndarray, atol: float = 1e-9) -> None:
    overlap = np.vdot(b.ravel(), a.ravel())
    phase = overlap / abs(overlap)
    assert np.abs(a - phase * b).max() < atol


def dilation(jump: np.ndarray, tau: float) -> np.ndarray:
    h = np.kron(SIGMA_PLUS, jump) + np.kron(SIGMA_PLUS.T, jump.conj().T)
    return sla.expm(-1j * tau * h)


# --- the position grid -------------------------------------------------------------------


@pytest.mark.parametrize("m", [3, 4])
def test_grid_primitives_equal_their_matrices(m):
    grid = PositionGrid(m)
    wires = list(range(m))
    x, k = grid.positions(), grid.momenta()
    four = grid.fourier()
    circ = QuantumCircuit(m)
    position_phase(circ, grid, wires, 0.7)
    assert np.allclose(unitary(circ), np.diag(np.exp(0.7j * x)), atol=1e-10)
    circ = QuantumCircuit(m)
    momentum_phase(circ, grid, wires, -1.3)
    assert np.allclose(unitary(circ), four.conj().T @ np.diag(np.exp(-1.3j * k)) @ four)
    circ = QuantumCircuit(m + 1)
    conditional_position(circ, grid, wires, m, 0.4)
    assert np.allclose(unitary(circ), sla.expm(-0.4j * np.kron(Z, grid.position())))
    circ = QuantumCircuit(m + 1)
    conditional_momentum(circ, grid, wires, m, 0.4)
    assert np.allclose(unitary(circ), sla.expm(-0.4j * np.kron(Z, grid.momentum())))
    # the centred DFT, written out independently of grid.fourier()
    big = 2**m
    idx = np.arange(big) - (big - 1) / 2
    dft = np.exp(-2j * np.pi * np.outer(idx, idx) / big) / np.sqrt(big)
    assert np.allclose(unitary(centred_fourier(grid)), dft, atol=1e-10)
    # F² is the parity x → −x, so F† is the rotation by π/2 of the grid
    assert np.allclose(dft @ dft, np.eye(big)[::-1], atol=1e-10)


def test_structured_gate_counts_are_the_ladders():
    m = 6
    grid = PositionGrid(m)
    circ = QuantumCircuit(m + 1)
    conditional_position(circ, grid, range(m), m, 0.3)
    assert circ.count_ops() == {"rzz": m}  # a conditional displacement: m RZZ
    circ = QuantumCircuit(m)
    position_phase(circ, grid, range(m), 0.3)
    assert set(circ.count_ops()) == {"rz"}  # e^{iηq}: single-qubit phases only


def test_grid_operators_approach_the_continuum_on_the_vacuum():
    """⟨p²⟩ = κ/2 on the vacuum, and the grid L_0 acting on the vacuum vs the analytic
    wavefunction 𝒜e^{iηx}(1 − iεηx)ψ₀(x) − ψ₀(x) (p ψ₀ = i x ψ₀ for κ = 1)."""
    from qcompile.lowering.oscillator_collision import grid_dissipator

    grid = PositionGrid(7)
    x = grid.positions()
    v0 = np.exp(-(x**2) / 2)
    v0 /= np.linalg.norm(v0)
    p = grid.momentum()
    assert np.vdot(v0, p @ p @ v0).real == pytest.approx(0.5, abs=1e-10)
    eta, eps = 2 * math.sqrt(math.pi), 0.1
    lv = grid_dissipator(grid, 0.0, eta, eps) @ v0
    expected = np.exp(1j * eta * x) * (1 - 1j * eps * eta * x) * v0 - v0
    assert np.abs(lv - expected).max() < 1e-8


def test_grid_truncation_error_of_the_vacuum_is_the_gaussian_tail():
    """Vacuum: P(|q| > Q) = erfc(Q/√κ), the same in p; the grid reports their sum."""
    grid = PositionGrid(3)  # window |q| ≤ √(2π·8)/2 = 3.54: a visible tail
    vacuum = np.zeros(30)
    vacuum[0] = 1
    half = grid.points * grid.dq / 2
    assert grid.truncation_error(vacuum) == pytest.approx(2 * erfc(half), rel=1e-4)


def test_fock_truncation_error_of_a_coherent_state_is_the_poisson_tail():
    from scipy.special import gammaln

    alpha, fock = 2.0, FockBinary(12)
    n = np.arange(80)
    amplitudes = np.exp(-(alpha**2) / 2 + n * np.log(alpha) - 0.5 * gammaln(n + 1))
    assert fock.truncation_error(amplitudes) == pytest.approx(poisson.sf(11, alpha**2), rel=1e-8)


# --- Fock-binary ---------------------------------------------------------------------------


@pytest.mark.parametrize("cutoff", [8, 12])
def test_fock_primitives_equal_their_truncated_matrices(cutoff):
    fock = FockBinary(cutoff)
    m = fock.qubits
    wires = list(range(m))
    n = np.arange(2**m)
    a = np.diag(np.sqrt(np.arange(1, cutoff)), 1)  # the truncated annihilator, written out
    for power, tau in ((1, 0.3), (2, 0.2)):
        jump = fock.pad(np.linalg.matrix_power(a, power))
        circ = QuantumCircuit(m + 1)
        ladder_collision(circ, fock, wires, m, power, tau)
        assert np.allclose(unitary(circ), dilation(jump, tau), atol=1e-10)
    # detuning + Kerr: e^{−i(0.3 N + 0.05 N²)}, diagonal
    circ = QuantumCircuit(m)
    number_phase(circ, fock, wires, [0.3, 0.05])
    assert np.allclose(unitary(circ), np.diag(np.exp(-1j * (0.3 * n + 0.05 * n**2))))
    # parity (−1)^N = Z on the lowest bit: e^{iθ(−1)^N} is one RZ
    circ = QuantumCircuit(m)
    diagonal_phase(circ, wires, 0.4 * (-1.0) ** n)
    assert circ.count_ops() == {"rz": 1}
    assert np.allclose(unitary(circ), np.diag(np.exp(0.4j * (-1.0) ** n)))
    # dephasing collision exp[−iτ N⊗σ_x]
    circ = QuantumCircuit(m + 1)
    diagonal_collision(circ, wires, m, np.diag(fock.number()).real, 0.25)
    assert np.allclose(unitary(circ), dilation(fock.number(), 0.25), atol=1e-10)


def test_controlled_shift_and_dense_diagonals():
    m = 4
    for shift in (1, -1, 2, -6):
        circ = QuantumCircuit(m + 1)
        controlled_shift(circ, range(m), m, shift)
        roll = np.roll(np.eye(2**m), shift, axis=0)
        assert np.allclose(unitary(circ), sla.block_diag(np.eye(2**m), roll), atol=1e-10)
    phases = np.random.default_rng(7).uniform(-np.pi, np.pi, 2**m)
    circ = QuantumCircuit(m)
    diagonal_phase(circ, range(m), phases)
    assert_equal_up_to_phase(unitary(circ), np.diag(np.exp(1j * phases)))


def test_structured_synthesis_beats_generic_at_d32():
    """The a² collision at d = 32 (Fock-binary, 6 qubits): ≥ 5× fewer CX than Qiskit's
    generic synthesis of the same unitary."""
    fock = FockBinary(32)
    circ = QuantumCircuit(6)
    ladder_collision(circ, fock, range(5), 5, 2, 0.1)
    basis = ["cx", "rz", "sx", "x"]
    ours = transpile(circ, basis_gates=basis, optimization_level=2, seed_transpiler=0)
    generic = QuantumCircuit(6)
    generic.unitary(unitary(circ), range(6))
    theirs = transpile(generic, basis_gates=basis, optimization_level=2, seed_transpiler=0)
    assert theirs.count_ops()["cx"] >= 5 * ours.count_ops()["cx"]


# --- collision steps -------------------------------------------------------------------------


def _superoperator(jumps):
    d = jumps[0].shape[0]
    eye = np.eye(d)
    out = np.zeros((d * d, d * d), complex)
    for j in jumps:
        jdj = j.conj().T @ j
        out += np.kron(j, j.conj()) - 0.5 * np.kron(jdj, eye) - 0.5 * np.kron(eye, jdj.T)
    return out


def _step_superoperator(collisions):
    d = collisions[0].jump.shape[0]
    out = np.eye(d * d, dtype=complex)
    for c in collisions:
        k0, k1 = collision_kraus(c.circuit)
        out = (np.kron(k0, k0.conj()) + np.kron(k1, k1.conj())) @ out
    return out


def _choi_distance(s1, s2, d):
    diff = (s1 - s2).reshape(d, d, d, d).transpose(0, 2, 1, 3).reshape(d * d, d * d)
    return np.abs(np.linalg.eigvalsh((diff + diff.conj().T) / 2)).sum() / d


def _r12_errors(build, dts):
    errors = []
    for dt in dts:
        collisions = build(dt)
        exact = sla.expm(dt * _superoperator([c.jump for c in collisions]))
        d = collisions[0].jump.shape[0]
        errors.append(_choi_distance(_step_superoperator(collisions), exact, d))
    return np.array(errors)


@pytest.mark.parametrize(
    ("lattice", "dts"), [("square", (0.01, 0.005)), ("hexagonal", (0.004, 0.002))]
)
def test_r12_gkp_step_is_second_order(lattice, dts):
    """R12: the compiled grid step (m = 4, quadrature noise included) vs e^{dt𝓛} of the grid
    Lindbladian: halving dt cuts the (Choi trace-norm) error ≈ 4×."""
    protocol = gkp(lattice=lattice, epsilon=0.1, noise="quadrature", sigma=0.01)
    grid = PositionGrid(4)
    errors = _r12_errors(lambda dt: gkp_collisions(protocol, grid, dt), dts)
    assert 3.3 < errors[0] / errors[1] < 4.5
    assert errors[1] < 0.02


def test_r12_cat_step_is_second_order():
    protocol = cat(photons=0.5, kappa1=0.05, kappa_d=0.1, cutoff=16)
    fock = FockBinary(8)  # a step on 8 of the levels (the circuit works on any cutoff)
    errors = _r12_errors(lambda dt: cat_collisions(protocol, fock, dt), (0.002, 0.001))
    assert 3.5 < errors[0] / errors[1] < 4.5


def test_compiled_collisions_equal_the_dilations_to_third_order():
    """A collision's unitary vs exp[−iτ(σ⁺⊗L + h.c.)] of its grid jump: the Strang splitting
    error scales as τ³."""
    protocol = gkp(epsilon=0.1)
    grid = PositionGrid(4)
    errs = []
    for dt in (0.004, 0.001):
        c = gkp_collisions(protocol, grid, dt)[1]
        u, target = unitary(c.circuit), dilation(c.jump, math.sqrt(dt))
        phase = np.vdot(target.ravel(), u.ravel())
        errs.append(np.linalg.norm(u - phase / abs(phase) * target, 2))
    assert 6 < errs[0] / errs[1] < 10  # τ halves: 2³ = 8


def test_step_size_and_grid_are_checked():
    protocol = gkp(epsilon=0.1)
    with pytest.raises(InvalidParameter, match="dt"):
        check_step_size(gkp_collisions(protocol, PositionGrid(6), 0.1), 0.1)
    with pytest.raises(InvalidParameter, match="grid_qubits"):
        PositionGrid(1)
    with pytest.raises(InvalidParameter, match="noise"):
        gkp_collisions(gkp(epsilon=0.1, noise="loss", sigma=0.01), PositionGrid(4), 0.01)
    with pytest.raises(InvalidParameter, match="dt"):
        gkp_collisions(protocol, PositionGrid(4), -0.01)


# --- circuit-level runs ----------------------------------------------------------------------


def test_gkp_circuit_rate_follows_the_grid_lindbladian():
    """Kraus iteration of the compiled (Aer) step vs the grid Lindbladian (operator-form
    integrator): equal to O(dt); both above the exact torus rate (truncation bias > 0); the
    few-step shot run agrees with the Kraus iteration within 4σ."""
    from qcompile.backends import get_backend
    from qcompile.protocols import get_protocol

    r = get_protocol("gkp").run(gkp(epsilon=0.1), get_backend("aer"), grid_qubits=5,
                                horizon=20.0, seed=3, shots=2000)  # fmt: skip
    obs, ideal = r.observables, r.ideal
    assert obs["rate"] == pytest.approx(ideal["rate"], rel=0.02)
    assert obs["rate"] > r.reference["torus_rate"]
    assert obs["step_error"] < 5e-3
    dev = obs["device"]
    assert abs(dev["z"] - ideal["z_after_steps"]) < 4 * dev["z_stderr"] + 1e-3
    assert r.circuit["two_qubit_gates"] > 0 and r.circuit["grid_qubits"] == 5


def test_cat_circuit_rates_follow_the_lindbladian():
    """Parity decay of the compiled Fock-binary step vs the same Lindbladian; its phase-flip
    rate vs the slowest Liouvillian eigenvalue of the protocol (QuTiP, no loss)."""
    from qcompile.backends import get_backend
    from qcompile.backends.reference import liouvillian_sector_slowest, liouvillian_slowest
    from qcompile.protocols import get_protocol

    protocol = cat(photons=1.0, kappa1=0.05, kappa_d=0.1, cutoff=20)
    r = get_protocol("cat").run(protocol, get_backend("aer"), seed=5, shots=2000, horizon=10.0)
    assert r.observables["bit_flip_rate"] == pytest.approx(r.ideal["bit_flip_rate"], rel=0.02)
    q = protocol.parity().diagonal()  # one noise set: loss and dephasing, as on the reference
    exact = -liouvillian_sector_slowest(protocol.open_system(), q, 1, 2)[1].real
    assert r.ideal["bit_flip_rate"] == pytest.approx(exact, rel=1e-9)
    gap = -liouvillian_slowest(protocol.open_system(loss=False), 4)[2].real
    assert r.observables["phase_flip_rate"] == pytest.approx(gap, rel=0.02)


@pytest.mark.slow
def test_gkp_circuit_rate_on_a_commensurate_grid_m7():
    """m = 7 (η/Δq = 16: e^{iηq} is an exact lattice shift): the compiled step's Kraus rate
    follows the grid Lindbladian (O(dt)) and lies between the exact torus rate and the
    Fock cut-off-60 rate 0.08508 (spec 003 R7)."""
    from qcompile.backends import get_backend
    from qcompile.protocols import get_protocol

    r = get_protocol("gkp").run(gkp(epsilon=0.1), get_backend("aer"), grid_qubits=7, seed=3,
                                shots=1000)  # fmt: skip
    rate = r.observables["rate"]
    assert rate == pytest.approx(r.ideal["rate"], rel=0.05)
    assert r.reference["torus_rate"] < rate < 0.08508


def test_lower_step_reports_the_cx_count_of_its_circuit():
    """``lower_step``: the step circuit (collisions, each followed by an ancilla reset) and a
    LoweringReport whose CX count is that of the circuit transpiled independently."""
    from qcompile.lowering.oscillator_collision import lower_step

    dt = 0.004
    collisions = gkp_collisions(gkp(epsilon=0.1), PositionGrid(5), dt)
    step, report = lower_step(collisions, dt)
    assert step.count_ops()["reset"] == 4 and report.system_qubits == 5
    basis = ["cx", "rz", "sx", "x", "reset"]
    compiled = transpile(step, basis_gates=basis, optimization_level=1, seed_transpiler=0)
    assert report.two_qubit_gates == compiled.count_ops()["cx"]


def test_offset_decay_rate_ignores_the_steady_value():
    """a e^{−Γt} + c (the iterated ⟨Q⟩ above the spectrum cutoff): the rate of the differences
    is Γ exactly; a straight line through log of the signal is biased by c."""
    from qcompile.protocols.oscillator_step_flow import decay_rate, offset_decay_rate

    times = np.linspace(0, 20, 61)
    signal = 0.9 * np.exp(-0.04 * times) + 0.05
    assert offset_decay_rate(times, signal) == pytest.approx(0.04, rel=1e-10)
    assert decay_rate(times, signal) < 0.038


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_decay_rate_of_a_fast_decay_ignores_the_round_off_floor(seed):
    """e^{−1.3 t} to t = 40 falls to 1e-23, under double precision's floor: with round-off
    noise of 1e-17 added (as a long iteration leaves it) the fitted rate is still 1.3 (1e-6),
    whatever the noise — a fit of the floor was off by ~40% and changed with the machine."""
    from qcompile.protocols.oscillator_step_flow import decay_rate

    times = np.linspace(0, 40, 61)
    noise = 1e-17 * np.random.default_rng(seed).standard_normal(times.size)
    assert decay_rate(times, np.exp(-1.3 * times) + noise) == pytest.approx(1.3, rel=1e-6)


def test_device_steps_can_be_mitigated_and_the_raw_value_is_kept(capsys):
    """GKP m = 3 on FakeManila, 3 steps with mid-circuit resets: readout mitigation and ZNE
    (each stretch between resets folded) move ⟨Z⟩ toward the Kraus iteration; the result
    keeps the raw values, the scale-1 value and the Richardson combination of the scales
    (1e-12); refused without device noise, before any work. (Short horizon: the rates are
    not what is tested here.)"""
    from test_cli import run_cli

    from qcompile.backends import get_backend
    from qcompile.protocols import get_protocol
    from qcompile.protocols.gkp import gkp
    from qcompile.run.zne import richardson_weights

    backend = get_backend("aer:fake_manila+readout-mitigation")
    result = get_protocol("gkp").run(gkp(epsilon=0.1), backend, grid_qubits=3, horizon=4.0,
                                     seed=1, shots=4000, zne="1,3")  # fmt: skip
    device, used = result.observables["device"], result.mitigation
    ideal = result.ideal["z_after_steps"]
    raw = used["readout"]["raw"]["z"]
    combined = richardson_weights((1, 3)) @ used["zne"]["by_scale"]
    assert combined == pytest.approx(device["z"], abs=1e-12)
    assert used["zne"]["by_scale"][0] == pytest.approx(used["zne"]["raw"]["z"], abs=1e-12)
    assert abs(device["z"] - ideal) < abs(raw - ideal)
    assert device["z_stderr"] > used["readout"]["raw"]["z_stderr"]
    for args, flag in (
        (["--zne", "1,3"], "--zne"),
        (["--backend", "aer", "--zne", "1,3"], "--zne"),
        (["--backend", "aer", "--mitigate-readout"], "--mitigate-readout"),
    ):
        assert run_cli("run", "cat", *args) == 2
        message = capsys.readouterr().err
        assert message.count("\n") == 1 and flag in message
