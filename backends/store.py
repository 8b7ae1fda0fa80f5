"""The results store: one SQLite file that keeps every run, finished or not.

A run is written as ``running`` before any work starts, with the *recipe* that produced it
(the runner, protocol parameters, shots and resolved seed), and completed with its
:class:`~qcompile.results.RunResult` (or the error that stopped it), so nothing a user ran is
lost. The compiled circuits of a run are kept as QPY.

``jobs`` holds every job handed to IBM Quantum (or to runtime's local mode) *before* anyone
waits on it: id, backend, execution mode, primitive options, the circuits (QPY), the
backend's calibration time and, once fetched, the counts. ``sweep_points`` ties the points of
a parameter sweep to their runs; its primary key makes a point impossible to record twice.

A run records its owner (process id and host). A run still ``running`` whose owner process
no longer exists on this host (killed with SIGKILL, a power cut) and that waits on no
submitted job is marked failed with an error that starts ``interrupted:`` the next time any
process opens the store; ``runs list`` shows it as ``interrupted``. SQLite errors (a damaged
file, a writer holding the lock for more than 30 s) and rows that are not valid JSON become one
:class:`~qcompile.errors.QCompileError` line that says what to do (``qcompile runs repair``,
:mod:`qcompile.backends.store_repair`).

Location: ``$QCOMPILE_HOME/qcompile.db``, default ``~/.qcompile/qcompile.db``.
"""

from __future__ import annotations

import io
import json
import os
import socket
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

__all__ = ["ResultStore", "default_store_path", "process_alive", "INTERRUPTED"]

#: Prefix of the error of a run whose process ended before it finished.
INTERRUPTED = "interrupted:"
#: How long a command waits for another process's write lock.
BUSY_TIMEOUT_S = 30.0

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
CREATE TABLE IF NOT EXISTS jobs (
    id TEXT PRIMARY KEY,
    run_id TEXT,
    created TEXT NOT NULL,
    updated TEXT NOT NULL,
    backend TEXT NOT NULL,
    mode TEXT NOT NULL,
    local INTEGER NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('submitted', 'done', 'failed', 'cancelled')),
    shots INTEGER NOT NULL,
    num_circuits INTEGER NOT NULL,
    options TEXT NOT NULL,
    calibration TEXT,
    circuits BLOB NOT NULL,
    counts TEXT,
    error TEXT
);
CREATE TABLE IF NOT EXISTS sweep_points (
    sweep_id TEXT NOT NULL,
    point INTEGER NOT NULL,
    parameters TEXT NOT NULL,
    run_id TEXT NOT NULL,
    PRIMARY KEY (sweep_id, point)
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
        self._opened = False
        self._interrupted_on_open = 0

    @property
    def interrupted_on_open(self) -> int:
        """Runs found ``running`` with their process gone, marked interrupted on opening."""
        self.open()
        return self._interrupted_on_open

    def open(self) -> ResultStore:
        """Create the file and its schema on first use, not on construction: a command that
        refuses its arguments after naming the store leaves no file behind."""
        if self._opened:
            return self
        self._opened = True  # (set first: the schema is written through _connect itself)
        try:
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise QCompileError(
                    f"cannot create the results store's folder {self.path.parent}: "
                    f"{exc.strerror}; set QCOMPILE_HOME to a writable folder"
                ) from None
            with self._connect() as db:
                db.execute("PRAGMA journal_mode=WAL")  # readers never wait on a writer
                db.executescript(_SCHEMA)
                columns = {row["name"] for row in db.execute("PRAGMA table_info(runs)")}
                for column, kind in (("recipe", "TEXT"), ("owner_pid", "INTEGER"),
                                     ("owner_host", "TEXT")):  # fmt: skip
                    if column not in columns:  # stores written by earlier releases
                        db.execute(f"ALTER TABLE runs ADD COLUMN {column} {kind}")
            self._interrupted_on_open = self.mark_interrupted()
        except BaseException:
            self._opened = False
            raise
        return self

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        self.open()
        try:
            db = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_S)
        except sqlite3.Error as exc:
            raise self._error(exc) from None
        db.row_factory = sqlite3.Row
        try:
            with db:
                yield db
        except sqlite3.Error as exc:
            raise self._error(exc) from None
        finally:
            db.close()

    def _error(self, exc: sqlite3.Error) -> QCompileError:
        """One line that says what happened to the store and what to do."""
        text = str(exc)
        if "locked" in text or "busy" in text:
            return QCompileError(
                f"the results store {self.path} stayed locked by another process for "
                f"{BUSY_TIMEOUT_S:g} s; wait for it to finish (or stop it), then run this again"
            )
        if "readonly" in text or "unable to open" in text or "disk I/O" in text:
            return QCompileError(
                f"cannot write the results store {self.path} ({text}); make it writable or set "
                "QCOMPILE_HOME to a writable folder"
            )
        return QCompileError(
            f"the results store {self.path} is damaged ({text}); run `qcompile runs repair` "
            "(it keeps a copy and saves every readable row) or move the file away to start anew"
        )

    def _json(self, run_id: str, column: str, text: str | None) -> Any:
        try:
            return json.loads(text) if text else None
        except ValueError as exc:
            raise QCompileError(
                f"run {run_id}'s stored {column} is not valid JSON ({exc}); `qcompile runs "
                "repair` marks such rows failed (a copy of the store keeps the text)"
            ) from None

    def mark_interrupted(self) -> int:
        """Mark runs ``running`` whose owner process on this host is gone as failed with an
        ``interrupted:`` error; returns how many. Runs of other hosts, and runs with a job
        still ``submitted`` (``qcompile jobs fetch`` completes them), are left alone."""
        host = socket.gethostname()
        with self._connect() as db:
            rows = db.execute(  # a run waiting on a submitted job is fetched by its id later
                "SELECT id, owner_pid FROM runs WHERE status='running' AND owner_host=? AND NOT "
                "EXISTS (SELECT 1 FROM jobs WHERE jobs.run_id = runs.id AND "
                "jobs.status = 'submitted')",
                (host,),
            ).fetchall()
            dead = [r for r in rows if r["owner_pid"] and not process_alive(r["owner_pid"])]
            for row in dead:
                db.execute(
                    "UPDATE runs SET status='failed', error=?, updated=? WHERE id=? AND "
                    "status='running'",
                    (f"{INTERRUPTED} its process ({row['owner_pid']} on {host}) ended before "
                     "the run finished; `qcompile runs show` has the recipe to redo it",
                     _now(), row["id"]),
                )  # fmt: skip
        return len(dead)

    def start_run(
        self,
        protocol: str,
        backend: str,
        parameters: dict[str, Any],
        recipe: dict[str, Any] | None = None,
    ) -> str:
        """Record a run as ``running`` (with the recipe that can redo it) and return its id."""
        run_id = uuid.uuid4().hex[:12]
        now = _now()
        with self._connect() as db:
            db.execute(
                "INSERT INTO runs (id, created, updated, protocol, backend, status, parameters,"
                " recipe, owner_pid, owner_host) VALUES (?, ?, ?, ?, ?, 'running', ?, ?, ?, ?)",
                (
                    run_id,
                    now,
                    now,
                    protocol,
                    backend,
                    json.dumps(parameters),
                    json.dumps(recipe) if recipe is not None else None,
                    os.getpid(),
                    socket.gethostname(),
                ),
            )
        return run_id

    def finish_run(
        self, run_id: str, result: RunResult, sweep_point: tuple[str, int] | None = None
    ) -> None:
        """Complete a run; with ``sweep_point=(sweep_id, index)`` also record it as that point
        of the sweep, in the same transaction (a point already recorded raises)."""
        result.run_id = run_id
        with self._connect() as db:
            db.execute(
                "UPDATE runs SET status='done', result=?, updated=? WHERE id=?",
                (result.to_json(), _now(), run_id),
            )
            if sweep_point is not None:
                sweep_id, index = sweep_point
                db.execute(
                    "INSERT INTO sweep_points (sweep_id, point, parameters, run_id)"
                    " VALUES (?, ?, ?, ?)",
                    (sweep_id, index, json.dumps(result.parameters), run_id),
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
        data["parameters"] = self._json(run_id, "parameters", data["parameters"])
        data["recipe"] = self._json(run_id, "recipe", data.get("recipe"))
        if data["result"]:
            self._json(run_id, "result", data["result"])
            try:
                data["result"] = RunResult.from_json(data["result"])
            except (TypeError, KeyError, ValueError) as exc:
                raise QCompileError(
                    f"run {run_id}'s stored result does not have the fields of a run result "
                    f"({exc}); `qcompile runs show` cannot read it"
                ) from None
        else:
            data["result"] = None
        return data

    def latest_run(self, status: str | None = "done") -> str:
        """Id of the newest run (with ``status``, if given)."""
        query = "SELECT id FROM runs" + (" WHERE status=?" if status else "")
        with self._connect() as db:
            row = db.execute(
                query + " ORDER BY created DESC LIMIT 1", (status,) if status else ()
            ).fetchone()
        if row is None:
            raise QCompileError(f"no {status + ' ' if status else ''}run in {self.path} yet")
        return row["id"]

    # -- jobs ----------------------------------------------------------------------------------
    def add_job(
        self,
        job_id: str,
        *,
        run_id: str | None,
        backend: str,
        mode: str,
        local: bool,
        shots: int,
        circuits: Sequence[QuantumCircuit],
        options: dict[str, Any],
        calibration: str | None,
    ) -> None:
        """Remember a submitted job before anything waits on it."""
        buffer = io.BytesIO()
        qpy.dump(list(circuits), buffer)
        now = _now()
        with self._connect() as db:
            db.execute(
                "INSERT INTO jobs (id, run_id, created, updated, backend, mode, local, status,"
                " shots, num_circuits, options, calibration, circuits)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, 'submitted', ?, ?, ?, ?, ?)",
                (
                    job_id,
                    run_id,
                    now,
                    now,
                    backend,
                    mode,
                    int(local),
                    shots,
                    len(circuits),
                    json.dumps(options),
                    calibration,
                    buffer.getvalue(),
                ),
            )

    def job_done(self, job_id: str, counts: Sequence[dict[str, int]]) -> None:
        self._update_job(job_id, status="done", counts=json.dumps(list(counts)), error=None)

    def job_failed(self, job_id: str, error: str, status: str = "failed") -> None:
        self._update_job(job_id, status=status, error=error)

    def _update_job(self, job_id: str, **values: Any) -> None:
        columns = ", ".join(f"{k}=?" for k in values)
        with self._connect() as db:
            db.execute(
                f"UPDATE jobs SET {columns}, updated=? WHERE id=?",
                (*values.values(), _now(), job_id),
            )

    def get_job(self, job_id: str, *, with_circuits: bool = False) -> dict[str, Any]:
        """The stored job ``job_id``: options parsed, counts parsed (``None`` until fetched),
        circuits loaded from QPY with ``with_circuits``."""
        with self._connect() as db:
            row = db.execute("SELECT * FROM jobs WHERE id=?", (job_id,)).fetchone()
        if row is None:
            raise QCompileError(f"no job with id {job_id!r} in {self.path}")
        data = dict(row)
        blob = data.pop("circuits")
        data["local"] = bool(data["local"])
        data["options"] = self._json(job_id, "job options", data["options"])
        data["counts"] = self._json(job_id, "job counts", data["counts"])
        if with_circuits:
            data["circuits"] = qpy.load(io.BytesIO(blob))
        return data

    def list_jobs(self, limit: int = 20, run_id: str | None = None) -> list[dict[str, Any]]:
        """Jobs newest first (of one run, oldest first, with ``run_id``), without circuits."""
        columns = "id, run_id, created, updated, backend, mode, local, status, shots, num_circuits"
        with self._connect() as db:
            if run_id is None:
                rows = db.execute(
                    f"SELECT {columns} FROM jobs ORDER BY created DESC LIMIT ?", (limit,)
                ).fetchall()
            else:
                rows = db.execute(
                    f"SELECT {columns} FROM jobs WHERE run_id=? ORDER BY created, rowid",
                    (run_id,),
                ).fetchall()
        return [dict(row) | {"local": bool(row["local"])} for row in rows]

    # -- sweeps --------------------------------------------------------------------------------
    def sweep_points(self, sweep_id: str) -> dict[int, str]:
        """The points of ``sweep_id`` already recorded, index → run id."""
        with self._connect() as db:
            rows = db.execute(
                "SELECT point, run_id FROM sweep_points WHERE sweep_id=?", (sweep_id,)
            ).fetchall()
        return {row["point"]: row["run_id"] for row in rows}

    def interrupt_sweep_runs(self, sweep_id: str, keep: Sequence[str] = ()) -> int:
        """Mark runs of ``sweep_id`` left ``running`` by a killed sweep as failed (their
        points run again); returns how many."""
        marks = ",".join("?" * len(keep))
        query = (
            "UPDATE runs SET status='failed', error='interrupted: the sweep stopped before "
            "this point finished (it was run again on resume)', updated=? WHERE status='running'"
            " AND json_extract(recipe, '$.sweep[0]') = ?"
        )
        if keep:
            query += f" AND id NOT IN ({marks})"
        with self._connect() as db:
            cursor = db.execute(query, (_now(), sweep_id, *keep))
        return cursor.rowcount

    def list_runs(
        self,
        limit: int = 20,
        *,
        protocol: str | None = None,
        status: str | None = None,
        since: str | None = None,
    ) -> list[dict[str, Any]]:
        """The newest runs first: id, created, protocol, backend, status and ``interrupted``
        (a failed run whose process ended first); optionally only one protocol's, one
        status's (``interrupted`` too), or those created at or after ``since`` (ISO, UTC)."""
        clauses, values = [], []
        if status == "interrupted":
            clauses.append("status = 'failed' AND error LIKE ?")
            values.append(INTERRUPTED + "%")
            status = None
        for column, value, op in (("protocol", protocol, "="), ("status", status, "="),
                                  ("created", since, ">=")):  # fmt: skip
            if value is not None:
                clauses.append(f"{column} {op} ?")
                values.append(value)
        where = (" WHERE " + " AND ".join(clauses)) if clauses else ""
        with self._connect() as db:
            rows = db.execute(
                "SELECT id, created, protocol, backend, status, error FROM runs"
                + where
                + " ORDER BY created DESC LIMIT ?",
                (*values, limit),
            ).fetchall()
        listed = []
        for row in rows:
            data = dict(row)
            error = data.pop("error") or ""
            data["interrupted"] = data["status"] == "failed" and error.startswith(INTERRUPTED)
            listed.append(data)
        return listed


def process_alive(pid: int) -> bool:
    """True if a process ``pid`` exists on this host (a zombie counts until it is reaped).
    On Windows, where signal 0 would be CTRL_C_EVENT, every process counts as alive."""
    if os.name == "nt":
        return True
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError):
        return True  # someone else's process, or a pid this OS cannot have: leave it
    return True
