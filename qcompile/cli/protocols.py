"""``qcompile protocols``: every registered protocol with its parameters and run options —
as tables, as JSON (``--json``), or as the Markdown reference of the docs site
(``--markdown``; ``docs/hooks.py`` builds the docs' tables from it), each generated from the
plugins' declarations (:class:`~qcompile.protocols.parameters.Parameter`) and the flags of
the generated ``qcompile run`` commands, so the docs cannot drift from what runs."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from qcompile.cli.common import (
    JsonPath,
    _check_output_path,
    app,
    out,
    run_app,
    write_json_output,
)

MarkdownPath = Annotated[
    Path | None,
    typer.Option("--markdown", help="Write the Markdown reference of every protocol here."),
]


#: Where the README's generated reference started and ended. Deprecated: the reference moved
#: to the docs site (``docs/hooks.py``); kept so that scripts reading it keep working.
README_MARKERS = ("<!-- protocols:begin (qcompile protocols --markdown) -->",
                  "<!-- protocols:end -->")  # fmt: skip


def _cell(value: object) -> str:
    text = "—" if value in (None, "") else str(value)
    return text.replace("|", "\\|")


def _flags(command, p) -> str:
    """How ``qcompile run NAME`` spells parameter ``p`` (its generated option's flags)."""
    for option in getattr(command, "params", ()):
        if option.name in (p.name, "protocol_" + p.name):
            return ", ".join(f"`{flag}`" for flag in option.opts + option.secondary_opts)
    return f"`--{p.name.replace('_', '-')}`"


def markdown_reference() -> str:
    """Every registered protocol as a Markdown section: its summary, then one table of its
    parameters and run options (flag, type, default, allowed values; unit and spec section
    where declared)."""
    from qcompile.protocols import PROTOCOLS

    commands = typer.main.get_command(run_app).commands
    lines = []
    for name, plugin in sorted(PROTOCOLS.items()):
        command = commands.get(name)
        lines += [f"#### `{name}` — {plugin.SUMMARY}", ""]
        declared = [(p, "parameter") for p in plugin.PARAMETERS]
        declared += [(p, "run option") for p in getattr(plugin, "RUN_OPTIONS", ())]
        extra = [c for c in ("unit", "spec") if any(getattr(p, c) for p, _ in declared)]
        header = ["flag", "kind", "type", "default", "allowed", *extra]
        lines += ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
        for p, kind in declared:
            row = [_flags(command, p), kind, p.kind, p.default, p.allowed,
                   *(getattr(p, c) for c in extra)]  # fmt: skip
            lines.append("| " + " | ".join(_cell(v) if i else v for i, v in enumerate(row)) + " |")
        lines.append("")
    return "\n".join(lines)


@app.command("protocols")
def protocols_command(json_path: JsonPath = None, markdown: MarkdownPath = None) -> None:
    """List protocols with their parameters and allowed ranges."""
    from qcompile.protocols import PROTOCOLS

    _check_output_path("json", json_path)
    _check_output_path("markdown", markdown)
    if markdown:
        from qcompile.results import write_atomic

        write_atomic(markdown, markdown_reference().encode())
    listing = {}
    for name, module in PROTOCOLS.items():
        table = Table(title=f"{name} — {module.SUMMARY}", title_justify="left")
        for column in ("parameter", "type", "default", "allowed"):
            table.add_column(column)
        for p in module.PARAMETERS:
            table.add_row(
                "--" + p.name.replace("_", "-"),
                p.kind,
                "—" if p.default is None else str(p.default),
                p.allowed,
            )
        run_options = getattr(module, "RUN_OPTIONS", ())
        for p in run_options:  # `sweep --option name=value`, and the run command's flags
            table.add_row(f"option {p.name}", p.kind, "—", p.allowed)
        out.print(table)
        listing[name] = {
            "summary": module.SUMMARY,
            "parameters": [p.__dict__ for p in module.PARAMETERS],
            "run_options": [p.__dict__ for p in run_options],
        }
    if json_path:
        write_json_output(json_path, json.dumps(listing, indent=2).encode(), "protocols")
