"""Benchmark: creating one record over HTTP, Tessera vs a bare FastAPI + SQLAlchemy endpoint.

Two servers run as subprocesses (uvicorn, one worker each, SQLite files in a temp dir,
free 127.0.0.1 ports):

* ours: ``tessera install`` of a one-form bundle (``deal``: 10 typed fields plus an
  auto-number; ``name`` is unique), then ``tessera serve``; requests go to
  ``POST /api/v1/forms/deal/records`` (validate, check, auto-number, insert, re-read).
* baseline: ``bench/baseline_app.py``, inserting the same row into a hand-made table
  with the same columns, indexes and pragmas, one transaction per request, answering the id
  (a plain ``def`` endpoint: FastAPI runs it in its thread pool, as Tessera runs its writes).
* baseline_inline (context, skip with ``--no-inline``): the same app with an ``async def``
  endpoint that blocks the event loop for the insert, the cheapest a server can be.

One ``httpx.Client`` (keep-alive) sends the same bodies sequentially to both, after a
warm-up, in alternating rounds so drifting noise hits both alike. Reported: requests per
second of each and ours/baseline (the headline uses ``baseline``). Target (DESIGN.md): >= 0.5x.

Usage: python bench/create_http.py [--quick] [--requests N] [--rounds R]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
from _common import BENCH_DIR, emit, free_port, say, write_bundle

TARGET = 0.5


def _opts(*values: str) -> list[dict[str, str]]:
    return [{"value": v, "label": v} for v in values]


DEAL_FORM: dict[str, Any] = {
    "kind": "form",
    "key": "deal",
    "schema_version": 1,
    "label": {"zh": "商机", "en": "Deal"},
    "title_field": "name",
    "fields": [
        {"key": "deal_no", "type": "autonumber", "label": "No.", "pattern": "D-{yyyy}-{00000}"},
        {"key": "name", "type": "text", "label": "Name", "required": True, "unique": True, "max_length": 200},
        {
            "key": "stage",
            "type": "select",
            "label": "Stage",
            "required": True,
            "options": _opts("lead", "qualified", "proposal", "won", "lost"),
        },
        {"key": "amount", "type": "currency", "label": "Amount", "min": 0},
        {"key": "probability", "type": "percent", "label": "Probability", "min": 0, "max": 1},
        {"key": "expected_close", "type": "date", "label": "Expected close"},
        {"key": "quantity", "type": "number", "label": "Quantity", "min": 0},
        {"key": "priority", "type": "boolean", "label": "Priority"},
        {"key": "contact_email", "type": "email", "label": "Contact e-mail"},
        {"key": "tags", "type": "multi_select", "label": "Tags", "options": _opts("renewal", "upsell", "new_logo")},
        {"key": "notes", "type": "textarea", "label": "Notes", "max_length": 2000},
    ],
}


# Ours checks a real role on every create: the token's user, the role's actions, the audit entry.
SELLER_ROLE = {
    "kind": "role",
    "key": "seller",
    "schema_version": 1,
    "label": "Seller",
    "permissions": [{"form": "deal", "actions": ["create", "read"]}],
}


def body(tag: str, index: int) -> bytes:
    """One request body (unique name per request)."""
    return json.dumps(
        {
            "name": f"Deal {tag} {index:07d}",
            "stage": "proposal",
            "amount": 125000.5,
            "probability": 0.35,
            "expected_close": "2025-06-30",
            "quantity": 12,
            "priority": True,
            "contact_email": "buyer@example.cn",
            "tags": ["renewal", "upsell"],
            "notes": "Quarterly renewal with an upsell of the cash-management module.",
        }
    ).encode()


class Server:
    """A server subprocess with its log file."""

    def __init__(
        self, name: str, command: list[str], *, cwd: Path, env: dict[str, str], port: int, create_path: str
    ) -> None:
        self.name = name
        self.base = f"http://127.0.0.1:{port}"
        self.create_url = self.base + create_path
        self.log_path = cwd / f"{name}.log"
        self._log = self.log_path.open("wb")
        self.process = subprocess.Popen(command, cwd=cwd, env=env, stdout=self._log, stderr=subprocess.STDOUT)
        self.sent = 0
        self.headers: dict[str, str] = {}  # ours: the API token of a user whose role may create deals

    def wait_ready(self, client: httpx.Client, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise SystemExit(f"{self.name} exited early:\n{self.log_path.read_text(errors='replace')}")
            try:
                if client.get(self.base + "/healthz").status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        raise SystemExit(f"{self.name} did not become ready:\n{self.log_path.read_text(errors='replace')}")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._log.close()


def run_round(client: httpx.Client, server: Server, count: int, latencies: list[float] | None) -> float:
    """Send ``count`` creates; return the elapsed seconds (raise on any non-201)."""
    headers = {"content-type": "application/json", "accept-language": "en", **server.headers}
    bodies = [body(server.name, server.sent + i) for i in range(count)]
    server.sent += count
    start = time.perf_counter()
    for payload in bodies:
        t0 = time.perf_counter()
        response = client.post(server.create_url, content=payload, headers=headers)
        if latencies is not None:
            latencies.append(time.perf_counter() - t0)
        if response.status_code != 201:
            raise SystemExit(f"{server.name}: HTTP {response.status_code}: {response.text[:500]}")
    return time.perf_counter() - start


def _tessera_command() -> list[str]:
    script = Path(sys.executable).with_name("tessera")
    return [str(script)] if script.exists() else [sys.executable, "-m", "web.cli"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="200 requests per server (smoke run)")
    parser.add_argument("--requests", type=int, help="timed requests per server (default 2000, quick 200)")
    parser.add_argument("--rounds", type=int, help="alternating rounds (default 10, quick 4)")
    parser.add_argument(
        "--no-inline", action="store_true", help="skip the second baseline (async endpoint blocking the event loop)"
    )
    args = parser.parse_args()
    total = args.requests or (200 if args.quick else 2000)
    rounds = args.rounds or (4 if args.quick else 10)
    warmup = 20 if args.quick else 100
    per_round = max(1, total // rounds)
    total = per_round * rounds

    with tempfile.TemporaryDirectory(prefix="tessera-bench-") as tmp:
        root = Path(tmp)
        env = {**os.environ, "TESSERA_FILES_DIR": str(root / "files"), "PYTHONUNBUFFERED": "1"}
        env.pop("DATABASE_URL", None)
        ours_url = f"sqlite:///{root / 'ours.db'}"
        bundle = write_bundle(root / "bundle", {"deal": DEAL_FORM}, app_key="bench")
        (bundle / "roles").mkdir()
        (bundle / "roles" / "seller.json").write_text(json.dumps(SELLER_ROLE), encoding="utf-8")
        say("tessera install (deal form, a seller role and user with an API token)")
        for command in (
            ["install", str(bundle)],
            ["users", "add", "seller", "--name", "Seller", "--role", "seller", "--random-password"],
        ):
            subprocess.run(
                [*_tessera_command(), *command, "--db", ours_url],
                cwd=root,
                env=env,
                check=True,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        token = subprocess.run(
            [*_tessera_command(), "users", "token", "seller", "--name", "bench", "--db", ours_url],
            cwd=root,
            env=env,
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()
        servers: list[Server] = []
        try:
            port = free_port()
            servers.append(
                Server(
                    "ours",
                    [*_tessera_command(), "serve", "--db", ours_url, "--port", str(port)],
                    cwd=root,
                    env=env,
                    port=port,
                    create_path="/api/v1/forms/deal/records",
                )
            )
            servers[-1].headers = {"authorization": f"Bearer {token}"}
            for name, mode in (("baseline", "thread"), ("baseline_inline", "inline")):
                if mode == "inline" and args.no_inline:
                    continue
                port = free_port()
                base_env = {
                    **env,
                    "BENCH_BASELINE_DB": f"sqlite:///{root / (name + '.db')}",
                    "BENCH_BASELINE_MODE": mode,
                }
                command = [
                    sys.executable,
                    "-m",
                    "uvicorn",
                    "baseline_app:app",
                    "--app-dir",
                    str(BENCH_DIR),
                    "--host",
                    "127.0.0.1",
                    "--port",
                    str(port),
                    "--workers",
                    "1",
                    "--log-level",
                    "warning",
                ]
                servers.append(Server(name, command, cwd=root, env=base_env, port=port, create_path="/deals"))
            result = _drive(servers, total=total, rounds=rounds, per_round=per_round, warmup=warmup)
        finally:
            for server in servers:
                server.stop()
        sizes = {s.name: sum(p.stat().st_size for p in root.glob(s.name + ".db*")) for s in servers}
    result.update({"quick": args.quick, "db_bytes_incl_wal": sizes})
    emit(result)


def _drive(servers: list[Server], *, total: int, rounds: int, per_round: int, warmup: int) -> dict[str, Any]:
    names = [s.name for s in servers]
    with httpx.Client(timeout=30.0) as client:
        for server in servers:
            server.wait_ready(client)
        say(f"servers ready ({', '.join(names)}); warm-up {warmup} requests each")
        for server in servers:
            run_round(client, server, warmup, None)
        elapsed: dict[str, list[float]] = {name: [] for name in names}
        latencies: dict[str, list[float]] = {name: [] for name in names}
        say(f"{rounds} alternating rounds of {per_round} requests per server")
        for index in range(rounds):
            shift = index % len(servers)
            order = servers[shift:] + servers[:shift]
            order = order if index % 2 == 0 else list(reversed(order))
            for server in order:
                elapsed[server.name].append(run_round(client, server, per_round, latencies[server.name]))
            text = ", ".join(f"{name} {per_round / values[-1]:.0f}" for name, values in elapsed.items())
            say(f"round {index + 1}/{rounds} req/s: {text}")
    rate = {name: total / sum(values) for name, values in elapsed.items()}
    # Per round, ours and each baseline ran back to back: their paired ratio cancels slow drifts.
    paired = {
        name: statistics.median(b / o for o, b in zip(elapsed["ours"], elapsed[name], strict=True))
        for name in names
        if name != "ours"
    }
    ratio = rate["ours"] / rate["baseline"]
    say(", ".join(f"{name} {value:.0f} req/s" for name, value in rate.items()) + f" -> ours/baseline {ratio:.2f}x")
    result: dict[str, Any] = {
        "bench": "create_http",
        "ours_rps": round(rate["ours"], 1),
        "baseline_rps": round(rate["baseline"], 1),
        "ratio": round(ratio, 3),
        "target": f">= {TARGET:g}x",
        "meets_target": ratio >= TARGET,
        "ours_us": round(1e6 / rate["ours"], 1),
        "baseline_us": round(1e6 / rate["baseline"], 1),
        "ratio_paired_round_median": round(paired["baseline"], 3),
        "baseline": "FastAPI def endpoint (thread pool) + SQLAlchemy Core insert, pydantic body model",
    }
    if "baseline_inline" in rate:
        inline = rate["ours"] / rate["baseline_inline"]
        result["inline_baseline"] = {
            "what": "same endpoint as async def, insert blocking the event loop (no thread hop)",
            "rps": round(rate["baseline_inline"], 1),
            "ratio": round(inline, 3),
            "ratio_paired_round_median": round(paired["baseline_inline"], 3),
            "meets_target": inline >= TARGET,
        }
    result.update(
        {
            "latency_ms": {name: _percentiles(values) for name, values in latencies.items()},
            "requests_per_server": total,
            "rounds": rounds,
            "warmup": warmup,
            "client": "httpx.Client keep-alive, sequential",
            "servers": "uvicorn 1 worker each, SQLite WAL, synchronous=NORMAL",
        }
    )
    return result


def _percentiles(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)

    def at(q: float) -> float:
        return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000, 3)

    return {"p50": at(0.5), "p95": at(0.95), "p99": at(0.99)}


if __name__ == "__main__":
    main()
