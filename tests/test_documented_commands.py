"""Every ``qcompile`` command printed in the README and the docs runs as printed (issue 32).

Each page's commands run in order, from a fresh copy of the repository (the commands name
files such as ``examples/xxz_chain.toml``) with a store of their own. Unlabelled commands run
here, in-process, and must finish within ``UNLABELLED_LIMIT_S``; a command labelled with its
expected time (``# ~4 min``) runs in the ``slow`` suite, as a subprocess, and must finish
within twice that plus a minute — and not in under a quarter of it (a label that is wrong
either way fails). See :mod:`documented_commands` for what counts as a command.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from documented_commands import (
    ROOT,
    SLOW_LABEL_MIN_S,
    UNLABELLED_LIMIT_S,
    DocumentedCommand,
    all_commands,
    documented_pages,
)
from test_cli import run_cli

COMMANDS = all_commands()
PAGES = sorted({c.page for c in COMMANDS})
SLOW = [c for c in COMMANDS if c.slow]
#: words that mark a syntax summary, not a command (those belong in ```text blocks)
PLACEHOLDER = re.compile(r"\b(RUN_ID|JOB_ID|PROTOCOL|PATH)\b|\[--|\bP\b")


def _copy_of_the_repository(target: Path) -> Path:
    """The tracked files of the repository (its working-tree versions), symlinks kept."""
    listed = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=False)
    names = [n for n in listed.stdout.decode().split("\0") if n] if listed.returncode == 0 else []
    if not names:  # not a git checkout: everything but caches and the VCS
        ignore = shutil.ignore_patterns(".git", "__pycache__", "*.egg-info")
        shutil.copytree(ROOT, target, symlinks=True, ignore=ignore)
        return target
    for name in names:
        source, destination = ROOT / name, target / name
        if not source.exists() and not source.is_symlink():
            continue  # deleted in the working tree
        destination.parent.mkdir(parents=True, exist_ok=True)
        if source.is_symlink():
            os.symlink(os.readlink(source), destination)
        else:
            shutil.copy2(source, destination)
    return target


def _arguments(command: DocumentedCommand) -> list[str]:
    words = shlex.split(command.command)
    if words[:3] == ["python", "-m", "qcompile"]:
        return words[3:]
    assert words[0] == "qcompile", command
    return words[1:]


def test_the_docs_print_commands():
    """The extraction finds the commands (a guard against testing nothing), the README's
    main job among them, and no bash block holds a syntax summary."""
    assert len(COMMANDS) >= 30 and len(PAGES) >= 8
    readme = [c for c in COMMANDS if c.page == "README.md"]
    assert readme and readme[0].command.startswith("qcompile run homogenization")
    summaries = [str(c) for c in COMMANDS if PLACEHOLDER.search(c.command)]
    assert not summaries, f"syntax summaries in ```bash blocks (use ```text): {summaries}"
    assert all(p.exists() for p in documented_pages())


def test_labels_are_long_enough_to_need_one():
    short = [f"{c} (~{c.label_s:.0f} s)" for c in SLOW if c.label_s < SLOW_LABEL_MIN_S]
    assert not short, f"labelled under {SLOW_LABEL_MIN_S:.0f} s (drop the label): {short}"


@pytest.mark.parametrize("page", PAGES)
def test_the_commands_of_a_page_run_as_printed(page, tmp_path, monkeypatch, capsys):
    commands = [c for c in COMMANDS if c.page == page and not c.slow]
    if not commands:
        pytest.skip(f"{page}: every command is labelled slow")
    copy = _copy_of_the_repository(tmp_path / "repository")
    monkeypatch.chdir(copy)
    monkeypatch.setenv("QCOMPILE_HOME", str(tmp_path / "home"))
    for command in commands:
        start = time.perf_counter()
        code = run_cli(*_arguments(command))
        elapsed = time.perf_counter() - start
        printed = capsys.readouterr()
        assert code == 0, f"{command}: `{command.command}` exited {code}:\n{printed.err[-2000:]}"
        assert elapsed <= UNLABELLED_LIMIT_S, (
            f"{command}: `{command.command}` took {elapsed:.0f} s: label it with its time "
            f"(# ~{elapsed:.0f} s) so that it runs in the slow suite"
        )


@pytest.mark.slow
@pytest.mark.parametrize("command", SLOW, ids=str)
def test_a_labelled_command_runs_in_its_time(command, tmp_path):
    copy = _copy_of_the_repository(tmp_path / "repository")
    env = dict(os.environ, QCOMPILE_HOME=str(tmp_path / "home"))
    start = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-m", "qcompile", *_arguments(command)],
        cwd=copy, env=env, capture_output=True, text=True,
    )  # fmt: skip
    elapsed = time.perf_counter() - start
    assert result.returncode == 0, f"{command}: `{command.command}`:\n{result.stderr[-2000:]}"
    assert command.label_s / 4 <= elapsed <= 2 * command.label_s + 60, (
        f"{command}: labelled ~{command.label_s:.0f} s, took {elapsed:.0f} s"
    )


def _measured_table(page: str, command_start: str) -> tuple[str, list[list[str]]]:
    """The command named by a ``<!-- measured: ... -->`` marker and the table under it."""
    text = (ROOT / page).read_text()
    found = re.search(r"<!-- measured: (qcompile [^>]*?) -->\n((?:\|.*\n)+)", text)
    assert found and found.group(1).startswith(command_start), f"{page}: no measured table"
    rows = [[c.strip() for c in line.strip("|").split("|")] for line in found.group(2).splitlines()]
    return found.group(1), rows[2:]  # the header and its rule dropped


@pytest.mark.slow
def test_the_recoverability_table_is_what_its_command_prints(tmp_path):
    """The docs' measured recoverability table is reproduced by the command it names (the run
    is deterministic given its seed: issue 32 found the old table stale, not random)."""
    import json

    command, rows = _measured_table(
        "docs/protocols/homogenization.md", "qcompile run homogenization"
    )
    path = tmp_path / "r.json"
    env = dict(os.environ, QCOMPILE_HOME=str(tmp_path / "home"))
    result = subprocess.run(
        [sys.executable, "-m", "qcompile", *shlex.split(command)[1:], "--json", str(path)],
        cwd=ROOT, env=env, capture_output=True, text=True,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-2000:]
    block = json.loads(path.read_text())["recoverability"]
    exact, measured = block["reference"], block["measured"]
    for row in rows:
        k = int(row[0])
        i, j = exact["k"].index(k), measured["k"].index(k)
        printed = [
            f"{exact['delta'][i]:.4f}",
            f"{measured['delta'][j]:.3f} ± {measured['delta_stderr'][j]:.3f}",
            f"{exact['recovery_fidelity'][i]:.4f}",
            f"{measured['recovery_fidelity'][j]:.3f} ± "
            f"{measured['recovery_fidelity_stderr'][j]:.3f}",
            f"{exact['recovery_error'][i]:.3f}",
            f"{measured['recovery_error'][j]:.3f}",
        ]
        assert row[1:] == printed, f"k = {k}: docs {row[1:]}, command {printed}"
