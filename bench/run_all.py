"""Run every benchmark in its own subprocess and print their JSON result lines.

Usage: python bench/run_all.py [--quick] [--only NAME ...] [--pg URL] [--save]

Each script's progress (stderr) is passed through; stdout gets exactly one JSON line per
benchmark (a failed script gets ``{"bench": NAME, "error": ...}``). With ``--save`` the
lines are also written to ``bench/results/run-<timestamp>.jsonl``. Exit code 1 if a script
failed; a missed target is a result, not a failure.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import subprocess
import sys
import time
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
SCRIPTS = ("validation", "create_http", "list_1m", "list_scope_1m", "formula_kav", "recompute_100k")
TAKES_PG = ("list_1m", "list_scope_1m", "recompute_100k")


def run(name: str, extra: list[str]) -> dict[str, object]:
    """Run ``bench/<name>.py``; return its last JSON line (or an error record)."""
    start = time.perf_counter()
    print(f"=== {name} {' '.join(extra)}".rstrip(), file=sys.stderr, flush=True)
    completed = subprocess.run(
        [sys.executable, str(BENCH_DIR / f"{name}.py"), *extra],
        cwd=BENCH_DIR.parent,
        stdout=subprocess.PIPE,
        text=True,
        check=False,
    )
    seconds = round(time.perf_counter() - start, 1)
    lines = [line for line in completed.stdout.splitlines() if line.startswith("{")]
    if completed.returncode != 0 or not lines:
        return {
            "bench": name,
            "error": f"exit code {completed.returncode}",
            "stdout_tail": completed.stdout[-2000:],
            "seconds": seconds,
        }
    result: dict[str, object] = json.loads(lines[-1])
    result["seconds"] = seconds
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="pass --quick to every script (smoke run)")
    parser.add_argument("--only", nargs="+", choices=SCRIPTS, help="run only these")
    parser.add_argument("--pg", metavar="URL", help=f"pass --pg URL to {', '.join(TAKES_PG)}")
    parser.add_argument("--save", action="store_true", help="also write the lines to bench/results/")
    args = parser.parse_args()
    results = []
    for name in args.only or SCRIPTS:
        extra = ["--quick"] if args.quick else []
        if name in TAKES_PG and args.pg:
            extra += ["--pg", args.pg]
        result = run(name, extra)
        results.append(result)
        print(json.dumps(result, ensure_ascii=False), flush=True)
    if args.save:
        out = BENCH_DIR / "results"
        out.mkdir(exist_ok=True)
        stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
        path = out / f"run-{stamp}{'-quick' if args.quick else ''}.jsonl"
        path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in results), encoding="utf-8")
        print(f"saved {path}", file=sys.stderr)
    summary = ", ".join(
        f"{r['bench']}: {'ERROR' if 'error' in r else r.get('ratio')}"
        f"{'' if 'error' in r else (' ok' if r.get('meets_target') else ' MISSED')}"
        for r in results
    )
    print(f"=== {summary}", file=sys.stderr)
    return 1 if any("error" in r for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
