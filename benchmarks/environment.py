"""The header every benchmark JSON starts with: versions, OS, CPU, time."""

from __future__ import annotations

import json
import os
import platform
from datetime import datetime, timezone
from pathlib import Path

from qcompile.results import package_versions

RESULTS = Path(__file__).parent / "results"


def machine_header() -> dict:
    return {
        "created": datetime.now(timezone.utc).isoformat(),
        "versions": package_versions(),
        "os": platform.platform(),
        "cpu": platform.processor() or platform.machine(),
        "cpu_count": os.cpu_count(),
    }


def write_results(name: str, payload: dict) -> Path:
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"{name}.json"
    path.write_text(json.dumps({"header": machine_header(), **payload}, indent=2))
    return path
