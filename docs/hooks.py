"""MkDocs hook: a page's ``<!-- parameters: NAME -->`` becomes that protocol's parameter table,
generated from its declarations and the flags of its ``qcompile run`` command when the site is
built (``<!-- parameters: all -->``: every protocol), so the docs cannot drift from what runs.
"""

from __future__ import annotations

import re

_MARKER = re.compile(r"<!-- parameters: ([\w-]+) -->")


def _sections() -> dict[str, str]:
    from qcompile.cli.protocols import markdown_reference

    reference = markdown_reference()
    sections = {}
    for block in reference.split("#### ")[1:]:
        name = block.split("`")[1]
        sections[name] = "#### " + block.rstrip() + "\n"
    sections["all"] = reference
    return sections


def on_page_markdown(markdown: str, page, config, files) -> str:
    if "<!-- parameters:" not in markdown:
        return markdown
    sections = _sections()

    def table(match: re.Match) -> str:
        name = match.group(1)
        if name not in sections:
            raise ValueError(f"{page.file.src_path}: no protocol named {name!r}")
        text = sections[name]
        if name != "all":  # the page's own heading says which protocol: keep the table
            text = text.split("\n", 1)[1].lstrip("\n")
        return text

    return _MARKER.sub(table, markdown)
