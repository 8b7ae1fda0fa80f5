"""The results store under damage (issue 15): a killed owner, a damaged file, unreadable JSON, an
old schema, a held lock — one line that says what to do, and ``runs repair`` loses nothing."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import textwrap

import pytest
from test_cli import run_cli

from qcompile.backends.store import ResultStore
from qcompile.backends.store_repair import repair_store
from qcompile.errors import QCompileError
from qcompile.results import RunResult


def _result(protocol: str = "lindblad") -> RunResult:
    return RunResult(protocol=protocol, parameters={"x": 1}, backend="reference", seed=1,
                     shots=None, circuit={}, observables={"z": [1.0]}, ideal={},
                     reference={})  # fmt: skip


def test_a_run_whose_process_was_killed_is_marked_interrupted_by_the_next_command(
    isolated_store, capsys
):
    """kill -9 of the process that owns a ``running`` run: the next command marks it failed
    with an ``interrupted:`` error; ``runs list`` shows ``interrupted``; a live owner's run and
    another host's run are left alone."""
    code = textwrap.dedent(f"""
        import sys, time
        from qcompile.backends.store import ResultStore
        run_id = ResultStore({str(isolated_store / "qcompile.db")!r}).start_run(
            "lindblad", "reference", {{}})
        print(run_id, flush=True)
        time.sleep(600)
    """)
    child = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    try:
        killed = child.stdout.readline().strip()
    finally:
        child.kill()
        child.wait()
    store = ResultStore()  # this process is alive: its own run stays running
    mine = store.start_run("lindblad", "reference", {})
    with sqlite3.connect(store.path) as db:
        db.execute("INSERT INTO runs (id, created, updated, protocol, backend, status, parameters,"
                   " owner_pid, owner_host) VALUES ('elsewhere', '2026', '2026', 'lindblad', "
                   "'reference', 'running', '{}', ?, 'another-host')",
                   (child.pid,))  # fmt: skip
    assert run_cli("runs", "list") == 0
    assert ResultStore().interrupted_on_open == 0  # marked once, by the command above
    rows = {r["id"]: r for r in ResultStore().list_runs(10)}
    assert rows[killed]["status"] == "failed" and rows[killed]["interrupted"]
    assert rows[mine]["status"] == "running" and rows["elsewhere"]["status"] == "running"
    assert ResultStore().get_run(killed)["error"].startswith("interrupted:")
    capsys.readouterr()
    assert run_cli("runs", "list", "--status", "interrupted") == 0
    listed = capsys.readouterr().out
    assert killed in listed and mine not in listed
    assert run_cli("compare", killed) == 2  # points at the recipe, not at `jobs fetch`
    err = capsys.readouterr().err
    assert "interrupted" in err and f"runs show {killed}" in err and "jobs fetch" not in err
    assert run_cli("compare", mine) == 2
    assert "still running" in capsys.readouterr().err


def test_a_store_from_before_owners_and_recipes_opens_and_keeps_its_runs(isolated_store):
    """The first schema (no recipe, no owner columns): columns are added, rows kept."""
    isolated_store.mkdir(parents=True)
    with sqlite3.connect(isolated_store / "qcompile.db") as db:
        db.execute("CREATE TABLE runs (id TEXT PRIMARY KEY, created TEXT NOT NULL, updated TEXT "
                   "NOT NULL, protocol TEXT NOT NULL, backend TEXT NOT NULL, status TEXT NOT NULL "
                   "CHECK (status IN ('running', 'done', 'failed')), parameters TEXT NOT NULL, "
                   "result TEXT, error TEXT)")  # fmt: skip
        db.execute("INSERT INTO runs VALUES ('old', '2025', '2025', 'lindblad', 'reference', "
                   "'done', '{}', ?, NULL)", (_result().to_json(),))  # fmt: skip
    row = ResultStore().get_run("old")
    assert row["result"].observables == {"z": [1.0]} and row["recipe"] is None


@pytest.mark.parametrize("damage", ["garbage", "truncated"])
def test_a_damaged_file_is_one_line_and_repair_saves_every_readable_row(
    isolated_store, capsys, damage
):
    store = ResultStore()
    ids = [store.start_run("lindblad", "reference", {"i": i}) for i in range(40)]
    for run_id in ids:
        store.finish_run(run_id, _result())
    with sqlite3.connect(store.path) as db:
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    size = store.path.stat().st_size
    data = bytearray(store.path.read_bytes())
    if damage == "garbage":
        data[:] = b"this is not a database " * 40
    else:  # a page in the middle overwritten: the schema survives, some rows do not
        data[size // 2 : size // 2 + 1024] = b"\xff" * 1024
    store.path.write_bytes(bytes(data))
    readable = _readable_ids(store.path, ids)
    if damage == "garbage":
        assert readable == set()
    else:
        assert readable  # the schema survives, and rows with it

    code = run_cli("runs", "list")
    err = capsys.readouterr().err
    if damage == "garbage":  # the file is not a database: every command says so
        assert code == 2 and "runs repair" in err and "Traceback" not in err
    report = repair_store()
    assert report["salvaged"]
    backup = report["backup"]
    assert open(backup, "rb").read() == bytes(data)  # nothing lost: the copy is the old file
    assert run_cli("runs", "list", "--limit", "100") == 0
    kept = ResultStore().list_runs(100)
    # every row that could be read from the damaged file (each probed on its own, by its id,
    # independently of the repair) is kept, with its result; none is invented
    assert {r["id"] for r in kept} >= readable
    assert {r["id"] for r in kept} <= set(ids) and report["kept"].get("runs", 0) == len(kept)
    assert all(ResultStore().get_run(r["id"])["result"] is not None for r in kept)


def _readable_ids(path, ids: list[str]) -> set[str]:
    """The runs whose row and result JSON a read-only connection can still read, one by one."""
    readable = set()
    try:
        db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    except sqlite3.Error:
        return readable
    for run_id in ids:
        try:
            row = db.execute("SELECT result FROM runs WHERE id = ?", (run_id,)).fetchone()
            if row and row[0] and json.loads(row[0]) is not None:
                readable.add(run_id)
        except (sqlite3.Error, ValueError):
            continue
    db.close()
    return readable


def test_unreadable_json_is_one_line_and_repair_marks_the_run_failed(isolated_store, capsys):
    store = ResultStore()
    good, bad = (store.start_run("lindblad", "reference", {}) for _ in range(2))
    store.finish_run(good, _result())
    with sqlite3.connect(store.path) as db:
        db.execute("UPDATE runs SET status='done', result='{not json' WHERE id=?", (bad,))
    assert run_cli("runs", "show", bad) == 2
    err = capsys.readouterr().err
    assert "not valid JSON" in err and "runs repair" in err and "Traceback" not in err
    assert run_cli("runs", "repair") == 0
    assert "marked failed: 1" in capsys.readouterr().out
    row = ResultStore().get_run(bad)
    assert row["status"] == "failed" and row["error"].startswith("repair:")
    assert ResultStore().get_run(good)["result"].observables == {"z": [1.0]}


def test_a_lock_held_too_long_is_one_line(isolated_store, monkeypatch, capsys):
    import qcompile.backends.store as store_module

    store = ResultStore().open()
    monkeypatch.setattr(store_module, "BUSY_TIMEOUT_S", 0.2)
    holder = sqlite3.connect(store.path)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        with pytest.raises(QCompileError, match="locked by another process for 0.2 s"):
            store.start_run("lindblad", "reference", {})
    finally:
        holder.rollback()
        holder.close()
    assert json.loads(json.dumps(store.list_runs(5))) == []


def test_an_unwritable_home_is_one_line(tmp_path, monkeypatch, capsys):
    home = tmp_path / "home"
    home.write_text("a file where the folder should be")
    monkeypatch.setenv("QCOMPILE_HOME", str(home / "sub"))
    assert run_cli("runs", "list") == 2
    err = capsys.readouterr().err
    assert "QCOMPILE_HOME" in err and "Traceback" not in err
