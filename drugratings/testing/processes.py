"""`manage.py` in a fresh process: settings are read once, at start-up, so a test of what the
environment chooses runs the command with the environment it means."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def manage(
    *args: str, env: dict[str, str], drop: tuple[str, ...] = ()
) -> subprocess.CompletedProcess:
    """Run `manage.py *args` with this process's environment, less the variables whose names
    start with one of `drop` (what the test must not inherit, `NAME_FILE` forms included),
    plus `env`."""
    inherited = {name: value for name, value in os.environ.items() if not name.startswith(drop)}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**inherited, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )
