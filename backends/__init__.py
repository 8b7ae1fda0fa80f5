"""Backends: where compiled circuits run, and the store where results are kept.

``get_backend`` names: ``aer`` (noiseless), ``aer:<fake backend>`` (Aer with that IBM device's
calibrated noise, e.g. ``aer:fake_torino``), ``reference`` (no circuits: the protocol's exact
reference alone).
"""

from __future__ import annotations

from backends.aer import AerBackend
from backends.store import ResultStore, default_store_path
from qcompile.errors import BackendUnavailable
from qcompile.targets import fake_backend_names

__all__ = [
    "AerBackend",
    "ReferenceBackend",
    "ResultStore",
    "default_store_path",
    "get_backend",
    "backend_names",
    "DEFAULT_BACKEND",
]

DEFAULT_BACKEND = "aer:fake_torino"


class ReferenceBackend:
    """Runs no circuit: a run on it reports the protocol's exact reference only."""

    name = "reference"
    noisy = False
    target = None
    compile_target = None
    num_qubits = None
    capacity = "reference (no circuit is run)"


def backend_names() -> list[str]:
    """Every name :func:`get_backend` accepts."""
    return ["aer", "reference"] + [f"aer:{name}" for name in fake_backend_names()]


def get_backend(name: str) -> AerBackend | ReferenceBackend:
    """The backend called ``name``; an unknown name lists the valid ones."""
    key = name.strip()
    if key == "aer":
        return AerBackend()
    if key == "reference":
        return ReferenceBackend()
    if key.startswith("aer:") and f"aer:{key[4:].lower()}" in backend_names():
        return AerBackend(key[4:].lower())
    raise BackendUnavailable(
        f"unknown backend {name!r}; valid names: aer, reference, aer:<fake backend> with "
        f"<fake backend> one of {', '.join(fake_backend_names())}"
    )
