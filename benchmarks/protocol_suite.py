"""The protocol transpiler benchmark (issue: beat Qiskit O3 on every protocol circuit).

Runs :mod:`qcompile.app.benchmark_suite` — qcompile vs Qiskit O2/O3 and pytket, on FakeTorino,
FakeFez, FakeSherbrooke and an all-to-all CX target — and writes JSON, markdown and a plot to
``benchmarks/results/``. Same as ``qcompile bench --suite protocols``. Usage:
``python -m benchmarks.protocol_suite [--quick]``.
"""

from __future__ import annotations

import sys

from benchmarks.environment import RESULTS
from qcompile.cli import main

if __name__ == "__main__":
    RESULTS.mkdir(exist_ok=True)
    args = [
        "bench",
        "--suite",
        "protocols",
        "--json",
        str(RESULTS / "protocol_suite.json"),
        "--markdown",
        str(RESULTS / "protocol_suite.md"),
        "--plot",
        str(RESULTS / "protocol_suite.png"),
    ]
    main(args + sys.argv[1:])
