"""Spec 004 §3, §9: the dissipative 2D Ising memory — rates, exact values, trajectories, circuits.

Independent references: detailed balance and the Boltzmann distribution of the 2D Ising
model; the spec's exact master-equation values (§0, §9.1); the Lindblad operators of eq. (6)
built as matrices; the exact discrete-time collision chain for the circuits.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import scipy.linalg as sla
from qiskit_aer import AerSimulator
from test_cli import run_cli

from qcompile.backends import get_backend
from qcompile.backends.classical_master_equation import (
    exact_success_probability,
    flip_generator,
    stationary_distribution,
)
from qcompile.backends.ising_kmc import simulate_memory
from qcompile.errors import InvalidParameter, ResourceLimit
from qcompile.protocols import get_protocol
from qcompile.protocols.ising_memory import (
    BETA_C,
    DELTA_C,
    exponential_fit,
    flip_rates,
    inverse_temperature,
    ising_memory,
    kappa_tilde,
    majority_observable,
    majority_success,
    neighbours,
)

EXACT_T800 = {  # spec 004 §0 / §9.1
    (3, 0.005): 0.990268, (3, 0.01): 0.935970, (3, 0.02): 0.708494, (3, 0.05): 0.500140,
    (3, 0.1): 0.500000, (4, 0.005): 0.998822, (4, 0.01): 0.985402, (4, 0.02): 0.859978,
    (4, 0.05): 0.502261, (4, 0.1): 0.500000,
}  # fmt: skip


@pytest.mark.parametrize("delta", [0.005, 0.02, 0.1])
def test_rates_obey_detailed_balance(delta):
    w = flip_rates(delta, 1.0)
    beta = inverse_temperature(delta, 1.0)
    assert w[4] / w[0] == pytest.approx(math.exp(8 * beta), rel=1e-12)  # Fig. 1: 4 -> 0 walls
    assert w[3] / w[1] == pytest.approx(math.exp(4 * beta), rel=1e-12)
    assert w[2] == w[1] == w[0] == delta
    assert kappa_tilde(delta, 1.0) == pytest.approx(math.sqrt(delta + delta**2) - delta)


def test_critical_point():
    assert BETA_C == pytest.approx(0.44069, abs=1e-5)
    assert DELTA_C == pytest.approx(0.030330, abs=1e-6)
    assert inverse_temperature(DELTA_C, 1.0) == pytest.approx(BETA_C, abs=1e-12)


def test_steady_state_is_boltzmann_at_m3():
    m, delta = 3, 0.02
    beta = inverse_temperature(delta, 1.0)
    p = stationary_distribution(m, flip_rates(delta, 1.0))
    configs = np.arange(1 << 9)
    z = 1 - 2 * ((configs[:, None] >> np.arange(9)[None, :]) & 1)
    nb = neighbours(m)
    energy = -sum(z[:, i] * z[:, nb[i, 0]] + z[:, i] * z[:, nb[i, 2]] for i in range(9))
    boltzmann = np.exp(-beta * energy)
    assert p == pytest.approx(boltzmann / boltzmann.sum(), abs=1e-12)


@pytest.mark.parametrize(("m", "delta"), sorted(EXACT_T800))
def test_exact_master_equation_values(m, delta):
    assert exact_success_probability(m, flip_rates(delta, 1.0), 800.0) == pytest.approx(
        EXACT_T800[(m, delta)], abs=1e-6
    )


def test_exact_value_at_t200_and_lumping_against_the_full_chain():
    rates = flip_rates(0.02, 1.0)
    assert exact_success_probability(3, rates, 200.0) == pytest.approx(0.9057, abs=1e-4)
    q, flipped = flip_generator(3, rates)  # all 512 configurations, dense
    p0 = np.zeros(512)
    p0[0] = 1
    p = sla.expm(q.toarray() * 200.0) @ p0
    full = p[2 * flipped < 9].sum()
    assert exact_success_probability(3, rates, 200.0) == pytest.approx(full, abs=1e-12)


def test_lindblad_operators_of_eq_6_give_the_classical_chain():
    """Populations under the 54 jump operators (built from eq. 6) follow Q exactly, and
    every jump commutes with the parity Q = ΠX (so |E0+> is recovered with fidelity 1)."""
    protocol = ising_memory(size=3, delta=0.02, trajectories=1)
    ops = protocol.jump_operators()
    assert len(ops) == 6 * 9
    rates = np.zeros((512, 512))
    for op in ops:
        rates += np.abs(op) ** 2  # rate s -> s' of a jump L: |<s'|L|s>|^2
        assert np.count_nonzero(op - np.diag(np.diag(op))) == np.count_nonzero(op)  # pure flips
    np.fill_diagonal(rates, 0)
    generator = rates - np.diag(rates.sum(axis=0))
    q, _ = flip_generator(3, protocol.rates())
    assert generator == pytest.approx(q.toarray(), abs=1e-14)
    parity = np.zeros((512, 512))
    parity[np.arange(512) ^ 511, np.arange(512)] = 1
    for op in ops:
        assert np.abs(op @ parity - parity @ op).max() < 1e-14


@pytest.mark.parametrize(("m", "delta"), [(3, 0.02), (4, 0.01), (3, 0.1)])
def test_trajectories_agree_with_the_exact_master_equation(m, delta):
    result = simulate_memory(m, flip_rates(delta, 1.0), 800.0, 60_000, seed=3)
    exact = EXACT_T800[(m, delta)]
    assert abs(result.success_probability - exact) < 4 * result.stderr
    assert result.stderr == pytest.approx(math.sqrt(exact * (1 - exact) / 60_000), rel=0.05)


def test_trajectories_are_reproducible_and_independent_of_chunking():
    rates = flip_rates(0.02, 1.0)
    a = simulate_memory(4, rates, 100.0, 3000, seed=9)
    b = simulate_memory(4, rates, 100.0, 3000, seed=9, chunk=512)
    c = simulate_memory(4, rates, 100.0, 3000, seed=10)
    assert a.success_probability == b.success_probability
    assert a.mean_events == b.mean_events
    assert c.mean_events != a.mean_events


def test_low_temperature_failures_fall_exponentially_high_temperature_stays_at_one_half():
    low = [simulate_memory(m, flip_rates(0.02, 1.0), 800.0, 20_000, seed=m) for m in (3, 5, 7)]
    failures = [1 - r.success_probability for r in low]
    assert failures[0] > failures[1] > failures[2] > 0
    fit = exponential_fit([3, 5, 7], failures, [r.stderr for r in low])
    assert fit["gamma"] == pytest.approx(0.712, abs=0.12)  # spec §9.1: ln(1-p) = 0.90 - 0.712 M
    high = simulate_memory(7, flip_rates(0.1, 1.0), 800.0, 20_000, seed=1)
    assert abs(high.success_probability - 0.5) < 4 * high.stderr


def test_majority_decoder():
    assert majority_success({"000": 3, "011": 1, "111": 2}, 3) == pytest.approx(
        (0.5, math.sqrt(0.25 / 6))
    )
    assert majority_success({"0011": 2}, 4)[0] == 0.5  # a tie counts one half


@pytest.mark.parametrize(("m", "steps", "shots", "delta"), [(2, 16, 3000, 0.05), (3, 3, 1000, 0.2)])
def test_collision_circuit_matches_its_exact_chain(m, steps, shots, delta):
    """The circuit's majority-decoded success = the collision chain's (4σ); for M = 3 a
    large Δ (success 0.965 after 3 steps) so that 1000 shots see failures."""
    protocol = ising_memory(size=m, delta=delta, time=steps * 0.5, dt=0.5, trajectories=1)
    circuit = protocol.circuit(steps)
    from qiskit import transpile

    simulator = AerSimulator(seed_simulator=5)
    counts = simulator.run(transpile(circuit, simulator), shots=shots).result().get_counts()
    success, error = majority_success(counts, protocol.sites)
    chain = protocol.collision_chain_success(steps)
    assert abs(success - chain) < 4 * error
    # the collision chain is the continuous chain up to O(dt)
    if m == 3:
        continuous = exact_success_probability(3, protocol.rates(), protocol.time)
        fine = ising_memory(size=3, delta=delta, time=protocol.time, dt=0.05, trajectories=1)
        assert abs(fine.collision_chain_success(round(protocol.time / 0.05)) - continuous) < (
            abs(chain - continuous) / 5 + 1e-4
        )


def test_runner_on_aer_reports_circuit_ideal_and_reference():
    protocol = ising_memory(size=2, delta=0.05, time=4.0, dt=0.5, trajectories=1)
    result = get_protocol("ising-memory").run(protocol, get_backend("aer"), shots=2000, seed=2)
    obs = result.observables
    assert (
        abs(obs["success_probability"] - result.ideal["success_probability"])
        < 4 * obs["success_probability_stderr"]
    )
    assert result.reference["success_probability"] == pytest.approx(
        exact_success_probability(2, protocol.rates(), 4.0)
    )
    assert result.circuit["rounds"] == 8


def test_bad_input_is_a_clear_error():
    with pytest.raises(InvalidParameter, match="size"):
        ising_memory(size=1)
    with pytest.raises(InvalidParameter, match="delta"):
        ising_memory(delta=0)
    with pytest.raises(InvalidParameter, match="time"):
        ising_memory(time=-1)
    with pytest.raises(InvalidParameter, match=r"at most 62500 trajectories fit"):
        ising_memory(trajectories=10**6, memory_limit=1e6)
    with pytest.raises(ResourceLimit, match="M <= 3"):
        ising_memory(size=4, time=1, trajectories=1).check_fits(None, "aer")
    with pytest.raises(ResourceLimit, match="collisions"):
        ising_memory(size=3, time=800, trajectories=1).check_fits(None, "aer")


def test_cli_lists_run_every_point_against_the_exact_master_equation(tmp_path, capsys):
    """`--size 2,3 --delta 0.02,0.3`: four points, size varying fastest, each decoded success
    within 4σ of the exact master equation's; the JSON holds the sweep and the fits."""
    path = tmp_path / "points.json"
    code = run_cli("run", "ising-memory", "--size", "2,3", "--delta", "0.02,0.3", "--time",
                   "20", "--trajectories", "4000", "--seed", "3", "--json", str(path))  # fmt: skip
    assert code == 0
    out = capsys.readouterr().out
    assert "Delta = 0.3 (disordered)" in out and "stored as run(s)" in out
    data = json.loads(path.read_text())
    points = [(r["parameters"]["size"], r["parameters"]["delta"]) for r in data["sweep"]]
    assert points == [(2, 0.02), (3, 0.02), (2, 0.3), (3, 0.3)]
    for r in data["sweep"]:
        obs, exact = r["observables"], r["reference"]["success_probability"]
        assert abs(obs["success_probability"] - exact) < 4 * obs["success_probability_stderr"]
    # the ordered Δ gets its fit ln(1 − p) = a − γM; the disordered one none. Through two
    # sizes γ = ln((1 − p₂)/(1 − p₃)): against the exact master equation's γ, within 4σ of
    # the points' errors propagated through the logarithm
    assert set(data["fits"]) == {"0.02"}
    ordered = [r for r in data["sweep"] if r["parameters"]["delta"] == 0.02]
    fail = [1 - r["reference"]["success_probability"] for r in ordered]
    exact_gamma = np.log(fail[0] / fail[1])
    observed = [r["observables"] for r in ordered]
    sigma = np.hypot(*(o["success_probability_stderr"] / (1 - o["success_probability"])
                       for o in observed))  # fmt: skip
    assert abs(data["fits"]["0.02"]["gamma"] - exact_gamma) < 4 * sigma


def test_cli_json_contract(tmp_path, capsys):
    path = tmp_path / "ising.json"
    code = run_cli(
        "run", "ising-memory", "--size", "3", "--delta", "0.02", "--trajectories", "20000",
        "--seed", "1", "--json", str(path), "--plot", str(tmp_path / "ising.png"),
    )  # fmt: skip
    assert code == 0
    capsys.readouterr()
    data = json.loads(path.read_text())
    obs = data["observables"]
    assert abs(obs["success_probability"] - 0.708494) < 4 * obs["success_probability_stderr"]
    assert data["reference"]["success_probability"] == pytest.approx(0.708494, abs=1e-6)
    assert (tmp_path / "ising.png").stat().st_size > 10_000
    for args, flag in (
        (["--size", "1"], "--size"),
        (["--delta", "0"], "--delta"),
        (["--time", "0"], "--time"),
        (["--backend", "aer", "--size", "5"], None),
    ):
        assert run_cli("run", "ising-memory", *args) == 2
        message = capsys.readouterr().err
        assert message.count("\n") == 1 and (flag is None or flag in message)


# -- photonic-Ising: cat convention, toy model, idealised lattice, mean field -----------------
def test_cat_steady_state_has_alpha_squared_minus_2i_lambda_over_kappa2():
    """Spec 004 §2: with H = λ(a² + a†²), L₂ = √κ₂ a² the steady state from vacuum has
    ⟨a²⟩ = −2iλ/κ₂ and ⟨n⟩ = 2N tanh 2N (the paper's |α|² = N is off by 2)."""
    from qcompile.backends.reference import lindblad_state_at
    from qcompile.model import OpenSystem
    from qcompile.protocols.photonic_ising import cat_amplitude

    d = 30
    a = np.diag(np.sqrt(np.arange(1, d)), 1)
    for photons in (0.5, 1.0):
        system = OpenSystem(
            dims=(d,), hamiltonian=photons * (a @ a + a.T @ a.T), jump_operators=(a @ a,),
            initial_state=np.diag([1.0] + [0.0] * (d - 1)),
        )  # fmt: skip
        rho = lindblad_state_at(system, 30.0)
        assert np.trace(a @ a @ rho) == pytest.approx(-2j * photons, abs=1e-5)
        assert np.real(np.trace(a.T @ a @ rho)) == pytest.approx(
            2 * photons * math.tanh(2 * photons), abs=1e-4
        )
        assert cat_amplitude(photons) ** 2 == pytest.approx(-2j * photons)


@pytest.mark.parametrize(
    ("photons", "kappa_nn", "expected"),
    [(1.0, 1.0, {"0_L": 1.0, "1_L": 1.0, "+_L": 0.977106}),
     (0.5, 0.0, {"0_L": 0.8006, "1_L": 0.6426, "+_L": 0.6805})],
)  # fmt: skip
def test_toy_model_reproduces_spec_table(photons, kappa_nn, expected):
    from qcompile.backends.reference import lindblad_state_at
    from qcompile.protocols.photonic_ising import photonic_ising_toy

    toy = photonic_ising_toy(photons=photons, kappa_nn=kappa_nn)
    result = toy.fidelities(lindblad_state_at)
    for name, value in expected.items():
        assert result[name]["fidelity"] == pytest.approx(value, abs=1e-4 if value < 1 else 1e-5)
    for name, psi in toy.logical_states().items():  # QZ is a strong symmetry: conserved
        before = float(np.real(psi.conj() @ toy.symmetry() @ psi))
        assert result[name]["symmetry"] == pytest.approx(before, abs=1e-8)


def test_toy_model_runs_through_the_one_pipeline(tmp_path):
    """The toy declares only its reference (no circuits): run from a recipe on a circuit
    backend, it is computed by its master equations, stored, and names the reference
    backend; the fidelities are spec 004 §6's table (N = 0.5, κ_nn = 0: 1e-4), the cat
    amplitude |α|² = 2N, the stored recipe keeps its runner name."""
    from qcompile.backends import ResultStore, get_backend
    from qcompile.protocols.plugin import DataFlowPlugin, get_protocol
    from qcompile.run.recipe import execute, make_recipe

    assert isinstance(get_protocol("photonic-ising-toy"), DataFlowPlugin)
    store = ResultStore(tmp_path / "runs.db")
    recipe = make_recipe("photonic-ising-toy", {"photons": 0.5, "kappa_nn": 0.0}, seed=2)
    result = execute(recipe, get_backend("aer"), store=store)
    assert result.backend == "reference" and result.shots is None and result.observables == {}
    expected = {"0_L": 0.8006, "1_L": 0.6426, "+_L": 0.6805}
    for name, value in expected.items():
        assert result.reference["fidelity"][name] == pytest.approx(value, abs=1e-4)
    assert result.reference["alpha_squared_modulus"] == pytest.approx(1.0, abs=1e-12)
    row = store.get_run(result.run_id)
    assert row["status"] == "done" and row["recipe"]["runner"] == "toy"
    assert row["result"].reference["fidelity"] == result.reference["fidelity"]


def test_idealised_lattice_and_mean_field():
    from qcompile.protocols.photonic_ising import (
        MEAN_FIELD_CRITICAL_DELTA,
        idealized_ising_rates,
        mean_field_magnetization,
    )

    rates = idealized_ising_rates(1.5, 0.01, 0.5)
    assert rates["delta"] == pytest.approx(0.03) and rates["kappa"] == pytest.approx(1.5)
    assert rates["beta"] == pytest.approx(inverse_temperature(0.01, 0.5))  # independent of N
    expected = [0.9899, 0.9797, 0.9587, 0.9373, 0.8928]  # spec §7 (ours)
    got = [mean_field_magnetization(d) for d in (0.005, 0.01, 0.02, 0.03, 0.05)]
    assert got == pytest.approx(expected, abs=1e-4)
    assert mean_field_magnetization(MEAN_FIELD_CRITICAL_DELTA * 1.02) == 0.0
    assert mean_field_magnetization(MEAN_FIELD_CRITICAL_DELTA * 0.9) > 0.1


def test_toy_model_bad_input():
    from qcompile.protocols.photonic_ising import photonic_ising_toy

    with pytest.raises(InvalidParameter, match="cutoff"):
        photonic_ising_toy(photons=4, cutoff=12)
    with pytest.raises(InvalidParameter, match="kappa1"):
        photonic_ising_toy(kappa1=-0.1)


@pytest.mark.slow
def test_fig2_two_regimes_for_m_3_to_15():
    """Spec 004 §9.1 (10^5 trajectories at Δ = 0.02, 2·10^4 at Δ = 0.1, T = 800/κ)."""
    low_spec = {3: 0.70868, 5: 0.93045, 7: 0.98409, 9: 0.99588, 11: 0.99869, 13: 0.99972,
                15: 0.99992}  # fmt: skip
    failures, errors = [], []
    for m, p in low_spec.items():
        r = simulate_memory(m, flip_rates(0.02, 1.0), 800.0, 100_000, seed=100 + m)
        combined = math.hypot(r.stderr, math.sqrt(p * (1 - p) / 100_000))
        assert abs(r.success_probability - p) < 4 * combined + 1e-5
        failures.append(1 - r.success_probability)
        errors.append(max(r.stderr, 1e-5))
    fit = exponential_fit(list(low_spec), failures, errors)
    assert fit["gamma"] == pytest.approx(0.712, abs=0.08)
    for m in low_spec:
        r = simulate_memory(m, flip_rates(0.1, 1.0), 800.0, 20_000, seed=200 + m)
        assert abs(r.success_probability - 0.5) < 4 * r.stderr


def test_order_parameters_sketch():
    from qcompile.backends.reference import lindblad_state_at
    from qcompile.protocols.photonic_ising import cat_order_parameter, order_parameters

    assert cat_order_parameter(1.0, 0.0, 0.0, lindblad_state_at) == pytest.approx(-2j, abs=1e-6)
    rows = order_parameters(1.0, [0.0, 0.05, 0.2], 0.5, lindblad_state_at)
    cats = [r["cat"] for r in rows]
    assert cats[0] == pytest.approx(1.0, abs=1e-6) and cats[0] > cats[1] > cats[2] > 0.5
    parity = [r["parity"] for r in rows]
    assert parity[0] == 1.0 and 0 < parity[1] < 1 and parity[2] == 0.0  # 2Nκ₁/2Nκ_nn > 0.266


# -- mitigation of the collision circuits (issue 16) ----------------------------------------


@pytest.mark.parametrize("sites", [4, 9])
def test_majority_observable_is_the_decoder(sites):
    """⟨Π⟩ of the Z-string observable = the majority decoder on the same distribution (1e-12)."""
    rng = np.random.default_rng(sites)
    p = rng.random(1 << sites)
    p /= p.sum()
    counts = {format(i, f"0{sites}b"): p[i] for i in range(1 << sites)}
    observable = majority_observable(sites, sites + 1).to_matrix(sparse=True).diagonal().real
    # the ancilla (highest qubit) is in |0>: the diagonal's first half
    assert observable[: 1 << sites] @ p == pytest.approx(
        majority_success(counts, sites)[0], abs=1e-12
    )


def test_folding_with_resets_keeps_the_channel():
    """Each stretch between the ancilla's resets folded: the same output distribution
    (exact density matrices, 1e-10), every two-qubit gate 3x, every reset once."""
    from qiskit.quantum_info import DensityMatrix

    from qcompile.passes.compile import compile_circuits
    from qcompile.passes.targets import fake_backend
    from qcompile.run.zne import fold

    protocol = ising_memory(size=2, delta=0.05, time=1.0, dt=0.5, trajectories=1)
    device = fake_backend("fake_manila")
    (compiled,), _ = compile_circuits([protocol.circuit(2)], device, seed=1)
    folded = fold(compiled, 3, device)
    unmeasured = [c.remove_final_measurements(inplace=False) for c in (compiled, folded)]
    before, after = (DensityMatrix(c).probabilities() for c in unmeasured)
    assert np.allclose(before, after, atol=1e-10)
    ops, folded_ops = compiled.count_ops(), folded.count_ops()
    assert folded_ops["reset"] == ops["reset"] == 8
    assert folded_ops["cx"] == 3 * ops["cx"]


def test_estimator_success_matches_the_exact_chain():
    """Ideal Aer through the Estimator (level 0): within 4σ of the exact collision chain."""
    protocol = ising_memory(size=2, delta=0.05, time=4.0, dt=0.5, trajectories=1)
    result = get_protocol("ising-memory").run(protocol, get_backend("aer"), shots=4000, seed=3,
                                              estimator=True, resilience_level=0)  # fmt: skip
    obs = result.observables
    error = obs["success_probability_stderr"]
    assert 0 < error < 0.01
    assert abs(obs["success_probability"] - result.ideal["success_probability"]) < 4 * error
    assert result.mitigation["estimator"]["resilience_level"] == 0


def test_zne_on_device_noise_moves_the_success_to_the_ideal(tmp_path, capsys):
    """FakeTorino noise, M = 2, T = 2, 4000 shots, seed 1: the raw decoded success sits > 20σ
    below the exact chain; ZNE (1, 3, 5) lands within 2 of its (larger) standard errors and
    the result records the raw value and the scales."""
    path = tmp_path / "ising.json"
    code = run_cli(
        "run", "ising-memory", "--size", "2", "--time", "2", "--backend", "aer:fake_torino",
        "--shots", "4000", "--seed", "1", "--zne", "1,3,5", "--json", str(path),
    )  # fmt: skip
    assert code == 0
    assert "ZNE at 1,3,5" in capsys.readouterr().out
    data = json.loads(path.read_text())
    ideal = data["ideal"]["success_probability"]
    zne = data["mitigation"]["zne"]
    raw = zne["raw"]
    assert ideal - raw["success_probability"] > 20 * raw["success_probability_stderr"]
    obs = data["observables"]
    assert abs(obs["success_probability"] - ideal) < 2 * obs["success_probability_stderr"]
    assert obs["success_probability_stderr"] > raw["success_probability_stderr"]
    assert zne["scale_factors"] == [1, 3, 5] and zne["shots_overhead"] == 3


def test_mitigation_options_are_refused_where_they_cannot_work(capsys):
    """One line naming the flag, before any run is stored."""
    from qcompile.backends import ResultStore

    before = len(ResultStore().list_runs())
    for args, flag in (
        (["--zne", "1,3"], "--zne"),  # the reference backend: no circuits, no noise
        (["--estimator"], "--estimator"),
        (["--backend", "aer", "--zne", "1,3"], "--zne"),  # no noise
        (["--backend", "aer:fake_torino", "--estimator", "--mitigate-readout"],
         "--mitigate-readout"),
        (["--backend", "aer:fake_torino", "--estimator", "--resilience-level", "3"],
         "--resilience-level"),
        (["--backend", "aer:fake_torino", "--zne", "1,2"], "--zne"),
    ):  # fmt: skip
        assert run_cli("run", "ising-memory", "--size", "2", "--time", "1", *args) == 2
        message = capsys.readouterr().err
        assert message.count("\n") == 1 and flag in message, message
    assert len(ResultStore().list_runs()) == before
