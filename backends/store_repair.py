"""``qcompile runs repair``: save what can be read from a damaged results store.

The store is first copied aside (``qcompile.db.broken-<UTC time>``, with its ``-wal`` file),
so repair never loses anything that was there. Then:

* a file SQLite cannot check (not a database, a malformed page): every row that can still be
  read, table by table and row by row, goes into a new store that replaces the old one;
* rows whose ``parameters``, ``recipe`` or ``result`` are not valid JSON become ``failed``
  runs whose error says so (the original text stays in the copy);
* runs whose process is gone are marked interrupted, as every command does.

The report says how many rows were kept, lost and marked.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
from contextlib import closing
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from qcompile.backends.store import ResultStore, default_store_path
from qcompile.errors import QCompileError

__all__ = ["repair_store"]

_TABLES = ("runs", "jobs", "sweep_points", "circuits")
_JSON_COLUMNS = ("parameters", "recipe", "result")


def _backup(path: Path) -> Path:
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S")
    copy = path.with_name(f"{path.name}.broken-{stamp}")
    for suffix in ("", "-wal", "-shm"):
        source = Path(str(path) + suffix)
        if source.exists():
            shutil.copy2(source, Path(str(copy) + suffix))
    return copy


def _healthy(path: Path) -> bool:
    try:
        with closing(sqlite3.connect(path)) as db:
            return db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    except sqlite3.Error:
        return False


def _readable_rows(db: sqlite3.Connection, table: str) -> tuple[list[tuple], int]:
    """Rows of ``table`` that can be read, and how many could not (row by row when a bulk
    read fails part-way)."""
    try:
        return db.execute(f"SELECT * FROM {table}").fetchall(), 0
    except sqlite3.Error:
        pass
    try:
        ids = [r[0] for r in db.execute(f"SELECT rowid FROM {table}").fetchall()]
    except sqlite3.Error:
        return [], 1
    rows, lost = [], 0
    for rowid in ids:
        try:
            rows.append(db.execute(f"SELECT * FROM {table} WHERE rowid=?", (rowid,)).fetchone())
        except sqlite3.Error:
            lost += 1
    return rows, lost


def _salvage(path: Path, report: dict[str, Any]) -> None:
    """Copy every readable row into a fresh store, which then replaces ``path``."""
    fresh = path.with_name(path.name + ".repairing")
    fresh.unlink(missing_ok=True)
    ResultStore(fresh).open()  # the current schema
    try:
        old = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        tables = {r[0] for r in old.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    except sqlite3.Error:
        tables = set()  # not a database at all: nothing to read
    new = sqlite3.connect(fresh)
    with new:
        new_columns = {t: [r[1] for r in new.execute(f"PRAGMA table_info({t})")] for t in _TABLES}
        for table in _TABLES:
            if table not in tables:
                continue
            cursor = old.execute(f"SELECT * FROM {table} LIMIT 0")
            names = [d[0] for d in cursor.description]
            rows, lost = _readable_rows(old, table)
            shared = [n for n in names if n in new_columns[table]]
            marks = ", ".join("?" * len(shared))
            kept = 0
            for row in rows:
                values = dict(zip(names, row, strict=True))
                try:
                    new.execute(
                        f"INSERT OR IGNORE INTO {table} ({', '.join(shared)}) VALUES ({marks})",
                        [values[n] for n in shared],
                    )
                    kept += 1
                except sqlite3.Error:
                    lost += 1
            report["kept"][table] = kept
            report["lost"][table] = lost
    new.close()  # also checkpoints and removes its WAL
    if tables:
        old.close()
    for suffix in ("-wal", "-shm"):
        Path(str(path) + suffix).unlink(missing_ok=True)
        Path(str(fresh) + suffix).unlink(missing_ok=True)
    fresh.replace(path)


def _mark_bad_json(path: Path) -> int:
    """Runs whose JSON columns do not parse become failed runs that say so."""
    marked = 0
    with closing(sqlite3.connect(path)) as db, db:
        rows = db.execute("SELECT id, parameters, recipe, result FROM runs").fetchall()
        for run_id, *texts in rows:
            bad = []
            for column, text in zip(_JSON_COLUMNS, texts, strict=True):
                try:
                    if text:
                        json.loads(text)
                except ValueError:
                    bad.append(column)
            if bad:
                db.execute(
                    "UPDATE runs SET status='failed', result=NULL, error=?, parameters=? "
                    "WHERE id=?",
                    (f"repair: the stored {', '.join(bad)} was not valid JSON (the text is in "
                     "the copy made before repair)",
                     texts[0] if "parameters" not in bad else "{}", run_id),
                )  # fmt: skip
                marked += 1
    return marked


def repair_store(path: str | Path | None = None) -> dict[str, Any]:
    """Repair the store at ``path`` (default: the user's store); returns the report:
    ``backup``, ``salvaged`` (the file was rebuilt), ``kept``/``lost`` rows per table,
    ``bad_json`` runs marked failed, ``interrupted`` runs marked."""
    path = Path(path) if path is not None else default_store_path()
    if not path.exists():
        raise QCompileError(f"no results store at {path}: nothing to repair")
    report: dict[str, Any] = {"path": str(path), "backup": str(_backup(path)),
                              "salvaged": False, "kept": {}, "lost": {}}  # fmt: skip
    if not _healthy(path):
        _salvage(path, report)
        report["salvaged"] = True
    report["bad_json"] = _mark_bad_json(path)
    report["interrupted"] = ResultStore(path).interrupted_on_open
    return report
