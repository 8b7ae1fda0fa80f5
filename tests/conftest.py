"""Shared fixtures: an isolated results store per test and the spec-000 reservoir state."""

from __future__ import annotations

import os

import pytest

# Heavy linear algebra in many small problems: one BLAS thread avoids oversubscription.
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

#: Spec 000 §2: ξ = cos(1.1)|0⟩ + sin(1.1)|1⟩, a Qiskit ry(2.2) on |0⟩ (θ = 2.2 from +z).
SPEC_XI = "polar:2.2,0"


@pytest.fixture(autouse=True)
def isolated_store(tmp_path, monkeypatch):
    """Every test writes its runs to its own store, never to ~/.qcompile."""
    home = tmp_path / "qcompile_home"
    monkeypatch.setenv("QCOMPILE_HOME", str(home))
    return home
