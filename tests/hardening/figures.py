"""FIGURES for the issue note: printed (`FIGURE: name=value`, visible with -s) and kept as JSON.

    record_figures("lockout", attempts_before_lock=10, unlock_seconds=60)

writes var/hardening-figures/lockout.json (var/ is git-ignored) and prints one line per figure. A
name is suffixed with the database vendor so that the SQLite and the PostgreSQL runs keep both files.
"""

import json
from pathlib import Path

from django.db import connection

ROOT = Path(__file__).resolve().parents[2]
FIGURES_DIR = ROOT / "var" / "hardening-figures"


def record_figures(name: str, **figures) -> dict:
    data = {"database": connection.vendor, **figures}
    for key, value in figures.items():
        print(f"FIGURE: {name}.{key}={value}")
    FIGURES_DIR.mkdir(parents=True, exist_ok=True)
    (FIGURES_DIR / f"{name}-{connection.vendor}.json").write_text(json.dumps(data, indent=2, default=str) + "\n")
    return data
