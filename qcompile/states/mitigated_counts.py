r"""Readout-mitigated counts that remember where they came from, so an estimate's standard
error can include the mitigation's own variance (issue 16).

A mitigated table is what mthree returns for the raw counts q under the tensored assignment
model p_measured = (⊗_b A_b) p_true, with A_b = [[1 − e₀, e₁], [e₀, 1 − e₁]] per clbit
(e₀ = P(1|0), e₁ = P(0|1), each estimated from ``calibration_shots`` shots). On the marginal of
a few clbits the model inverts exactly: p_true = (⊗_b A_b⁻¹) q_marginal. Resampling both the
raw counts (multinomial) and each clbit's calibration (binomial) and inverting every resample
gives the spread of the mitigated estimate: the shot noise amplified by the inversion,
≈ 1/(1 − e₀ − e₁) per qubit, plus the calibration's own noise — which a bootstrap of the
mitigated table alone leaves out.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

__all__ = ["MitigatedCounts"]


class MitigatedCounts(dict):
    """A counts table (bit string → count, clbit 0 the last character) after readout
    mitigation, with the ``raw`` table it came from, each clbit's ``flips`` = (e₀, e₁)
    (shape (bits, 2); (0, 0) for an unmeasured clbit) and the ``calibration_shots``."""

    def __init__(
        self,
        mitigated: Mapping[str, float],
        raw: Mapping[str, float],
        flips: np.ndarray,
        calibration_shots: int,
    ) -> None:
        super().__init__(mitigated)
        self.raw = {bits.replace(" ", ""): float(n) for bits, n in raw.items()}
        self.flips = np.asarray(flips, dtype=float)
        self.calibration_shots = int(calibration_shots)

    def _raw_marginal(self, bits: Sequence[int]) -> np.ndarray:
        """Raw counts of the outcomes of ``bits`` (index bit j = clbit ``bits[j]``)."""
        table = np.zeros(1 << len(bits))
        for string, n in self.raw.items():
            index = sum(1 << j for j, b in enumerate(bits) if string[-1 - b] == "1")
            table[index] += n
        return table

    def marginal_samples(
        self, bits: Sequence[int], size: int, rng: np.random.Generator
    ) -> np.ndarray:
        """``size`` resampled mitigated quasi-probabilities of the outcomes of ``bits``, shape
        (size, 2^k): raw counts and calibrations resampled, every resample inverted exactly."""
        raw = self._raw_marginal(bits)
        shots = int(round(raw.sum()))
        samples = rng.multinomial(shots, raw / raw.sum(), size=size).astype(float) / shots
        samples = samples.reshape((size,) + (2,) * len(bits))  # axis 1 + j: clbit bits[-1-j]
        n = self.calibration_shots
        for j, b in enumerate(bits):
            e0, e1 = self.flips[b]
            e0s = rng.binomial(n, e0, size) / n if e0 > 0 else np.zeros(size)
            e1s = rng.binomial(n, e1, size) / n if e1 > 0 else np.zeros(size)
            det = 1 - e0s - e1s
            inverse = (
                np.stack(  # A⁻¹ per sample, (size, 2, 2)
                    [np.stack([1 - e1s, -e1s], -1), np.stack([-e0s, 1 - e0s], -1)], -2
                )
                / det[:, None, None]
            )
            axis = len(bits) - j  # index bit j is the j-th axis from the right
            moved = np.moveaxis(samples, axis, -1)
            moved = np.einsum("sij,s...j->s...i", inverse, moved)
            samples = np.moveaxis(moved, -1, axis)
        return samples.reshape(size, -1)

    def stderr_of(self, values: np.ndarray, rng: np.random.Generator, size: int = 400) -> float:
        """Standard error of the mitigated mean of ``values`` (one per outcome of all the
        clbits, index bit j = clbit j), resampled as :meth:`marginal_samples`."""
        bits = range(self.flips.shape[0])
        return float(np.std(self.marginal_samples(bits, size, rng) @ values, ddof=1))
