"""``RunResult``: what one run produced, as it goes to JSON, to the store and to plots.

``observables`` holds what the chosen backend measured (with ``<name>_stderr`` entries for
shot noise), ``ideal`` the exact noiseless simulation of the same lowered circuits, and
``reference`` the protocol's independent exact answer (for homogenization, the iterated map).
"""

from __future__ import annotations

import json
import os
import platform
import tempfile
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path
from typing import Any

__all__ = ["RunResult", "package_versions", "write_atomic"]

_VERSIONED = ("qcompile", "qiskit", "qiskit-aer", "qiskit-ibm-runtime", "qutip", "numpy")


def package_versions() -> dict[str, str]:
    """Versions of the packages a result depends on, plus Python's."""
    versions = {"python": platform.python_version()}
    for name in _VERSIONED:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


@dataclass
class RunResult:
    """One run of one protocol on one backend."""

    protocol: str
    parameters: dict[str, Any]
    backend: str
    seed: int | None
    shots: int | None
    circuit: dict[str, Any]
    observables: dict[str, Any]
    ideal: dict[str, Any]
    reference: dict[str, Any]
    versions: dict[str, str] = field(default_factory=package_versions)
    created: str = field(default_factory=lambda: datetime.now(timezone.utc).isoformat())
    run_id: str | None = None
    #: Homogenization's ``--recoverability`` block (spec 000 §3); absent from the JSON of a
    #: run that did not ask for it.
    recoverability: dict[str, Any] | None = None
    #: What error mitigation was applied (``readout``, ``zne`` with the raw, scale-1
    #: observables); absent from the JSON of a run without any.
    mitigation: dict[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        for optional in ("recoverability", "mitigation"):
            if data[optional] is None:
                del data[optional]
        return data

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, sort_keys=False)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RunResult:
        return cls(**data)

    @classmethod
    def from_json(cls, text: str) -> RunResult:
        return cls.from_dict(json.loads(text))

    def write_json(self, path: str | os.PathLike) -> Path:
        return write_atomic(path, self.to_json().encode())


def write_atomic(path: str | os.PathLike, data: bytes) -> Path:
    """Write ``data`` to ``path`` through a temporary file and a rename: never half a file."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes 0600; give the file ordinary permissions
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path
