"""The QuTiP reference (qcompile.backends.reference) vs closed forms and the spec 002 tables."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.linalg as sla

from qcompile.backends.reference import lindblad_reference, lindblad_state_at
from qcompile.errors import InvalidParameter
from qcompile.lowering.collision import dissipator_superoperator
from qcompile.model import InstantChannel, OpenSystem, embed
from qcompile.protocols.coherent_feedback import (
    FIG1_TABLE,
    FIG2_PLATEAU,
    coherent_feedback,
    plateau,
)


def liouvillian(h: np.ndarray, jumps) -> np.ndarray:
    """Column-stacked generator −i[H,·] + Σ D[L], written out independently of the solver."""
    d = h.shape[0]
    eye = np.eye(d)
    gen = -1j * (np.kron(eye, h) - np.kron(h.T, eye))
    return gen + sum((dissipator_superoperator(j) for j in jumps), np.zeros_like(gen))


def test_static_system_with_channel_matches_matrix_exponential():
    rng = np.random.default_rng(2)
    a = rng.normal(size=(4, 4)) + 1j * rng.normal(size=(4, 4))
    h = (a + a.conj().T) / 2
    jump = 0.4 * (rng.normal(size=(4, 4)) + 1j * rng.normal(size=(4, 4)))
    rho0 = np.diag([0.7, 0.1, 0.1, 0.1]).astype(complex)
    dephase = InstantChannel(
        0.5, tuple(embed(np.diag(v).astype(complex), [1], (2, 2)) for v in ([1, 0], [0, 1]))
    )
    system = OpenSystem(
        dims=(2, 2), hamiltonian=h, jump_operators=(jump,), channels=(dephase,), initial_state=rho0
    )
    solution = lindblad_reference(system, [0.25, 0.5, 1.0])
    gen = liouvillian(h, [jump])
    vec = lambda r: r.reshape(-1, order="F")  # noqa: E731
    unvec = lambda v: v.reshape(4, 4, order="F")  # noqa: E731
    at_quarter = unvec(sla.expm(0.25 * gen) @ vec(rho0))
    before = unvec(sla.expm(0.5 * gen) @ vec(rho0))
    after = sum(k @ before @ k.conj().T for k in dephase.kraus)  # reported at 0.5: after the kick
    at_one = unvec(sla.expm(0.5 * gen) @ vec(after))
    for got, expected in zip(solution.states, [at_quarter, after, at_one], strict=True):
        assert np.allclose(got, expected, atol=1e-8)


@pytest.mark.parametrize("kappa2", [1.0, 1000.0])
def test_state_at_of_a_stiff_cat_matches_the_matrix_exponential(kappa2):
    """BDF on the sparse Liouvillian vs SciPy's dense expm of our own generator, for a
    two-photon-driven cat at cutoff 20 (‖𝓛‖t ~ 10³–10⁴: stiff), loss and dephasing on."""
    from qcompile.protocols.cat import cat

    protocol = cat(photons=1.0, kappa2=kappa2, kappa1=0.05, kappa_d=0.1, cutoff=20)
    system = protocol.open_system(protocol.vacuum())
    time = 3.0 / kappa2
    gen = liouvillian(
        system.hamiltonian if system.hamiltonian is not None else np.zeros((20, 20)),
        list(system.jump_operators),
    )
    rho0 = system.initial_density_matrix()
    expected = (sla.expm(time * gen) @ rho0.reshape(-1, order="F")).reshape(20, 20, order="F")
    got = lindblad_state_at(system, time)
    assert np.abs(got - expected).max() < 1e-9
    assert np.allclose(lindblad_state_at(system, 0.0), rho0)


def test_fig1_table_and_theorem_1():
    """Spec 002 §6a: D ≡ 0 before t_a (1e-10) and the D(t) table after the kick (1e-3)."""
    cf = coherent_feedback(gamma=5, transient_at=1.0, t_max=10, dt=0.05)
    times = [0.0, 0.25, 0.5, 0.95, *FIG1_TABLE]
    solution = lindblad_reference(cf.open_system(), times)
    d = cf.trace_distances(times, [cf.plant_state(s) for s in solution.states])
    assert np.max(d[:4]) < 1e-10
    assert d[4] == pytest.approx(abs(np.sin(2)) / 2, abs=1e-8)  # D(1+) analytic
    for value, expected in zip(d[4:], FIG1_TABLE.values(), strict=True):
        assert value == pytest.approx(expected, abs=1e-3)
        assert value == pytest.approx(expected, rel=2e-3, abs=1e-8)


@pytest.mark.parametrize("gamma", sorted(FIG2_PLATEAU))
def test_fig2_plateaus(gamma):
    """Spec 002 §6b: limsup of D over the π-periodic orbit for γ = 0..20 (1e-3)."""
    cf = coherent_feedback(gamma=gamma, noise="persistent", t_max=40, dt=0.05, sample_every=0.05)
    times = cf.sample_times()
    solution = lindblad_reference(cf.open_system(), times)
    d = cf.trace_distances(times, [cf.plant_state(s) for s in solution.states])
    assert d[0] == pytest.approx(0.2, abs=1e-12)
    assert plateau(times, d) == pytest.approx(FIG2_PLATEAU[gamma], abs=1e-3)


def test_feedback_generator_spectrum():
    """Spec 002 §3: L_fb(0) has the unique steady state |00,0⟩ and gap γ/4."""
    for gamma in (1.0, 5.0):
        cf = coherent_feedback(gamma=gamma)
        jump = cf.jump_operators()[0]
        values, vectors = np.linalg.eig(liouvillian(cf.interaction(), [jump]))
        order = np.argsort(-values.real)
        assert np.sum(np.abs(values) < 1e-9) == 1
        assert -values[order[1]].real == pytest.approx(0.25 * gamma, abs=1e-9)
        steady = vectors[:, order[0]].reshape(8, 8, order="F")
        steady = steady / np.trace(steady)
        target = np.zeros((8, 8))
        target[0, 0] = 1
        assert np.allclose(steady, target, atol=1e-9)


def test_paper_matrices_in_flipped_basis_are_the_label_construction():
    """Spec 002 §5: eq. (82) written in the paper's basis |0⟩ = (0,1)ᵀ equals our H_I(0)
    after the flip F = X⊗X⊗X (the basis trap)."""
    gamma = 5.0
    lower = np.eye(4, k=-1)  # sub-diagonal matrix of eq. (82)
    upper = np.eye(4, k=1)
    ket0_paper, ket1_paper = np.array([0, 1]), np.array([1, 0])
    h_paper = gamma * (
        np.kron(lower, np.outer(ket1_paper, ket0_paper))
        + np.kron(upper, np.outer(ket0_paper, ket1_paper))
    )
    x = np.array([[0, 1], [1, 0]])
    flip = np.kron(np.kron(x, x), x)
    assert np.allclose(flip @ h_paper @ flip, coherent_feedback(gamma=gamma).interaction())


@pytest.mark.parametrize(
    "kwargs,param",
    [
        ({"gamma": -1}, "gamma"),
        ({"dt": 0}, "dt"),
        ({"dt": 7, "t_max": 6}, "dt"),
        ({"dt": 0.07}, "dt"),
        ({"transient_at": 1.005}, "transient_at"),
        ({"noise": "loud"}, "noise"),
        ({"target": "012"}, "target"),
        ({"plant_hamiltonian": "XQ"}, "plant_hamiltonian"),
        ({"plant_hamiltonian": "XXX"}, "plant_hamiltonian"),
        ({"noise": "persistent", "target": "000", "plant_hamiltonian": "XXX"}, "noise"),
    ],
)
def test_bad_coherent_feedback_parameters(kwargs, param):
    with pytest.raises(InvalidParameter) as info:
        coherent_feedback(**kwargs)
    assert info.value.name == param


def test_bad_models_name_the_parameter():
    with pytest.raises(InvalidParameter, match="Hermitian"):
        OpenSystem(dims=(2,), hamiltonian=np.array([[0, 1], [0, 0]]))
    with pytest.raises(InvalidParameter, match="4x4"):
        OpenSystem(dims=(2, 2), hamiltonian=np.eye(2))
    with pytest.raises(InvalidParameter, match="subsystems"):
        embed(np.eye(2), [3], (2, 2))  # a jump operator on a subsystem that does not exist
    with pytest.raises(InvalidParameter, match="trace preserving"):
        OpenSystem(dims=(2,), channels=(InstantChannel(0.1, (0.5 * np.eye(2),)),))


@pytest.mark.parametrize("noise", ["none", "persistent"])
def test_rotating_frame_terms_sum_to_the_rotated_interaction(noise):
    """Σ_P c_P(t) P = e^{−iFt} H_I e^{iFt} (spec 002 eq. 11) at several times, against SciPy's
    expm — the coefficients are computed all at once per t and cached."""
    cf = coherent_feedback(gamma=5, noise=noise)
    system = cf.open_system()
    frame, h_i = cf.frame(), cf.interaction()
    for t in (0.0, 0.37, 1.9, 0.37):
        u = sla.expm(-1j * frame * t)
        expected = u @ h_i @ u.conj().T
        got = sum(term.coefficient(t) * term.operator for term in system.time_dependent)
        assert np.allclose(got, expected, atol=1e-12), t
