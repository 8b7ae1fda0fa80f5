"""Named compilation targets: IBM fake backends (calibration snapshots) and generic targets.

``fake_torino`` is ``qiskit_ibm_runtime.fake_provider.FakeTorino`` and so on for every
BackendV2 fake in that module; ``all_to_all_cx`` is a coupling-free CX + U target.
"""

from __future__ import annotations

import re
from functools import lru_cache

from qiskit.providers import BackendV2
from qiskit.transpiler import Target

from qcompile.errors import BackendUnavailable

__all__ = ["fake_backend", "fake_backend_names", "resolve_target", "GENERIC_TARGETS"]

GENERIC_TARGETS = ("all_to_all_cx",)


@lru_cache(maxsize=1)
def _fake_classes() -> dict[str, type]:
    from qiskit_ibm_runtime import fake_provider

    classes = {}
    for attr in dir(fake_provider):
        cls = getattr(fake_provider, attr)
        if attr.startswith("Fake") and isinstance(cls, type) and issubclass(cls, BackendV2):
            stem = re.sub(r"V2$", "", attr)
            classes[re.sub(r"(?<!^)(?=[A-Z])", "_", stem).lower()] = cls
    return classes


def fake_backend_names() -> list[str]:
    """Every fake backend name that :func:`fake_backend` accepts, sorted."""
    return sorted(_fake_classes())


@lru_cache(maxsize=16)
def fake_backend(name: str) -> BackendV2:
    """The fake IBM backend ``name`` (e.g. ``fake_torino``); cached, so treat it as read-only."""
    key = name.strip().lower()
    key = key if key.startswith("fake_") else "fake_" + key
    try:
        return _fake_classes()[key]()
    except KeyError:
        raise BackendUnavailable(
            f"unknown fake backend {name!r}; valid names: " + ", ".join(fake_backend_names())
        ) from None


def resolve_target(target: str | Target | BackendV2 | None) -> Target | None:
    """A :class:`Target` from a name, a backend or a target; ``None``/``all_to_all_cx``: none."""
    if target is None or isinstance(target, Target):
        return target
    if isinstance(target, BackendV2):
        return target.target
    if target in GENERIC_TARGETS:
        return None
    return fake_backend(target).target
