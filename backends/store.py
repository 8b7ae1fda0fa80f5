"""The results store: one SQLite file that keeps every run, finished or not.

A run is written as ``running`` before any work starts and completed with its
:class:`~qcompile.results.RunResult` (or the error that stopped it), so nothing a user ran is
lost. The compiled circuits of a run are kept as QPY. Location: ``$QCOMPILE_HOME/qcompile.db``,
default ``~/.qcompile/qcompile.db``.
"""

from __future__ import annotations

import io
import json
import os
import sqlite3
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from qiskit import qpy
from qiskit.circuit import QuantumCircuit

from qcompile.errors import QCompileError
from qcompile.results import RunResult

__all__ = ["ResultStore", "default_store_path"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    id TEXT PRIMARY KEY,
    created TEXT NOT NULL,
    updated TEXT NOT NULL,
    protocol TEXT NOT NULL,
    backend TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('running', 'done', 'failed')),
    parameters TEXT NOT NULL,
    result TEXT,
    error TEXT
);
CREATE TABLE IF NOT EXISTS circuits (
    run_id TEXT NOT NULL REFERENCES runs(id),
    name TEXT NOT NULL,
    qpy BLOB NOT NULL,
    PRIMARY KEY (run_id, name)
);
"""


def default_store_path() -> Path:
    """``$QCOMPILE_HOME/qcompile.db``, or ``~/.qcompile/qcompile.db``."""
    home = os.environ.get("QCOMPILE_HOME")
    return (
        Path(home).expanduser() / "qcompile.db"
        if home
        else Path.home() / ".qcompile" / "qcompile.db"
    )


def _now() -> str:
    return datetime.now(timezone.utc).isoformat()


class ResultStore:
    """Runs, their results and circuits in SQLite (safe to open from several processes)."""

    def __init__(self, path: str | os.PathLike | None = None) -> None:
        self.path = Path(path) if path is not None else default_store_path()
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self._connect() as db:
                db.executescript(_SCHEMA)
        except (OSError, sqlite3.Error) as exc:
            raise QCompileError(f"cannot open the results store at {self.path}: {exc}") from None

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        db = sqlite3.connect(self.path, timeout=30)
        db.row_factory = sqlite3.Row
        try:
            with db:
                yield db
        finally:
            db.close()

    def start_run(self, protocol: str, backend: str, parameters: dict[str, Any]) -> str:
        """Record a run as ``running`` and return its id."""
        run_id = uuid.uuid4().hex[:12]
        now = _now()
        with self._connect() as db:
            db.execute(
                "INSERT INTO runs (id, created, updated, protocol, backend, status, parameters)"
                " VALUES (?, ?, ?, ?, ?, 'running', ?)",
                (run_id, now, now, protocol, backend, json.dumps(parameters)),
            )
        return run_id

    def finish_run(self, run_id: str, result: RunResult) -> None:
        result.run_id = run_id
        with self._connect() as db:
            db.execute(
                "UPDATE runs SET status='done', result=?, updated=? WHERE id=?",
                (result.to_json(), _now(), run_id),
            )

    def fail_run(self, run_id: str, error: str) -> None:
        with self._connect() as db:
            db.execute(
                "UPDATE runs SET status='failed', error=?, updated=? WHERE id=?",
                (error, _now(), run_id),
            )

    def save_circuits(self, run_id: str, circuits: Sequence[QuantumCircuit]) -> None:
        """Keep ``circuits`` (QPY) with the run, keyed by their names."""
        with self._connect() as db:
            for circuit in circuits:
                buffer = io.BytesIO()
                qpy.dump(circuit, buffer)
                db.execute(
                    "INSERT OR REPLACE INTO circuits (run_id, name, qpy) VALUES (?, ?, ?)",
                    (run_id, circuit.name, buffer.getvalue()),
                )

    def load_circuits(self, run_id: str) -> list[QuantumCircuit]:
        with self._connect() as db:
            rows = db.execute(
                "SELECT qpy FROM circuits WHERE run_id=? ORDER BY rowid", (run_id,)
            ).fetchall()
        return [qpy.load(io.BytesIO(row["qpy"]))[0] for row in rows]

    def get_run(self, run_id: str) -> dict[str, Any]:
        """The stored row of ``run_id`` (``result`` parsed into a :class:`RunResult`)."""
        with self._connect() as db:
            row = db.execute("SELECT * FROM runs WHERE id=?", (run_id,)).fetchone()
        if row is None:
            raise QCompileError(f"no run with id {run_id!r} in {self.path}")
        data = dict(row)
        data["parameters"] = json.loads(data["parameters"])
        data["result"] = RunResult.from_json(data["result"]) if data["result"] else None
        return data

    def list_runs(self, limit: int = 20) -> list[dict[str, Any]]:
        """The newest runs first: id, created, protocol, backend, status."""
        with self._connect() as db:
            rows = db.execute(
                "SELECT id, created, protocol, backend, status FROM runs"
                " ORDER BY created DESC LIMIT ?",
                (limit,),
            ).fetchall()
        return [dict(row) for row in rows]
