"""What a run on device noise should give, and how close it must be.

A device run does not converge to the ideal reference: gate, readout and idle errors move it.
Its own limit is the same compiled circuits under the same noise with many shots. The tests
take that limit from qcompile's Aer path (``aer:<device>``, restricted noise model, exact
probabilities sampled) with :data:`LIMIT_SHOTS` shots. The bias of a device value against the
ideal reference is then not a constant. It is the stated ``limit − reference``, and the check
is two-sided:

    |device − limit| ≤ K · sqrt(σ_device² + σ_limit²),  K = 4.

The limit's σ is about 1/8 of a 4000-shot run's. A 10 % change of a physical parameter moves
the limit by more than this band (``tests/test_ibm_backend.py``'s local-mode test shows it
fails).

An estimate that is a norm (a trace distance) is biased at finite shots: near zero its shot
noise only adds distance (measured: 0.061 at 1000 shots against 0.040 in the limit, 2.5σ).
Its limit is therefore the mean of the same estimator at the same shots over
:data:`REPEATS` independent runs (:func:`estimator_mean`), its σ their scatter / √REPEATS.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

K = 4.0
LIMIT_SHOTS = 256_000
REPEATS = 6


def noisy_limit(run, protocol, device: str, key: str, *, seed: int = 1, backend=None,
                **options) -> tuple[np.ndarray, np.ndarray]:  # fmt: skip
    """``(values, σ)`` of observable ``key`` from ``LIMIT_SHOTS`` shots on ``aer:<device>``;
    ``run(protocol, backend, shots=, seed=, **options)`` is the protocol's runner."""
    from qcompile.backends import get_backend

    backend = backend if backend is not None else get_backend(f"aer:{device}")
    result = run(protocol, backend, shots=LIMIT_SHOTS, seed=seed, **options)
    return np.array(result.observables[key]), np.array(result.observables[key + "_stderr"])


def estimator_mean(run, protocol, device: str, key: str, shots: int, **options
                   ) -> tuple[np.ndarray, np.ndarray]:  # fmt: skip
    """``(mean, σ of the mean)`` of ``key`` over :data:`REPEATS` runs of ``shots`` shots on
    ``aer:<device>`` (seeds 1000 …): what a biased estimator converges to at that size."""
    from qcompile.backends import get_backend

    backend = get_backend(f"aer:{device}")
    values = np.array([run(protocol, backend, shots=shots, seed=1000 + i, **options)
                       .observables[key] for i in range(REPEATS)])  # fmt: skip
    return values.mean(axis=0), values.std(axis=0, ddof=1) / np.sqrt(REPEATS)


def assert_at_limit(
    values: Sequence[float],
    sigma: Sequence[float],
    limit: tuple[np.ndarray, np.ndarray],
    k: float = K,
) -> None:
    """Two-sided: every value within ``k`` combined standard errors of its noisy limit."""
    values, sigma = np.asarray(values, dtype=float), np.asarray(sigma, dtype=float)
    centre, spread = limit
    band = k * np.hypot(sigma, spread)
    gap = np.abs(values - centre)
    assert np.all(gap <= band), f"|device − noisy limit| = {gap.round(4)} > {band.round(4)}"
