"""``qcompile protocols``: every registered protocol with its parameters."""

from __future__ import annotations

import json

from rich.table import Table

from qcompile.cli.common import (
    JsonPath,
    _check_output_path,
    app,
    out,
)


@app.command("protocols")
def protocols_command(json_path: JsonPath = None) -> None:
    """List protocols with their parameters and allowed ranges."""
    from qcompile.protocols import PROTOCOLS

    _check_output_path("json", json_path)
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
        from qcompile.results import write_atomic

        write_atomic(json_path, json.dumps(listing, indent=2).encode())
