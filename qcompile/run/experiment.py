"""Deprecated alias: homogenization (spec 000) declares its data flow
(:mod:`qcompile.protocols.homogenization`: reference, tomography tasks, the fidelities from
Bloch vectors, its program circuit, ``recoverability`` as a side experiment) and is run by
qcompile's one runner on its Bloch path (:mod:`qcompile.run.bloch_pipeline`).
``run_experiment`` and ``check_experiment`` keep old scripts working (same options, same
numbers); the lifecycle names re-exported here live in :mod:`qcompile.run.runner`."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from qcompile.deprecation import warn_deprecated
from qcompile.results import RunResult
from qcompile.run.estimator_path import check_estimator
from qcompile.run.runner import (
    DEFAULT_SHOTS,
    MAX_SHOTS,
    Backend,
    Progress,
    check_run,
    run_recipe,
    runs_circuits,
    stored_run,
)

__all__ = [
    "Backend",
    "Progress",
    "run_experiment",
    "check_experiment",
    "check_estimator",
    "check_run",
    "stored_run",
    "run_recipe",
    "runs_circuits",
    "max_abs_deviation",
    "DEFAULT_SHOTS",
    "MAX_SHOTS",
]


def _plugin():
    from qcompile.protocols.plugin import get_protocol

    return get_protocol("homogenization")


def run_experiment(protocol, backend: Backend, **options: Any) -> RunResult:
    """``get_protocol("homogenization").run(protocol, backend, ...)`` (deprecated): the
    options as before (``shots``, ``seed``, ``store``, ``progress``, ``run_id``,
    ``sweep_point``, ``recoverability``, ``zne``, ``estimator``, ``resilience_level``)."""
    warn_deprecated("run_experiment", "get_protocol('homogenization').run")
    return _plugin().run(protocol, backend, **options)


def check_experiment(protocol, backend: Backend, **options: Any) -> None:
    """``get_protocol("homogenization").check(protocol, backend, ...)``: everything
    :func:`run_experiment` would refuse, running nothing (deprecated)."""
    warn_deprecated("check_experiment", "get_protocol('homogenization').check")
    _plugin().check(protocol, backend, **options)


def max_abs_deviation(a: dict[str, Any], b: dict[str, Any]) -> float:
    """Largest |a − b| over the observables the two blocks share (NaN if none)."""
    diffs = [
        np.max(np.abs(np.subtract(a[k], b[k]))) for k in a if k in b and not k.endswith("_stderr")
    ]
    return float(max(diffs)) if diffs else math.nan
