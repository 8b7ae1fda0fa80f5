"""The Estimator path of a run: its checks before any work, and what a result records.

A run that measures Pauli expectation values with runtime's Estimator
(:mod:`qcompile.backends.estimator`) needs a backend with an ``estimate`` method and none of
the Sampler path's own mitigations, which the resilience level replaces.
"""

from __future__ import annotations

from typing import Any

from qcompile.backends.estimator import ESTIMATOR_CLASS, TECHNIQUES, check_resilience_level
from qcompile.errors import InvalidParameter

__all__ = ["check_estimator", "estimator_record"]


def check_estimator(backend, level: int, zne=None, recoverability: bool = False) -> int:
    """The Estimator path's own checks, before any work: a backend with an Estimator, and
    none of the Sampler path's mitigations (the resilience level replaces them)."""
    level = check_resilience_level(level)
    if getattr(backend, "readout_mitigation", False):
        raise InvalidParameter(
            "mitigate_readout", True, "not with the Estimator: its resilience_level 1 or 2 "
            "mitigates readout (TREX)"
        )  # fmt: skip
    local = getattr(backend, "suppression", None)  # aer:<fake>: twirled/scheduled by us
    if getattr(local, "active", False):
        raise InvalidParameter(
            *local.option(), "not with the Estimator on aer:<fake backend>: its resilience "
            "levels twirl (use ibm:<fake backend> for runtime's own DD and twirling options)"
        )  # fmt: skip
    if not callable(getattr(backend, "estimate", None)):
        raise InvalidParameter(
            "estimator", True, f"a backend that runs circuits through an Estimator, not "
            f"{backend.name} (aer, aer:<fake backend>, ibm:...)"
        )  # fmt: skip
    if zne is not None:
        raise InvalidParameter(
            "zne", ",".join(map(str, zne)), "not with the Estimator: use resilience_level 2 "
            "(its own gate-folding ZNE)"
        )  # fmt: skip
    if recoverability:
        raise InvalidParameter(
            "recoverability", True, "not with the Estimator (process tomography counts "
            "shots): run it without --estimator"
        )  # fmt: skip
    return level


def estimator_record(level: int, shots: int) -> dict[str, Any]:
    """The ``mitigation["estimator"]`` block of a result."""
    return {
        "primitive": ESTIMATOR_CLASS,
        "resilience_level": level,
        "techniques": TECHNIQUES[level],
        "shots_per_basis": shots,
    }
