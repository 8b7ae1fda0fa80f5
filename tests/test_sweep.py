"""Parameter sweeps: grids, identical results to single runs, resume after kill -9, dask."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time

import pytest
from test_cli import run_cli

from qcompile.app.sweep import Grid, grid_points, parse_grid, plan_sweep, run_sweep
from qcompile.backends import ResultStore, get_backend
from qcompile.errors import InvalidParameter
from qcompile.protocols import homogenization
from qcompile.protocols.homogenization import run as run_experiment


def test_grids_parse_and_expand():
    assert parse_grid("alpha=0.1:0.9:5").values == pytest.approx((0.1, 0.3, 0.5, 0.7, 0.9))
    assert parse_grid("reservoir=2:8:4") == Grid("reservoir", (2, 4, 6, 8))
    assert parse_grid("reservoir=2:7:3").values == pytest.approx((2.0, 4.5, 7.0))
    assert parse_grid("gamma=0,5,10") == Grid("gamma", (0, 5, 10))
    assert parse_grid("input-state=+,-i,0") == Grid("input_state", ("+", "-i", 0))
    points = grid_points([parse_grid("alpha=0.2,0.4"), parse_grid("reservoir=2,3")], {"rounds": 1})
    assert points == [
        {"rounds": 1, "alpha": 0.2, "reservoir": 2},
        {"rounds": 1, "alpha": 0.2, "reservoir": 3},
        {"rounds": 1, "alpha": 0.4, "reservoir": 2},
        {"rounds": 1, "alpha": 0.4, "reservoir": 3},
    ]
    for bad in ("alpha", "alpha=", "alpha=0:1", "alpha=0:1:0", "alpha=a:b:3"):
        with pytest.raises(InvalidParameter, match="grid"):
            parse_grid(bad)
    with pytest.raises(InvalidParameter, match="at most once"):
        grid_points([parse_grid("alpha=1,2"), parse_grid("alpha=3")], {})
    with pytest.raises(InvalidParameter, match="not also fixed"):
        grid_points([parse_grid("alpha=1,2")], {"alpha": 0.5})


def test_bad_point_fails_before_anything_runs():
    points = grid_points([parse_grid("reservoir=2,0")], {"alpha": 0.5})
    with pytest.raises(InvalidParameter, match="sweep point 1"):
        plan_sweep("homogenization", points, "aer", shots=None, seed=1)


def test_sweep_points_equal_single_runs_and_resume_from_the_store():
    from concurrent.futures import ThreadPoolExecutor

    store = ResultStore()
    points = grid_points([parse_grid("alpha=0.3,0.6")], {"reservoir": 2})
    plan = plan_sweep("homogenization", points, "aer:fake_manila", shots=500, seed=7)
    with ThreadPoolExecutor(2) as pool:
        first = run_sweep(plan, store, executor=pool)
        again = run_sweep(plan, store, executor=pool)
    assert (first.ran, first.skipped, again.ran, again.skipped) == (2, 0, 0, 2)
    assert [r.run_id for r in first.results] == [r.run_id for r in again.results]
    for index, result in enumerate(first.results):
        single = run_experiment(
            homogenization(alpha=points[index]["alpha"], reservoir=2),
            get_backend("aer:fake_manila"),
            shots=500,
            seed=7 + index,
        )
        assert result.observables == single.observables  # seeded: identical numbers
    assert len(store.list_runs()) == 2


def _recorded(db, sweep_id=None) -> int:
    if not db.exists():
        return 0
    try:
        with sqlite3.connect(db, timeout=5) as con:
            return con.execute("SELECT count(*) FROM sweep_points").fetchone()[0]
    except sqlite3.OperationalError:
        return 0


def _processes_of(home) -> list[int]:
    """Processes other than this one whose environment names the store ``home`` (Linux)."""
    marker = f"QCOMPILE_HOME={home}".encode()
    found = []
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            with open(f"/proc/{entry.name}/environ", "rb") as f:
                if marker in f.read().split(b"\0"):
                    found.append(int(entry.name))
        except OSError:  # gone, or not ours to read
            continue
    return found


def test_killed_sweep_resumes_with_nothing_lost_or_duplicated(isolated_store):
    args = ["sweep", "homogenization", "--grid", "alpha=0.1:0.8:8", "--param", "reservoir=3"]
    args += ["--backend", "aer:fake_manila", "--shots", "300", "--workers", "2", "--seed", "3"]
    process = subprocess.Popen(
        [sys.executable, "-m", "qcompile.cli", *args],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    db = isolated_store / "qcompile.db"
    try:
        start = time.monotonic()
        while _recorded(db) < 2 and process.poll() is None and time.monotonic() - start < 120:
            time.sleep(0.02)
        assert process.poll() is None, "the sweep finished before it could be killed"
        os.kill(process.pid, signal.SIGKILL)  # the main process only: workers must follow
    finally:
        process.wait()
    # the workers must follow their parent: wait (with a deadline) until no process of this
    # store is left, then nothing more may have been recorded
    deadline = time.monotonic() + 60
    while _processes_of(isolated_store) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert not _processes_of(isolated_store), "orphaned sweep workers outlived the sweep"
    killed_at = _recorded(db)
    assert 2 <= killed_at < 8

    done = subprocess.run(
        [sys.executable, "-m", "qcompile.cli", *args], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    assert f"({killed_at} read from the store, {8 - killed_at} run)" in done.stdout
    with sqlite3.connect(db) as con:
        points = con.execute("SELECT point, run_id FROM sweep_points").fetchall()
        statuses = dict(
            con.execute(
                "SELECT status, count(*) FROM runs WHERE json_extract(recipe, '$.sweep[0]')"
                " IS NOT NULL GROUP BY status"
            ).fetchall()
        )
    assert sorted(p for p, _ in points) == list(range(8))
    assert statuses["done"] == 8  # one finished run per point, no duplicate
    assert set(statuses) <= {"done", "failed"}  # interrupted points are marked, not running
    store = ResultStore()
    for _, run_id in points:
        assert store.get_run(run_id)["status"] == "done"


def test_sweep_on_a_dask_cluster():
    distributed = pytest.importorskip("distributed")
    from qcompile.app.sweep import open_executor

    with distributed.LocalCluster(
        n_workers=1, threads_per_worker=2, processes=False, protocol="tcp", dashboard_address=None
    ) as cluster:
        address = cluster.scheduler_address.replace("tcp://", "dask://")
        executor, shares_store = open_executor(address)
        assert not shares_store
        store = ResultStore()
        points = grid_points([parse_grid("alpha=0.25,0.75")], {"reservoir": 2})
        plan = plan_sweep("homogenization", points, "aer", shots=None, seed=1)
        result = run_sweep(plan, store, executor=executor, shares_store=False)
        executor.shutdown()
    assert result.ran == 2
    for point, run in zip(points, result.results, strict=True):
        exact = homogenization(**point).reference()["system_fidelity"]
        assert run.observables["system_fidelity"] == pytest.approx(exact, abs=1e-9)
        assert store.get_run(run.run_id)["status"] == "done"
    assert store.sweep_points(plan.sweep_id) == {0: result.results[0].run_id,
                                                 1: result.results[1].run_id}  # fmt: skip


def test_sweep_cli_errors(capsys):
    assert run_cli("sweep", "homogenization", "--grid", "alpha=1:2") == 2
    assert "--grid='alpha=1:2'" in capsys.readouterr().err
    assert run_cli("sweep", "nope", "--grid", "alpha=1,2") == 2
    assert "--protocol='nope'" in capsys.readouterr().err
    assert run_cli("sweep", "homogenization", "--grid", "alpha=1,2", "--executor", "mpi") == 2
    assert "--executor='mpi'" in capsys.readouterr().err


XXZ = str(__import__("pathlib").Path(__file__).parents[1] / "examples" / "xxz_chain.toml")


@pytest.mark.parametrize(
    ("args", "flag"),
    [
        (("coherent-feedback", "--grid", "gamma=1,2", "--param", "dt=0.1", "--backend", "aer",
          "--option", "device_every=0"), "--device-every=0"),
        (("coherent-feedback", "--grid", "gamma=1,2", "--param", "dt=0.1", "--backend", "aer",
          "--option", "rule=sideways"), "--rule='sideways'"),
        (("dissipative-qubits", "--grid", "J=1,2", "--backend", "aer", "--option",
          "heom_depth=2"), "--heom-depth=2"),
        (("ising-memory", "--grid", "size=2,3", "--backend", "reference", "--option", "zne=1,3"),
         "--zne"),
        (("lindblad", "--grid", "t_max=1,2", "--param", f"model={XXZ}", "--backend", "aer",
          "--option", "estimator=maybe"), "--estimator='maybe'"),
        (("homogenization", "--grid", "alpha=0.2,0.4", "--param", "reservoir=3", "--backend",
          "aer", "--option", "zne=1,3"), "--zne"),
    ],
)  # fmt: skip
def test_a_sweep_refuses_a_bad_run_option_before_it_starts(args, flag, capsys):
    """Every point's run options are checked by the runner's own checks (``check``: running
    nothing) before the sweep is planned: one line naming the option, no run and no sweep
    stored."""
    from qcompile.backends import ResultStore

    assert run_cli("sweep", *args) == 2
    assert flag in capsys.readouterr().err
    assert ResultStore().list_runs() == []


def test_gkp_sigma_sweep_on_aer_matches_the_exact_trend(tmp_path):
    """A sweep of a protocol without a fixed qubit register (GKP on the compiled grid step):
    every point runs, and the circuit rate grows with σ as the exact torus rate does (a coarse
    5-qubit grid, passed as run options: a large but positive truncation bias)."""
    import json

    path = tmp_path / "sweep.json"
    assert run_cli("sweep", "gkp", "--grid", "sigma=0,0.02", "--param", "noise=quadrature",
                   "--backend", "aer", "--workers", "1", "--option", "grid_qubits=5",
                   "--option", "horizon=20", "--json", str(path)) == 0  # fmt: skip
    points = json.loads(path.read_text())["points"]
    rates = [p["observables"]["rate"] for p in points]
    exact = [p["reference"]["torus_rate"] for p in points]
    assert exact[1] > exact[0] and rates[1] > rates[0]
    assert all(r > e for r, e in zip(rates, exact, strict=True))  # truncation bias > 0
