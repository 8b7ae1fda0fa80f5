"""Spec 001 R9-R11: the non-Markovian (HEOM) reference.

Expected numbers and tolerances are spec 001 §11 (R9: 5e-3 in F, 5 % in t; R10: 1e-2;
R11: 2e-2), computed there with QuTiP's HEOM solver and a prony fit (Nr = 6) of the Ohmic
correlation function at ω_c = 10. The default suite runs R9's α = 0.2 minimum at depth 3
(~2 s; depth 3 is within 1.3e-3 of depth 4 there) and the HEOM plumbing at small size; the
full R9-R11 are slow: ``pytest -m slow``.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from qcompile.backends.heom import HEOMSettings, heom_propagators
from qcompile.backends.propagators import reference_propagators
from qcompile.protocols import dissipative_qubits
from qcompile.protocols.two_qubit_codes import OCTAHEDRON, PHYSICAL, af, encoding_observables
from qcompile.protocols.two_qubit_codes import nsymm as nsymm_code

SX = np.array([[0, 1], [1, 0]], dtype=complex)
SZ = np.diag([1.0, -1.0]).astype(complex)


def _apply(supers, rho0):
    d = rho0.shape[0]
    return [(s @ rho0.reshape(-1, order="F")).reshape(d, d, order="F") for s in supers]


@pytest.mark.parametrize("alpha", [0.0, 1e-7])
def test_heom_without_coupling_is_the_closed_evolution(alpha):
    """α → 0: the bath decouples and the HEOM map tends to the unitary one."""
    p = dissipative_qubits(J=1, alpha=alpha, omega_c=10, t_max=4, dt=1)
    supers, info = reference_propagators(p, p.times(), solver="heom",
                                         heom=HEOMSettings(depth=1, exponents=2))  # fmt: skip
    psi = np.array([0.6, 0.0, 0.8j, 0.0])
    closed = p.closed_states(psi, p.times())
    for rho, ket in zip(_apply(supers, np.outer(psi, psi.conj())), closed, strict=True):
        assert np.abs(rho - np.outer(ket, ket.conj())).max() < 1e-5


def test_heom_weak_coupling_short_time_is_close_to_lindblad_with_its_fit_reported():
    p = dissipative_qubits(J=1, alpha=0.01, omega_c=10, t_max=3, dt=1)
    heom, info = reference_propagators(p, p.times(), solver="heom",
                                       heom=HEOMSettings(depth=2))  # fmt: skip
    assert info["exponents"] == 12 and info["fit_max_relative_error"] < 5e-3
    lindblad, _ = reference_propagators(p, p.times())
    psi = (p.spectrum().states[:, 2] + p.spectrum().states[:, 3]) / math.sqrt(2)
    rho0 = np.outer(psi, psi.conj())
    gap = max(np.abs(a - b).max() for a, b in zip(_apply(heom, rho0), _apply(lindblad, rho0),
                                                  strict=True))  # fmt: skip
    assert gap < 0.03  # weak coupling: Markovian up to small Lamb-shift and transient terms


def _single_qubit_average(alpha: float, t_max: float, depth: int = 4) -> tuple[np.ndarray, ...]:
    h = -0.5 * SX
    times = np.linspace(0, t_max, int(t_max * 5) + 1)
    supers = heom_propagators(h, SZ / 2, times, alpha=alpha, omega_c=10.0,
                              settings=HEOMSettings(depth=depth)).propagators  # fmt: skip
    fidelity = np.zeros(len(times))
    for cu, cd in OCTAHEDRON:
        psi = np.array([cu, cd], dtype=complex)
        for n, (t, rho) in enumerate(zip(times, _apply(supers, np.outer(psi, psi.conj())),
                                         strict=True)):  # fmt: skip
            u = np.array(
                [[math.cos(t / 2), 1j * math.sin(t / 2)], [1j * math.sin(t / 2), math.cos(t / 2)]]
            )  # e^{-iHt}, H = -σx/2
            ket = u @ psi
            fidelity[n] += np.real(ket.conj() @ rho @ ket) / len(OCTAHEDRON)
    return times, fidelity


def test_r9_fast_case_the_proxy_undershoots_one_half_at_t_8():
    """Spec R9, α = 0.2, to t = 9 at depth 3: the Haar-averaged fidelity dips below 1/2 to
    0.4606 (5e-3) at t ≈ 8.0 (5 %), α·t_min ≈ 1.6: the memory a Lindblad equation lacks."""
    times, fidelity = _single_qubit_average(0.2, 9.0, depth=3)
    n = int(np.argmin(fidelity))
    assert fidelity[n] == pytest.approx(0.4606, abs=5e-3)
    assert times[n] == pytest.approx(8.0, rel=0.05)
    assert 0.2 * times[n] == pytest.approx(1.6, abs=0.08)
    assert np.all(np.diff(fidelity[: n + 1]) < 1e-9)  # falls monotonically to the undershoot


@pytest.mark.slow
def test_r9_single_qubit_proxy_undershoots_one_half_with_period_one_over_alpha():
    """Spec R9: α = 0.2: min ⟨F⟩ 0.4606 at t ≈ 8.0, next max 0.5085 at t ≈ 16.6;
    α = 0.1: min 0.4602 at t ≈ 16.0 (α·t_min ≈ 1.6). Lindblad is monotone."""
    for alpha, t_min, f_min, t_max_next, f_max_next, horizon in (
        (0.2, 8.0, 0.4606, 16.6, 0.5085, 20.0),
        (0.1, 16.0, 0.4602, None, None, 20.0),
    ):
        times, fidelity = _single_qubit_average(alpha, horizon)
        n = int(np.argmin(fidelity))
        assert fidelity[n] == pytest.approx(f_min, abs=5e-3)
        assert times[n] == pytest.approx(t_min, rel=0.05)
        assert alpha * times[n] == pytest.approx(1.6, abs=0.08)
        if t_max_next is not None:
            m = n + int(np.argmax(fidelity[n:]))
            assert fidelity[m] == pytest.approx(f_max_next, abs=5e-3)
            assert times[m] == pytest.approx(t_max_next, rel=0.05)


@pytest.mark.slow
def test_r10_f_state_heom_vs_lindblad():
    """Spec R10 (J = +1, α = 0.05, ω_c = 10, depth 3)."""
    p = dissipative_qubits(J=1, alpha=0.05, omega_c=10, t_max=30, dt=5)
    s = p.spectrum().states
    psi1, psi3, psi4 = s[:, 0], s[:, 2], s[:, 3]
    f_state = (psi3 + psi4) / math.sqrt(2)
    times = [0.0, 5.0, 10.0, 30.0]
    import qutip
    from qutip.core.environment import OhmicEnvironment
    from qutip.solver.heom import HEOMSolver

    env = OhmicEnvironment(T=0.0, alpha=2 * math.pi * 0.05, wc=10.0, s=1)
    approx, _ = env.approximate("prony", np.linspace(0, 15, 1500), Nr=6)
    dims = [[2, 2], [2, 2]]
    solver = HEOMSolver(qutip.Qobj(p.hamiltonian(), dims=dims),
                        (approx, qutip.Qobj(p.coupling(), dims=dims)), max_depth=3,
                        options={"nsteps": 50000})  # fmt: skip
    states = solver.run(qutip.Qobj(np.outer(f_state, f_state.conj()), dims=dims), times).states
    rho = {t: st.full() for t, st in zip(times, states, strict=True)}
    pop = lambda t, v: float(np.real(v.conj() @ rho[t] @ v))  # noqa: E731
    assert pop(5, psi4) == pytest.approx(0.203, abs=1e-2)
    assert pop(5, psi3) == pytest.approx(0.319, abs=1e-2)
    assert abs(psi3.conj() @ rho[5] @ psi4) == pytest.approx(0.1305, abs=1e-2)
    assert pop(10, psi4) == pytest.approx(0.096, abs=1e-2)
    assert abs(psi3.conj() @ rho[10] @ psi4) == pytest.approx(0.040, abs=1e-2)
    assert pop(30, psi4) == pytest.approx(0.014, abs=1e-2)
    assert pop(30, psi1) == pytest.approx(0.971, abs=1e-2)


@pytest.mark.slow
def test_r11_encodings_heom_window_means_j2():
    """Spec R11 / §11.1 (J = 2, α = 0.05, ω_c = 10, depth 3, windows up to t = 60)."""
    p = dissipative_qubits(J=2, alpha=0.05, omega_c=10, t_max=60, dt=0.2)
    times = np.asarray(p.times())
    supers, _ = reference_propagators(p, times, solver="heom", heom=HEOMSettings(depth=3))
    evolve = lambda psi: _apply(supers, np.outer(psi, psi.conj()))  # noqa: E731
    closed = lambda psi: p.closed_states(psi, times)  # noqa: E731
    windows = [(0, 5), (5, 15), (15, 30), (30, 45), (45, 60)]

    def means(values):
        return [float(values[(times >= a) & (times <= b + 1e-9)].mean()) for a, b in windows]

    code = encoding_observables(af(), evolve, closed)
    assert means(code["fidelity"]) == pytest.approx([0.934, 0.930, 0.852, 0.711, 0.547], abs=2e-2)
    assert means(code["purity"]) == pytest.approx([0.937, 0.939, 0.941, 0.944, 0.945], abs=2e-2)
    assert means(code["leakage"]) == pytest.approx([0.015, 0.004, -0.005, -0.012, -0.014],
                                                   abs=2e-2)  # fmt: skip
    other = encoding_observables(nsymm_code(0.8), evolve, closed)
    assert means(other["fidelity"]) == pytest.approx([0.895, 0.899, 0.824, 0.689, 0.533],
                                                     abs=2e-2)  # fmt: skip
    physical = encoding_observables(PHYSICAL, evolve, closed, ensemble_basis="computational")
    assert means(physical["fidelity"]) == pytest.approx([0.863, 0.842, 0.791, 0.749, 0.712],
                                                        abs=2e-2)  # fmt: skip
