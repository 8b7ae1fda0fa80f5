"""Print one of the README's two Quickstart commands, as printed there.

    python3 .ci/readme_command.py main    # `# 1. install and run the main job ...`
    python3 .ci/readme_command.py tests   # `# 2. install the test extra and run the tests ...`

CI runs what this prints, so the README cannot drift from what CI checks. Standard library
only: it runs before anything is installed.
"""

import sys
from pathlib import Path

MARKERS = {"main": "# 1. install and run the main job", "tests": "# 2. install the test extra"}

lines = (Path(__file__).resolve().parent.parent / "README.md").read_text().splitlines()
marker = MARKERS[sys.argv[1]]
for index, line in enumerate(lines):
    if line.startswith(marker):
        print(lines[index + 1].strip())
        break
else:
    sys.exit(f"README.md has no line starting with {marker!r}")
