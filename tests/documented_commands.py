"""The ``qcompile`` commands printed in the README and the docs, as the tests run them.

A command is a line (with its ``\\`` continuations) of a ```` ```bash ```` block that calls
``qcompile`` (``python -m pip install . && qcompile ...`` keeps only the ``qcompile`` part:
the test environment is installed already). ```` ```text ```` blocks hold syntax summaries
(``qcompile jobs fetch JOB_ID``) and are not run.

A command that takes more than ~30 s carries its expected time as a trailing comment,
``# ~250 s`` or ``# ~4 min``: it runs in the ``slow`` suite and must finish within twice
that (plus a minute). An unlabelled command runs in the default suite and must finish within
:data:`UNLABELLED_LIMIT_S`.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
#: an unlabelled command must finish within this many seconds
UNLABELLED_LIMIT_S = 60.0
#: a label under this many seconds is not worth the slow suite (the command is mislabelled)
SLOW_LABEL_MIN_S = 30.0

_FENCE = re.compile(r"^(\s*)```+\s*([\w+-]*)")
_LABEL = re.compile(r"#\s*~\s*(\d+(?:\.\d+)?)\s*(s|min)\b")


@dataclass(frozen=True)
class DocumentedCommand:
    """One runnable command of a page: where it is printed and how long it says it takes."""

    page: str  # path relative to the repository root
    line: int  # 1-based line of its first line
    command: str  # the shell command, continuations joined, comment removed
    label_s: float | None  # the expected time it is labelled with, if any

    @property
    def slow(self) -> bool:
        return self.label_s is not None

    def __str__(self) -> str:
        return f"{self.page}:{self.line}"


def documented_pages() -> list[Path]:
    """The README and every page of the docs site."""
    return [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]


def _strip_comment(line: str) -> tuple[str, str]:
    """Split a shell line into (code, comment) at the first ``#`` outside quotes."""
    lexer = shlex.shlex(line, posix=True, punctuation_chars=False)
    lexer.commenters = ""
    quote = None
    for index, char in enumerate(line):
        if quote:
            if char == quote:
                quote = None
        elif char in "'\"":
            quote = char
        elif char == "#" and (index == 0 or line[index - 1].isspace()):
            return line[:index].rstrip(), line[index:]
    return line.rstrip(), ""


def _calls_qcompile(code: str) -> str | None:
    """The ``qcompile ...`` part of a command line, or None."""
    for part in code.split("&&"):
        part = part.strip()
        if part.startswith("qcompile ") or part == "qcompile":
            return part
        if part.startswith("python -m qcompile"):
            return part
    return None


def commands_of(page: Path) -> list[DocumentedCommand]:
    """Every runnable ``qcompile`` command of one page, in the order printed."""
    found: list[DocumentedCommand] = []
    lines = page.read_text(encoding="utf-8").splitlines()
    in_block, language = False, ""
    pending: list[str] = []
    start = 0
    relative = page.relative_to(ROOT).as_posix()
    for number, raw in enumerate(lines, start=1):
        fence = _FENCE.match(raw)
        if fence:
            in_block, language = (not in_block), fence.group(2).lower()
            pending = []
            continue
        if not in_block or language not in ("bash", "sh", "shell", "console"):
            continue
        code, comment = _strip_comment(raw)
        if not pending:
            start = number
        if code.endswith("\\"):
            pending.append(code[:-1].strip())
            continue
        pending.append(code.strip())
        whole = " ".join(part for part in pending if part)
        pending = []
        call = _calls_qcompile(whole)
        if call is None:
            continue
        label = _LABEL.search(comment)
        seconds = None
        if label:
            seconds = float(label.group(1)) * (60 if label.group(2) == "min" else 1)
        found.append(DocumentedCommand(relative, start, call, seconds))
    return found


def all_commands() -> list[DocumentedCommand]:
    return [command for page in documented_pages() for command in commands_of(page)]


if __name__ == "__main__":  # list them: python tests/documented_commands.py
    for command in all_commands():
        label = f"  [~{command.label_s:.0f} s]" if command.slow else ""
        print(f"{command}: {command.command}{label}")
