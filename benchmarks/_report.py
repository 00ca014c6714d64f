"""What every benchmark script does with its rows: print each as JSON, then save them all."""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path

from gis.io import atomic_path


def emit(rows: Iterable[dict], json_path: Path | None = None) -> list[dict]:
    """Print each row as one JSON line as it comes, and write the list to ``json_path``."""
    results = []
    for r in rows:
        results.append(r)
        print(json.dumps(r, ensure_ascii=False), flush=True)
    if json_path is not None:
        with atomic_path(json_path) as tmp:
            tmp.write_text(json.dumps(results, indent=2))
    return results
