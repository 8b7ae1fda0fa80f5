"""The standard errors every estimation path reports are the scatter of independent runs.

For each path a small seeded experiment is repeated K times with different seeds. Two checks,
each with its own stated tolerance:

* **scatter**: the observed spread of the K values over the root-mean-square of the reported
  standard errors, pooled over the observables, lies within the two-sided 99.9 % band of a χ²
  with K − 1 degrees of freedom: ``sqrt(χ²₀.₀₀₀₅/(K−1)) ≤ ratio ≤ sqrt(χ²₀.₉₉₉₅/(K−1))``. The
  pooled observables of one run are correlated, so K − 1 (not their number times K − 1) is
  the conservative count. With K = 20 the band is about [0.51, 1.56]: an error bar half or
  twice its true size fails. The costliest paths repeat K = 12 times ([0.38, 1.74]: an error
  bar half its size still fails).
* **mean**: the mean of the K values within 4 of its standard errors (σ/√K) of the exact value
  of what the path estimates: the exact reference on a noiseless simulator; on device noise,
  the path's own many-shot limit (one run with 64 times the shots, its σ added in
  quadrature), because the noisy channel, not the ideal one, is what an unmitigated or
  partly mitigated estimate converges to.

The counted and readout-mitigated tomography paths have their Monte Carlo check in
``tests/test_readout_mitigation.py``.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from scipy.stats import chi2

from qcompile.backends import get_backend
from qcompile.protocols import get_protocol, homogenization
from qcompile.protocols.gkp import gkp
from qcompile.protocols.ising_memory import ising_memory

CONFIDENCE = 0.999


def scatter_band(k: int) -> tuple[float, float]:
    """The two-sided ``CONFIDENCE`` band of (observed spread / true σ) from ``k`` runs."""
    tail = (1 - CONFIDENCE) / 2
    return (float(np.sqrt(chi2.ppf(tail, k - 1) / (k - 1))),
            float(np.sqrt(chi2.ppf(1 - tail, k - 1) / (k - 1))))  # fmt: skip


def check_calibrated(values, sigmas, exact, exact_sigma=0.0, *, conservative=False) -> float:
    """Both checks of the module docstring on ``values``/``sigmas`` of shape (K, observables);
    returns the scatter ratio. ``conservative``: the errors may overstate the scatter (only
    the upper end of the band is checked), never understate it."""
    values, sigmas = np.atleast_2d(values), np.atleast_2d(sigmas)
    k = values.shape[0]
    assert np.all(sigmas > 0), "a zero standard error cannot be calibrated: choose other points"
    ratio = float(np.sqrt(values.var(axis=0, ddof=1).sum() / (sigmas**2).mean(axis=0).sum()))
    low, high = scatter_band(k)
    if conservative:
        low = 0.0
    message = f"observed spread / reported σ = {ratio:.2f}, not in [{low:.2f}, {high:.2f}]"
    assert low <= ratio <= high, message
    tolerance = 4 * np.sqrt((sigmas**2).mean(axis=0) / k + np.square(exact_sigma))
    gap = np.abs(values.mean(axis=0) - np.asarray(exact))
    assert np.all(gap < tolerance), (gap, tolerance)
    return ratio


def repeat(run: Callable[[int], tuple], k: int) -> tuple[np.ndarray, np.ndarray]:
    """``run(seed)`` → (values, sigmas) for seeds 100 … 100 + k − 1."""
    pairs = [run(100 + i) for i in range(k)]
    return np.array([p[0] for p in pairs]), np.array([p[1] for p in pairs])


HOMOGENIZATION = homogenization(alpha=0.5, reservoir=2)
run_experiment = get_protocol("homogenization").run
KEY = "system_fidelity"


def _fidelities(result) -> tuple[list, list]:
    return result.observables[KEY], result.observables[KEY + "_stderr"]


def test_estimator_level_0_errors_are_the_scatter_and_the_mean_is_exact():
    """Noiseless Aer through the Estimator: spec 000's exact fidelities are the mean."""
    backend = get_backend("aer")

    def run(seed):
        return _fidelities(run_experiment(HOMOGENIZATION, backend, shots=1000, seed=seed,
                                          estimator=True, resilience_level=0))  # fmt: skip

    values, sigmas = repeat(run, 20)
    exact = run_experiment(HOMOGENIZATION, backend, shots=10, seed=1).reference[KEY]
    check_calibrated(values, sigmas, exact)


@pytest.mark.parametrize(
    ("options", "conservative"),
    [
        ({"estimator": True, "resilience_level": 0}, False),
        ({"estimator": True, "resilience_level": 1}, False),
        ({"estimator": True, "resilience_level": 2}, True),
        ({"zne": (1, 3)}, False),
        ({}, False),
    ],
    ids=["estimator-0", "estimator-1-trex", "estimator-2-zne", "zne-folding", "counted"],
)
def test_device_noise_errors_are_the_scatter(options, conservative):
    """aer:fake_manila (N = 2): every path's errors are its scatter, its mean its own limit.

    Resilience level 2 passes on the errors of runtime's own extrapolation, which overstate
    the scatter (measured: spread / reported σ = 0.41 here; runtime's fit error of single
    observables reaches ten times their spread): checked to never understate it."""
    backend = get_backend("aer:fake_manila")

    def run(seed, shots=1000):
        return _fidelities(run_experiment(HOMOGENIZATION, backend, shots=shots, seed=seed,
                                          **options))  # fmt: skip

    values, sigmas = repeat(run, 12 if conservative else 20)  # (level 2: ~1 s a run)
    limit, limit_sigma = run(7, shots=64_000)
    check_calibrated(values, sigmas, limit, np.asarray(limit_sigma), conservative=conservative)


def test_states_path_estimator_errors_are_the_scatter_and_the_mean_is_the_circuit_state():
    """A user's Lindblad model (examples/amplitude_damping.toml) through the Estimator on
    noiseless Aer, its joint-state tomography path: ⟨X⟩, ⟨Y⟩, ⟨Z⟩ at t = 1, 2, 3 against the
    exact state of the lowered circuit. (t = 0 is the pure |0⟩, where the projection onto the
    states biases any estimate inward: left out.)"""
    from qcompile.protocols.lindblad import lindblad
    from qcompile.protocols.lindblad import run as run_lindblad

    examples = Path(__file__).parents[1] / "examples"
    protocol = lindblad(examples / "amplitude_damping.toml", t_max=3.0, sample_every=1.0)
    backend, keys, results = get_backend("aer"), ("X", "Y", "Z"), []

    def run(seed):
        result = run_lindblad(protocol, backend, shots=1000, seed=seed, estimator=True,
                              resilience_level=0)  # fmt: skip
        results.append(result)
        o = result.observables
        values = [v for k in keys for v in o[k][1:]]
        return values, [v for k in keys for v in o[k + "_stderr"][1:]]

    values, sigmas = repeat(run, 12)  # (~1 s a run)
    check_calibrated(values, sigmas, [v for k in keys for v in results[0].ideal[k][1:]])


def test_ising_decoder_errors_are_the_scatter_and_the_mean_is_the_collision_chain():
    """M = 2 on noiseless Aer: the decoded success probability and its binomial error against
    the exact collision chain the circuits implement."""
    memory, backend = get_protocol("ising-memory"), get_backend("aer")
    protocol = ising_memory(size=2, delta=0.3, time=2.0, dt=0.5, trajectories=1)
    results = []

    def run(seed):
        result = memory.run(protocol, backend, shots=400, seed=seed)
        results.append(result)
        return [result.observables["success_probability"]], [
            result.observables["success_probability_stderr"]
        ]

    values, sigmas = repeat(run, 20)
    check_calibrated(values, sigmas, [results[0].ideal["success_probability"]])


@pytest.mark.parametrize(
    ("backend", "options"),
    [("aer:fake_manila+readout-mitigation", {}), ("aer:fake_manila", {"zne": (1, 3)})],
    ids=["readout-mitigated", "zne"],
)
def test_ising_decoder_on_device_noise_errors_are_the_scatter(backend, options):
    """M = 2 on FakeManila's noise, the decoded success readout-mitigated (its error resampled
    from the raw counts and the calibration) or zero-noise extrapolated (Richardson's
    weights on the scales' errors): errors are the scatter, the mean its many-shot limit."""
    memory, device = get_protocol("ising-memory"), get_backend(backend)
    protocol = ising_memory(size=2, delta=0.3, time=2.0, dt=0.5, trajectories=1)

    def run(seed, shots=1000):
        o = memory.run(protocol, device, shots=shots, seed=seed, **options).observables
        return [o["success_probability"]], [o["success_probability_stderr"]]

    values, sigmas = repeat(run, 12)
    limit, limit_sigma = run(7, shots=64_000)
    check_calibrated(values, sigmas, limit, np.asarray(limit_sigma))


def test_ising_trajectories_errors_are_the_scatter_and_the_mean_is_the_master_equation():
    """The kinetic Monte Carlo decoder (reference backend) against the exact master equation."""
    memory, backend = get_protocol("ising-memory"), get_backend("reference")
    protocol = ising_memory(size=3, delta=0.05, time=20, trajectories=2000)
    results = []

    def run(seed):
        result = memory.run(protocol, backend, seed=seed)
        results.append(result)
        return [result.observables["success_probability"]], [
            result.observables["success_probability_stderr"]
        ]

    values, sigmas = repeat(run, 20)
    check_calibrated(values, sigmas, [results[0].reference["success_probability"]])


def test_gkp_device_value_errors_are_the_scatter_and_the_mean_is_the_kraus_iteration():
    """The grid-encoded GKP step on noiseless Aer: ⟨Z⟩ after the device steps and its error
    against the compiled step's Kraus map iterated exactly."""
    plugin, backend = get_protocol("gkp"), get_backend("aer")
    protocol = gkp(epsilon=0.1)
    results = []

    def run(seed):
        result = plugin.run(protocol, backend, grid_qubits=5, shots=1000, seed=seed)
        results.append(result)
        device = result.observables["device"]
        return [device["z"]], [device["z_stderr"]]

    values, sigmas = repeat(run, 12)  # (~1.5 s a run: the rate from the Kraus map)
    check_calibrated(values, sigmas, [results[0].ideal["z_after_steps"]])


@pytest.mark.parametrize("factor", [0.5, 2.0])
def test_the_checks_reject_errors_half_or_twice_their_size(factor):
    """The scatter check itself: Gaussian values with σ = 1 reported as ``factor`` fail."""
    rng = np.random.default_rng(0)
    values = rng.standard_normal((20, 3))
    check_calibrated(values, np.ones((20, 3)), np.zeros(3))
    with pytest.raises(AssertionError, match="observed spread"):
        check_calibrated(values, factor * np.ones((20, 3)), np.zeros(3))
