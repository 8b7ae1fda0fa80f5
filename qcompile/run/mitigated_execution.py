r"""Executing a data-flow protocol's circuits with the mitigation its run asks for — the
execution stage of the one runner (:mod:`qcompile.run.pipeline`), for any protocol whose
``estimate`` turns counts into observables:

* **counted** (the Sampler path): the compiled circuits run with ``shots``; on a backend
  that mitigates readout (``…+readout-mitigation``: mthree) the same shots before the
  inversion are estimated too and kept as ``mitigation["readout"]["raw"]``;
* **zero-noise extrapolated** (``zne``, odd scale factors): every compiled circuit also runs
  folded (:func:`qcompile.run.zne.fold`: globally, or each unitary stretch between resets),
  the protocol estimates each scale, and every observable with a standard error (``x`` with
  ``x_stderr``; lists element by element) is extrapolated to zero noise by Richardson's rule
  with its error propagated, :math:`\sigma^2 = \sum_i w_i^2 \sigma_i^2`;
* **through the Estimator** (``estimator``, at ``resilience_level``): the circuits
  unmeasured, compiled from ``|0…0⟩``, and the protocol's ``estimator_observables`` measured
  as expectation values by runtime's Estimator (:mod:`qcompile.backends.estimator`), turned
  into observables by its ``from_expectations``.

What a result records of it is the ``mitigation`` block (:func:`~qcompile.run.zne.zne_record`,
:func:`~qcompile.run.estimator_path.estimator_record`).
"""

from __future__ import annotations

import inspect
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from qiskit import QuantumCircuit

from qcompile.backends.estimator import physical_observables
from qcompile.errors import InvalidParameter
from qcompile.protocols.parameters import read_flag
from qcompile.run.estimator_path import check_estimator, estimator_record
from qcompile.run.runner import Progress, run_with_progress, runs_circuits
from qcompile.run.zne import check_zne, extrapolate_value, fold, folding_of, zne_record

__all__ = ["Mitigation", "check_mitigation", "estimate_counts", "run_counted", "run_estimated"]


@dataclass(frozen=True)
class Mitigation:
    """A run's checked mitigation options: ``zne`` scale factors (or ``None``) and the
    Estimator's ``resilience_level`` (``None``: the Sampler path)."""

    zne: tuple[int, ...] | None = None
    resilience_level: int | None = None
    recipe: dict[str, Any] = field(default_factory=dict)

    @property
    def estimator(self) -> bool:
        return self.resilience_level is not None


def check_mitigation(
    plugin, backend, zne=None, estimator: object = False, resilience_level: object = 1
) -> Mitigation:
    """The mitigation options of a run of ``plugin`` on ``backend``, checked before any work
    (text from a sweep's ``--option`` or a recipe's JSON is read first): both need a circuit
    backend; the Estimator a backend with one, a protocol with ``estimator_observables`` and
    none of the Sampler path's mitigations; ZNE device noise."""
    recipe: dict[str, Any] = {}  # recipes are as before without these options
    level = None
    if read_flag("estimator", estimator):
        if not runs_circuits(backend):
            raise InvalidParameter(
                "estimator", True, "a circuit backend (aer, aer:<fake backend>, ibm:...): the "
                "reference backend runs no circuits"
            )  # fmt: skip
        if not hasattr(plugin, "estimator_observables"):
            raise InvalidParameter(
                "estimator", True, f"false: {plugin.NAME} declares no observables for the "
                "Estimator (estimator_observables)"
            )  # fmt: skip
        level = check_estimator(backend, resilience_level, zne)
        recipe.update(estimator=True, resilience_level=level)
    scales = check_zne(zne, backend)
    if scales is not None:
        recipe["zne"] = list(scales)
    return Mitigation(scales, level, recipe)


def estimate_counts(
    plugin, protocol, counts: Sequence[Mapping], rng: np.random.Generator
) -> dict[str, Any]:
    """``plugin.estimate`` of one counts table per circuit, with ``rng`` if it takes one (the
    bootstrap of readout-mitigated counts)."""
    if "rng" in inspect.signature(plugin.estimate).parameters:
        return dict(plugin.estimate(protocol, list(counts), rng=rng))
    return dict(plugin.estimate(protocol, list(counts)))


def _with_errors(observables: Mapping[str, Any]) -> dict[str, Any]:
    """The observables that carry a standard error, with it."""
    out = {}
    for key, value in observables.items():
        if f"{key}_stderr" in observables:
            out[key] = value
            out[f"{key}_stderr"] = observables[f"{key}_stderr"]
    return out


def _extrapolated(by_scale: list[dict[str, Any]], scales: tuple[int, ...]) -> dict[str, Any]:
    """The scale-1 observables with every one that has a standard error extrapolated to zero
    noise (element by element for lists), and ``method`` saying so."""
    out = dict(by_scale[0])
    for key in _with_errors(by_scale[0]):
        if key.endswith("_stderr"):
            continue
        values = np.array([b[key] for b in by_scale], dtype=float)
        errors = np.array([b[f"{key}_stderr"] for b in by_scale], dtype=float)
        if values.ndim == 1:
            out[key], out[f"{key}_stderr"] = extrapolate_value(values, errors, scales)
        else:
            pairs = [extrapolate_value(values[:, i], errors[:, i], scales)
                     for i in range(values.shape[1])]  # fmt: skip
            out[key] = [p[0] for p in pairs]
            out[f"{key}_stderr"] = [p[1] for p in pairs]
    if isinstance(out.get("method"), str):
        out["method"] += ", zero-noise extrapolated"
    return out


def run_counted(
    plugin, protocol, backend, compiled: list[QuantumCircuit], shots: int, seed: int,
    report: Progress, run_id: str | None, zne: tuple[int, ...] | None,
) -> tuple[dict[str, Any], dict[str, Any]]:  # fmt: skip
    """The compiled circuits counted (folded too, with ``zne``) and estimated:
    ``(observables, mitigation)``."""
    scales = zne or (1,)
    submitted = [*compiled]
    for scale in scales[1:]:
        submitted += [fold(c, scale, backend.compile_target) for c in compiled]
    counts = run_with_progress(backend, submitted, shots, seed, report, run_id)
    n = len(compiled)
    rng = np.random.default_rng(seed)
    by_scale = [estimate_counts(plugin, protocol, counts[i * n : (i + 1) * n], rng)
                for i in range(len(scales))]  # fmt: skip
    observables, mitigation = by_scale[0], {}
    if getattr(backend, "readout_mitigation", False):  # the same shots before the inversion
        raw = [getattr(table, "raw", table) for table in counts[:n]]
        unmitigated = estimate_counts(plugin, protocol, raw, np.random.default_rng([seed, 1]))
        mitigation["readout"] = {"method": "mthree", "calibration": "per qubit, same run",
                                 "raw": _with_errors(unmitigated)}  # fmt: skip
    if zne is not None:
        observables = _extrapolated(by_scale, zne)
        raw = _with_errors(by_scale[0])
        values = [k for k in raw if not k.endswith("_stderr")]
        single = len(values) == 1 and np.ndim(raw[values[0]]) == 0
        mitigation["zne"] = zne_record(
            zne, folding_of(compiled), raw, by_scale=[b[values[0]] for b in by_scale] if single
            else None,
        )  # fmt: skip
    return observables, mitigation


def run_estimated(
    plugin, protocol, backend, compiled: list[QuantumCircuit], unmeasured: list[QuantumCircuit],
    shots: int, seed: int, report: Progress, run_id: str | None, level: int,
) -> tuple[dict[str, Any], dict[str, Any]]:  # fmt: skip
    """The protocol's ``estimator_observables`` of the ``unmeasured`` circuits measured on
    their ``compiled`` forms (moved onto the physical qubits the compiler chose) by the
    backend's Estimator: ``(observables, mitigation)``."""
    declared = plugin.estimator_observables(protocol, unmeasured)
    observables = [physical_observables(c, list(ops))
                   for c, ops in zip(compiled, declared, strict=True)]  # fmt: skip
    report("estimator", 0, len(compiled))
    data = backend.estimate(
        compiled, observables, shots, resilience_level=level, seed=seed,
        progress=lambda done: report("estimator", done, len(compiled)), run_id=run_id,
    )  # fmt: skip
    estimated = plugin.from_expectations(protocol, data, shots=shots, resilience_level=level)
    return dict(estimated), {"estimator": estimator_record(level, shots)}
