"""The docs site builds offline with warnings as errors, and the README is a front page whose
links all land (issue 32)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
README_MAX_LINES = 200


def test_the_docs_build_strict(tmp_path):
    """``mkdocs build --strict``: a broken link, a page missing from the nav, an API object
    that does not resolve or a parameter table naming no protocol fails the build."""
    env = dict(os.environ, NO_MKDOCS_2_WARNING="1")
    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "-d", str(tmp_path / "site")],
        cwd=ROOT, capture_output=True, text=True, env=env,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    site = tmp_path / "site"
    api = (site / "api" / "index.html").read_text()
    assert "SwapPowerGate" in api and "get_backend" in api  # the reference has content
    cat = (site / "protocols" / "cat" / "index.html").read_text()
    assert "--cutoff" in cat  # the generated parameter table replaced its marker
    assert "<!-- parameters:" not in cat


def test_the_readme_is_a_front_page_whose_links_land():
    text = (ROOT / "README.md").read_text()
    assert len(text.splitlines()) <= README_MAX_LINES
    links = re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", text)
    local = [link for link in links if "://" not in link]
    assert local, "the README links into the docs"
    missing = [link for link in local if not (ROOT / link).exists()]
    assert not missing, missing


def test_the_readme_python_example_runs(tmp_path, monkeypatch):
    """The README's Python block, executed as printed: the ideal circuits (Aer's exact
    simulation of the uncompiled circuits) agree with spec 000's exact map (eqs. 4-5) to 1e-9,
    and the device's last point is within FakeTorino's known bias of it (< 0.1 at N = 4)."""
    import numpy as np

    text = (ROOT / "README.md").read_text()
    (block,) = re.findall(r"```python\n(.*?)```", text, flags=re.S)
    monkeypatch.setenv("QCOMPILE_HOME", str(tmp_path))
    namespace: dict = {}
    exec(compile(block, "README.md", "exec"), namespace)  # noqa: S102 - the README's own code
    h, result = namespace["h"], namespace["result"]
    exact = h.reference()["system_fidelity"]
    assert np.allclose(result.ideal["system_fidelity"], exact, atol=1e-9)
    device = np.asarray(result.observables["system_fidelity"])
    assert abs(device[-1] - exact[-1]) < 0.1
