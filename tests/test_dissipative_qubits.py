"""Spec 001 checks R1-R8 and R12 from the public API, the exact circuits, CLI and bad input.

References: the closed forms of spec 001 §3, §8 (eqs. 31-37), App. D (§9), §7.4 and the
numbers of its tables; QuTiP's master-equation solver as the independent Lindblad solution.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import scipy.linalg as sla
from qiskit import transpile
from qiskit.quantum_info import DensityMatrix, partial_trace
from test_cli import run_cli

from qcompile.backends import get_backend
from qcompile.backends.heom import HEOMSettings, check_heom_memory
from qcompile.backends.propagators import reference_propagators
from qcompile.backends.reference import lindblad_reference
from qcompile.errors import InvalidParameter, ResourceLimit
from qcompile.lowering.cascade_channel import cascade_channel_circuit, cascade_kraus
from qcompile.lowering.collision import channel_circuit
from qcompile.protocols import dissipative_qubits
from qcompile.protocols.dissipative_qubits import (
    coupling_operator,
    kraus_operators,
    rank_encodings,
    spectrum,
    system_hamiltonian,
    transition_rates,
)
from qcompile.protocols.plugin import get_protocol
from qcompile.protocols.two_qubit_codes import (
    BELL,
    OCTAHEDRON,
    af,
    custom,
    encoding_observables,
    ensemble_norm,
    nsymm,
    state_ensemble,
)

S, TAF, TFP, TFM = BELL["S"], BELL["T_AF"], BELL["T_F+"], BELL["T_F-"]
SWAP = np.eye(4)[[0, 2, 1, 3]]
ENCODINGS = get_protocol("dissipative-qubits")
PROPAGATORS = {"propagators": reference_propagators}


def _lindblad_states(protocol, psi, times):
    return lindblad_reference(protocol.open_system(psi), times).states


# -- R1, R2: spectrum and the decoherence-free singlet -----------------------------------------
@pytest.mark.parametrize(
    ("J", "a2"), [(-1, 0.14645), (0, 0.5), (1, 0.85355), (2, 0.94721), (2.5, 0.96424), (3, 0.97434)]
)
def test_r1_spectrum_and_eigenstates(J, a2):
    s = spectrum(J)
    R = math.hypot(J, 1)
    assert s.energies == pytest.approx([-R, -J, J, R], abs=1e-12)
    assert s.a**2 == pytest.approx(a2, abs=1e-5) and s.b**2 == pytest.approx(1 - a2, abs=1e-5)
    h = system_hamiltonian(J)
    for k in range(4):
        assert np.linalg.norm(h @ s.states[:, k] - s.energies[k] * s.states[:, k]) < 1e-12
    assert np.sort(np.linalg.eigvalsh(h)) == pytest.approx(np.sort(s.energies), abs=1e-12)
    a_op = coupling_operator()
    assert abs(s.states[:, 0].conj() @ a_op @ TFM - s.b) < 1e-12  # <psi1|A|T_F-> = b
    assert abs(TFM @ a_op @ s.states[:, 3] + s.a) < 1e-12  # <T_F-|A|psi4> = -a


def test_r2_singlet_is_decoherence_free_in_a_discretised_bath():
    a_op = coupling_operator()
    assert np.linalg.norm(a_op @ S) < 1e-15
    h = system_hamiltonian(1.3)
    assert np.linalg.norm(SWAP @ h - h @ SWAP) < 1e-15
    assert np.linalg.norm(SWAP @ a_op - a_op @ SWAP) < 1e-15
    # H = H_S + Σ ω_i b†b + A ⊗ Σ λ_i (b + b†), 3 modes of 3 levels, λ_i on spec §2.3's grid
    levels, omegas = 3, [2.0, 4.0, 6.0]
    b = np.diag(np.sqrt(np.arange(1, levels)), 1)
    eye_b = np.eye(levels)

    def mode_op(op, i):
        factors = [op if k == i else eye_b for k in range(len(omegas))]
        out = factors[0]
        for f in factors[1:]:
            out = np.kron(out, f)
        return out

    dim_b = levels ** len(omegas)
    lams = [math.sqrt(2 * 0.1 * w * 2.0) for w in omegas]
    bath = sum(w * mode_op(b.T @ b, i) for i, w in enumerate(omegas))
    field = sum(lam * mode_op(b + b.T, i) for i, lam in enumerate(lams))
    full = np.kron(h, np.eye(dim_b)) + np.kron(np.eye(4), bath) + np.kron(a_op, field)
    vacuum = np.zeros(dim_b)
    vacuum[0] = 1
    state = np.kron(S, vacuum)
    assert np.linalg.norm(full @ state - (-1.3) * state) < 1e-12


# -- R3: rates -----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("J", "omega_c", "g43", "g31"),
    [(1, 10, 0.213131, 0.174497), (1, 100, 0.221226, 0.216845), (-1, 10, 0.174497, 0.213131),
     (2, 10, 0.137218, 0.091980), (2, 100, 0.140165, 0.134669)],
)  # fmt: skip
def test_r3_rates_with_exponential_cutoff(J, omega_c, g43, g31):
    assert transition_rates(J, 0.05, omega_c) == pytest.approx((g43, g31), abs=1e-6)


@pytest.mark.parametrize(("J", "gamma"), [(1, 0.222144), (-1, 0.222144), (2, 0.140496)])
def test_r3_rates_coincide_for_ohmic_bath(J, gamma):
    assert transition_rates(J, 0.05) == pytest.approx((gamma, gamma), abs=1e-6)
    assert gamma == pytest.approx(2 * math.pi * 0.05 / math.hypot(J, 1), abs=1e-6)
    g43, g31 = transition_rates(J, 0.05, omega_c=20, cutoff="hard")
    assert g43 == pytest.approx(g31, rel=1e-12)  # the paper's "indeterminate form"


# -- R4: the quasi-ferromagnetic state (38) -----------------------------------------------------
@pytest.mark.parametrize("J", [1.0, -1.0, 0.0])
def test_r4_f_state_follows_the_closed_forms(J):
    p = dissipative_qubits(J=J, alpha=0.05)
    s = p.spectrum()
    psi1, psi3, psi4 = s.states[:, 0], s.states[:, 2], s.states[:, 3]
    f_state = (psi3 + psi4) / math.sqrt(2)
    times = np.linspace(0, 60, 121)
    states = _lindblad_states(p, f_state, times)
    gamma = p.rates()[0]
    e = np.exp(-gamma * times)
    rho44 = np.array([np.real(psi4.conj() @ r @ psi4) for r in states])
    rho33 = np.array([np.real(psi3.conj() @ r @ psi3) for r in states])
    rho11 = np.array([np.real(psi1.conj() @ r @ psi1) for r in states])
    rho34 = np.array([abs(psi3.conj() @ r @ psi4) for r in states])
    assert rho44 == pytest.approx(0.5 * e, abs=1e-6)
    assert rho33 == pytest.approx(0.5 * (1 + gamma * times) * e, abs=1e-6)
    assert rho11 == pytest.approx(1 - (1 + gamma * times / 2) * e, abs=1e-6)
    assert rho34 == pytest.approx(0.5 * e, abs=1e-6)
    if J == 1.0:  # spec §11 R4 numbers at t = 10
        n = 20
        assert (rho44[n], rho33[n], rho11[n], rho34[n]) == pytest.approx(
            (0.05423, 0.17469, 0.77109, 0.05423), abs=1e-5
        )


# -- R5: Appendix D -----------------------------------------------------------------------------
def _appendix_d(a, b, gamma, t):
    e = np.exp(-gamma * t)
    f_af = (
        a**2 * (a**2 + b**2 * (1 - (1 + gamma * t) * e))
        + b**4 * e
        + 2 * a**2 * b**2 * np.exp(-gamma * t / 2)
    )
    f_plus = (
        b**2 * (b**2 + a**2 * (1 - (1 + gamma * t) * e))
        + a**4 * e
        + 2 * a**2 * b**2 * np.exp(-gamma * t / 2)
    )
    return {"T_AF": f_af, "T_F+": f_plus, "T_F-": e}


@pytest.mark.parametrize(
    ("J", "table"),
    [(-1, (0.1465, 0.8536, 0.0)), (0, (0.5, 0.5, 0.0)), (1, (0.8536, 0.1465, 0.0)),
     (3, (0.9752, 0.0269, 0.0004))],
)  # fmt: skip
def test_r5_triplet_fidelities(J, table):
    p = dissipative_qubits(J=J, alpha=0.05)
    s, gamma = p.spectrum(), p.rates()[0]
    times = np.linspace(0, 80, 161)
    expected = _appendix_d(s.a, s.b, gamma, times)
    for name, value in zip(("T_AF", "T_F+", "T_F-"), table, strict=True):
        psi = BELL[name].astype(complex)
        states = _lindblad_states(p, psi, times)
        kets = p.closed_states(psi, times)
        fidelity = np.array([np.real(k.conj() @ r @ k) for k, r in zip(kets, states, strict=True)])
        assert fidelity == pytest.approx(expected[name], abs=1e-6)
        assert fidelity[-1] == pytest.approx(value, abs=1e-4)
    assert expected["T_AF"][-1] == pytest.approx(s.a**2, abs=2e-3)  # F_inf = a^2


# -- R6, R7: the AF code ------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("J", "f_inf", "purity_inf", "leakage"),
    [(1, 0.9024, 0.8887, -0.0511), (2, 0.9648, 0.9574, -0.0231), (2.5, 0.9762, 0.9708, -0.0169),
     (3, 0.9829, 0.9789, None)],
)  # fmt: skip
def test_r6_af_asymptotes(J, f_inf, purity_inf, leakage):
    p = dissipative_qubits(J=J, alpha=0.05, t_max=400, dt=100)
    a2 = p.spectrum().a ** 2
    assert (1 + 2 * a2) / 3 == pytest.approx(f_inf, abs=1e-4)
    assert 0.5 * (1 + (1 - a2 + 3 * a2**2) / 3) == pytest.approx(purity_inf, abs=1e-4)
    times = np.linspace(360, 400, 801)  # stationary; the leakage oscillates, take its mean
    supers, _ = reference_propagators(p, times)
    apply = lambda psi: [  # noqa: E731
        (s @ np.outer(psi, psi.conj()).reshape(-1, order="F")).reshape(4, 4, order="F")
        for s in supers
    ]
    values = encoding_observables(af(), apply, lambda psi: p.closed_states(psi, times))
    assert values["fidelity"] == pytest.approx(f_inf, abs=1e-4)
    assert values["purity"] == pytest.approx(purity_inf, abs=1e-4)
    if leakage is not None:  # spec §12 [5], late means: the dynamics fills the code space
        assert np.mean(values["leakage"]) == pytest.approx(leakage, abs=2e-3)


@pytest.mark.parametrize(("J", "minimum"), [(1, 0.7917), (2, 0.9067)])
def test_r7_closed_logical_purity(J, minimum):
    p = dissipative_qubits(J=J, alpha=0.0)
    R = math.hypot(J, 1)
    times = np.array([math.pi / (2 * R), math.pi / (2 * R) + math.pi / R, 0.37, 0.37 + math.pi / R])
    closed = lambda psi: p.closed_states(psi, times)  # noqa: E731
    pure = lambda psi: [np.outer(k, k.conj()) for k in closed(psi)]  # noqa: E731
    purity = encoding_observables(af(), pure, closed)["purity"]
    z = 1 - (1 / R) ** 2
    assert purity[0] == pytest.approx(0.5 * (1 + (1 + z + z * z) / 3), abs=1e-12)
    assert purity[0] == pytest.approx(minimum, abs=1e-4)
    assert purity[1] == pytest.approx(purity[0], abs=1e-12)  # period pi/R
    assert purity[3] == pytest.approx(purity[2], abs=1e-12)
    assert purity[2] > purity[0]


# -- R8: the Kraus form, its circuit, and the Lindblad equation --------------------------------
@pytest.mark.parametrize("J", [1.0, -1.0, 2.0])
def test_r8_kraus_channel_equals_lindblad(J):
    p = dissipative_qubits(J=J, alpha=0.05)
    rng = np.random.default_rng(1)
    x = rng.normal(size=(4, 4)) + 1j * rng.normal(size=(4, 4))
    rho0 = x @ x.conj().T
    rho0 /= np.trace(rho0)
    times = np.linspace(0, 40, 41)
    states = lindblad_reference(p.open_system(rho0), times).states
    h = p.hamiltonian()
    for t, rho in zip(times, states, strict=True):
        kraus = kraus_operators(t, J, 0.05)
        assert np.linalg.norm(sum(k.conj().T @ k for k in kraus) - np.eye(4)) < 1e-12
        u = sla.expm(-1j * h * t)
        mapped = u @ sum(k @ rho0 @ k.conj().T for k in kraus) @ u.conj().T
        assert np.abs(mapped - rho).max() < 1e-7


def test_kraus_with_unequal_rates_matches_the_dissipator():
    p = dissipative_qubits(J=2, alpha=0.05, omega_c=10)  # gamma43 != gamma31
    rng = np.random.default_rng(2)
    x = rng.normal(size=(4, 4)) + 1j * rng.normal(size=(4, 4))
    rho = x @ x.conj().T / np.trace(x @ x.conj().T)
    for t in (0.5, 7.0, 30.0):
        ours = sum(k @ rho @ k.conj().T for k in p.kraus(t))
        theirs = sum(k @ rho @ k.conj().T for k in p.dissipator_channel(t))
        assert np.abs(ours - theirs).max() < 1e-10


def test_cascade_circuit_is_the_kraus_channel_at_a_quarter_of_the_generic_cost():
    rng = np.random.default_rng(3)
    basis = ["cx", "rz", "sx", "x", "reset"]
    for s3, s4, v in [(0.7, 0.5, 0.3), (0.2, 0.1, 0.4), (0.5, 0.3, 0.7), (1.0, 1.0, 0.0)]:
        circuit = cascade_channel_circuit(s3, s4, v)
        x = rng.normal(size=(4, 4)) + 1j * rng.normal(size=(4, 4))
        rho = x @ x.conj().T / np.trace(x @ x.conj().T)
        out = DensityMatrix(np.kron(np.diag([1, 0, 0, 0]), rho)).evolve(circuit)
        expected = sum(k @ rho @ k.conj().T for k in cascade_kraus(s3, s4, v))
        assert np.abs(partial_trace(out, [2, 3]).data - expected).max() < 1e-12
    ours = transpile(cascade_channel_circuit(0.7, 0.5, 0.3), basis_gates=basis, seed_transpiler=1)
    generic = transpile(
        channel_circuit(cascade_kraus(0.7, 0.5, 0.3)), basis_gates=basis, seed_transpiler=1
    )
    assert ours.count_ops()["cx"] * 3 < generic.count_ops()["cx"]


def test_ideal_circuits_reproduce_the_reference_for_every_encoding():
    h = 1 / math.sqrt(2)
    p = dissipative_qubits(
        J=2, alpha=0.05, omega_c=10, t_max=20, dt=0.5,
        encodings=["af", "nsymm:0.8", "physical", f"custom:0,{h},{h},0/0,{h},{-h},0"],
    )  # fmt: skip
    result = ENCODINGS.run(p, get_backend("aer"), solvers=PROPAGATORS, collisions=4, seed=1)
    assert result.ideal["times"] == pytest.approx([0, 5, 10, 15, 20])
    for name in ("af", "nsymm", "physical", "custom"):
        reference = dict(zip(result.reference["times"], result.reference[name]["fidelity"],
                             strict=True))  # fmt: skip
        for t, value in zip(result.ideal["times"], result.ideal[name]["fidelity"], strict=True):
            assert value == pytest.approx(reference[t], abs=1e-8)
    # the custom code is the AF code with |up> and |down> relabelled: same figures of merit
    assert result.reference["custom"]["fidelity"] == pytest.approx(
        result.reference["af"]["fidelity"], abs=1e-12
    )
    assert [n for n, _ in rank_encodings(result.reference)][0] in ("af", "custom")


def test_device_noise_lowers_the_code_fidelity_beyond_shot_noise():
    p = dissipative_qubits(J=2, alpha=0.05, t_max=10, dt=0.5, encodings="af")
    result = ENCODINGS.run(
        p, get_backend("aer:fake_manila"), solvers=PROPAGATORS, collisions=2, device_every=2,
        shots=1000, seed=4,
    )  # fmt: skip
    device = result.observables["af"]
    ideal = dict(zip(result.ideal["times"], result.ideal["af"]["fidelity"], strict=True))
    t, value, error = (
        result.observables["times"][-1],
        device["fidelity"][-1],
        device["fidelity_stderr"][-1],
    )
    assert 0 < error < 0.05
    assert value < ideal[t] - 3 * error  # two noisy collisions cost more than shot noise
    assert value > 0.5  # but the logical state is still there


# -- R12: ensembles ------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("d", "m", "phases", "count"), [(4, 2, 4, 28), (2, 2, 4, 6), (2, 3, 8, 18)]
)
def test_r12_ensembles_are_1_designs(d, m, phases, count):
    states = state_ensemble(d, m, phases)
    assert len(states) == count
    assert ensemble_norm(states) < 1e-15
    assert all(abs(np.linalg.norm(s) - 1) < 1e-12 for s in states)


def test_octahedron_is_the_6_state_ensemble():
    six = state_ensemble(2, 2, 4)
    assert len(OCTAHEDRON) == 6
    for c in OCTAHEDRON:
        assert any(abs(abs(np.vdot(np.array(c), s)) - 1) < 1e-12 for s in six)


# -- bad input, CLI ------------------------------------------------------------------------------
def test_bad_input_is_a_clear_error():
    with pytest.raises(InvalidParameter, match="alpha"):
        dissipative_qubits(alpha=-0.1)
    with pytest.raises(InvalidParameter, match="omega_c"):
        dissipative_qubits(omega_c=0)
    with pytest.raises(InvalidParameter, match="orthogonal"):
        custom([1, 0, 0, 0], [math.sqrt(0.5), math.sqrt(0.5), 0, 0])
    with pytest.raises(InvalidParameter, match="normalised"):
        custom([1, 1, 0, 0], [0, 0, 1, 0])
    with pytest.raises(InvalidParameter, match="c_af_sq"):
        nsymm(1.5)
    with pytest.raises(InvalidParameter, match="encoding"):
        dissipative_qubits(encodings="afx")
    with pytest.raises(ResourceLimit, match="GiB estimated"):
        check_heom_memory(HEOMSettings(depth=12, exponents=6), 4)


def test_cli_reports_encodings_and_writes_the_json_contract(tmp_path, capsys):
    path = tmp_path / "dq.json"
    plot = tmp_path / "dq.png"
    code = run_cli(
        "run", "dissipative-qubits", "--encoding", "af", "--encoding", "nsymm:0.8",
        "--encoding", "physical", "--J", "2", "--alpha", "0.05", "--t-max", "20", "--dt", "0.5",
        "--collisions", "4", "--backend", "aer", "--seed", "1", "--json", str(path),
        "--plot", str(plot),
    )  # fmt: skip
    assert code == 0
    printed = capsys.readouterr().out
    assert "ranking on reference: af" in printed
    assert "encodings that beat the physical qubit: af, nsymm" in printed
    data = json.loads(path.read_text())
    for block in ("observables", "ideal", "reference"):
        assert "times" in data[block]
        for name in ("af", "nsymm", "physical"):
            assert {"fidelity", "purity"} <= set(data[block][name])
        assert {"fidelity", "leakage", "purity"} <= set(data[block]["af"])
    assert data["reference"]["solver"] == "lindblad"
    assert plot.stat().st_size > 10_000
    assert run_cli("compare", "--latest", "--json", str(tmp_path / "cmp.json")) == 0
    comparison = json.loads((tmp_path / "cmp.json").read_text())
    summary = comparison["observables"]["af.fidelity"]["summary"]
    assert summary["ideal_vs_reference"] < 1e-8  # the exact circuits against Lindblad


@pytest.mark.parametrize(
    ("args", "flag"),
    [(["--alpha", "-1"], "--alpha"), (["--omega-c", "0"], "--omega-c"),
     (["--solver", "heom"], "--omega-c"), (["--solver", "mps"], "--solver"),
     (["--encoding", "custom:1,0,0,0/1,0,0,0"], "--down"),
     (["--solver", "heom", "--omega-c", "10", "--heom-depth", "14"], None)],
)  # fmt: skip
def test_cli_bad_input(args, flag, capsys):
    assert run_cli("run", "dissipative-qubits", "--backend", "reference", *args) == 2
    message = capsys.readouterr().err
    assert message.count("\n") == 1
    if flag:
        assert flag in message
    else:
        assert "GiB estimated" in message


def test_fit_of_eq_24_recovers_known_parameters():
    from qcompile.protocols.two_qubit_codes import fidelity_model, fit_fidelity

    times = np.linspace(0, 60, 301)
    truth = {"m": -0.004, "A": 0.05, "omega": 1.7, "gamma": 0.3}
    rng = np.random.default_rng(5)
    data = fidelity_model(times, *truth.values()) + rng.normal(0, 1e-4, times.size)
    fit = fit_fidelity(times, data)
    for key, value in truth.items():
        assert fit[key] == pytest.approx(value, rel=0.02)
    assert fit["rms"] < 2e-4


def test_sweep_over_alpha_on_the_reference():
    from concurrent.futures import ThreadPoolExecutor

    from qcompile.app.sweep import grid_points, parse_grid, plan_sweep, run_sweep
    from qcompile.backends import ResultStore

    points = grid_points([parse_grid("alpha=0.02,0.08")], {"J": 2, "t_max": 20, "dt": 1,
                                                            "encodings": "af"})  # fmt: skip
    plan = plan_sweep("dissipative-qubits", points, "reference", shots=None, seed=1)
    with ThreadPoolExecutor(2) as pool:
        result = run_sweep(plan, ResultStore(), executor=pool)
    late = [np.mean(r.reference["af"]["fidelity"][-5:]) for r in result.results]
    a2 = spectrum(2).a ** 2
    assert late[0] > late[1] > (1 + 2 * a2) / 3 - 1e-3  # more coupling, faster decay to F_inf
