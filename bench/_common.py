"""Helpers shared by the benchmark scripts (not a test module; nothing here asserts timings).

Every benchmark prints progress to stderr and exactly one JSON line to stdout at the end.
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import socket
import statistics
import sys
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
REPO_ROOT = BENCH_DIR.parent
RESULTS_DIR = BENCH_DIR / "results"
KAM_FORMS = REPO_ROOT / "templates" / "kam_starter" / "forms"
PG_ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"

_T0 = time.perf_counter()


def say(text: str) -> None:
    """Progress line on stderr (stdout is reserved for the final JSON line)."""
    print(f"[{time.perf_counter() - _T0:7.1f}s] {text}", file=sys.stderr, flush=True)


def emit(result: dict[str, Any]) -> None:
    """Print the one JSON result line on stdout."""
    result.setdefault("python", platform.python_version())
    result.setdefault("cpus", os.cpu_count())
    print(json.dumps(result, ensure_ascii=False, default=str), flush=True)


def per_call_us(func: Callable[[], Any], number: int) -> float:
    """Microseconds per call of ``func`` over ``number`` back-to-back calls."""
    start = time.perf_counter()
    for _ in range(number):
        func()
    return (time.perf_counter() - start) / number * 1e6


def calibrate(func: Callable[[], Any], *, target_s: float = 0.05) -> int:
    """How many calls of ``func`` take roughly ``target_s`` (at least 1)."""
    number = 1
    while True:
        start = time.perf_counter()
        for _ in range(number):
            func()
        elapsed = time.perf_counter() - start
        if elapsed >= target_s / 4 or number >= 1_000_000:
            return max(1, int(number * target_s / max(elapsed, 1e-9)))
        number *= 4


def compare(subjects: dict[str, Callable[[], Any]], *, repeats: int, target_s: float = 0.05) -> dict[str, list[float]]:
    """Time each subject ``repeats`` times (timeit style: a loop of calls per sample).

    The subjects are interleaved round by round, so drifting noise on a shared box hits
    all of them alike. Returns the per-call microseconds of every sample.
    """
    numbers = {name: calibrate(func, target_s=target_s) for name, func in subjects.items()}
    samples: dict[str, list[float]] = {name: [] for name in subjects}
    for _ in range(repeats):
        for name, func in subjects.items():
            samples[name].append(per_call_us(func, numbers[name]))
    return samples


def median(values: Iterable[float]) -> float:
    """The median of ``values``."""
    return float(statistics.median(list(values)))


def spread(values: list[float]) -> dict[str, float]:
    """Median, min and max of samples (rounded for the JSON line)."""
    return {"median": round(median(values), 3), "min": round(min(values), 3), "max": round(max(values), 3)}


def free_port() -> int:
    """An unused TCP port on 127.0.0.1."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def write_bundle(root: Path, forms: dict[str, dict[str, Any] | Path], *, app_key: str = "kam") -> Path:
    """Write an app bundle folder: ``app.json`` plus one file per form (a document or a file to copy)."""
    (root / "forms").mkdir(parents=True, exist_ok=True)
    app = {
        "kind": "app",
        "key": app_key,
        "schema_version": 1,
        "version": "0.1.0",
        "label": {"zh": "基准测试", "en": "Benchmark"},
    }
    (root / "app.json").write_text(json.dumps(app), encoding="utf-8")
    for key, document in forms.items():
        target = root / "forms" / f"{key}.json"
        if isinstance(document, Path):
            shutil.copy(document, target)
        else:
            target.write_text(json.dumps(document, ensure_ascii=False, indent=1), encoding="utf-8")
    return root


def kam_account_bundle(root: Path) -> Path:
    """A bundle with the KAM forms (the account form's formulas read several of the others)."""
    return write_bundle(root, {path.stem: path for path in sorted(KAM_FORMS.glob("*.json"))})


def install_bundle_at(database: Any, root: Path) -> Any:
    """Load and install a bundle (like tests/conftest.py's ``install``); raise on any issue."""
    import forms.definition  # noqa: F401 - registers the form kind
    from engine.definitions import load_bundle
    from forms.install import install_bundle

    bundle, issues = load_bundle(root)
    if bundle is None:
        raise SystemExit("bundle has problems:\n" + "\n".join(i.render() for i in issues))
    result = install_bundle(database, bundle, apply=True)
    if not result.applied:
        raise SystemExit("install blocked:\n" + "\n".join(i.render() for i in result.issues))
    return result
