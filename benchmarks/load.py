"""A bounded load test of `rag serve` on loopback: many concurrent clients on /v1/search and on
/v1/answer (extractive backend).

    .venv/bin/python benchmarks/load.py [--clients 50] [--requests 200] [--duration 120] [--out FILE]
    .venv/bin/python benchmarks/load.py --clients 1,8,32 --duration 30    # throughput by concurrency

Starts its own server (the seeds ingested into a temporary data dir, the rate limit off: every
client is 127.0.0.1), then for each number of clients in `--clients` and each endpoint runs that
many concurrent clients that each send up to `--requests` requests, all stopping at `--duration`
seconds. Reports per run the requests done, errors (any status but 200, or a failed connection),
p50/p95 latency, throughput, and the server's resident memory before and after; writes the table
as Markdown to `--out`.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
RAG = str(Path(sys.executable).with_name("rag"))
sys.path.insert(0, str(ROOT))

from benchmarks.serve import QUESTIONS  # noqa: E402


@dataclass
class Run:
    endpoint: str
    clients: int
    planned: int
    latencies_ms: list[float] = field(default_factory=list)
    errors: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    rss_before_mb: float = 0.0
    rss_after_mb: float = 0.0

    def row(self) -> str:
        ms = sorted(self.latencies_ms) or [0.0]
        p95 = ms[max(0, round(0.95 * len(ms)) - 1)]
        done = len(self.latencies_ms) + sum(self.errors.values())
        errors = ", ".join(f"{k}: {v}" for k, v in sorted(self.errors.items())) or "0"
        return (
            f"| {self.endpoint} | {self.clients} | {done} of {self.planned} | {errors} | "
            f"{statistics.median(ms):.0f} | {p95:.0f} | {done / self.seconds:.1f} | "
            f"{self.rss_before_mb:.0f} → {self.rss_after_mb:.0f} |"
        )


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


async def load(base: str, endpoint: str, clients: int, per_client: int, duration: float, pid: int) -> Run:
    run = Run(endpoint, clients, clients * per_client, rss_before_mb=rss_mb(pid))
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    stop = time.monotonic() + duration

    async def client(n: int, http: httpx.AsyncClient) -> None:
        for i in range(per_client):
            if time.monotonic() >= stop:
                return
            q = QUESTIONS[(n + i) % len(QUESTIONS)]
            t0 = time.perf_counter()
            try:
                if endpoint == "/v1/search":
                    r = await http.get(endpoint, params={"q": q})
                else:
                    r = await http.post(endpoint, json={"question": q, "backend": "extractive"})
                key = None if r.status_code == 200 else str(r.status_code)
            except httpx.HTTPError as e:
                key = type(e).__name__
            if key is None:
                run.latencies_ms.append((time.perf_counter() - t0) * 1000)
            else:
                run.errors[key] = run.errors.get(key, 0) + 1

    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=120) as http:
        t0 = time.monotonic()
        await asyncio.gather(*(client(n, http) for n in range(clients)))
        run.seconds = time.monotonic() - t0
    run.rss_after_mb = rss_mb(pid)
    return run


def start_server(data: Path, port: int) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("RAG_", "OPENAI_"))}
    env.update(
        RAG_DATA_DIR=str(data),
        RAG_LLM_BACKEND="extractive",
        RAG_RATE_LIMIT_PER_MINUTE="0",
        ANONYMIZED_TELEMETRY="False",
        GRADIO_ANALYTICS_ENABLED="False",
    )
    subprocess.run([RAG, "ingest", str(ROOT / "seeds")], env=env, check=True, capture_output=True)
    log = (data.parent / "serve.log").open("w")
    proc = subprocess.Popen(
        [RAG, "serve", "--port", str(port)], env=env, stdout=log, stderr=subprocess.STDOUT, cwd=ROOT
    )
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200:
                return proc
        except httpx.TransportError:
            time.sleep(0.5)
    proc.kill()
    raise SystemExit("rag serve did not come up: " + (data.parent / "serve.log").read_text())


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument(
        "--clients", default="50", help="concurrent clients; a comma-separated list for several runs"
    )
    ap.add_argument("--requests", type=int, default=200, help="requests per client and endpoint")
    ap.add_argument("--duration", type=float, default=120.0, help="seconds per endpoint at most")
    ap.add_argument("--out", type=Path, default=ROOT / "docs" / "benchmarks" / "load.md")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="rag-load-") as tmp:
        port = free_port()
        proc = start_server(Path(tmp) / "data", port)
        base = f"http://127.0.0.1:{port}"
        try:
            httpx.post(f"{base}/v1/answer", json={"question": QUESTIONS[0]}, timeout=120)  # warm-up
            load_before = os.getloadavg()
            runs = [
                asyncio.run(load(base, ep, int(n), args.requests, args.duration, proc.pid))
                for n in args.clients.split(",")
                for ep in ("/v1/search", "/v1/answer")
            ]
            load_after = os.getloadavg()
        finally:
            proc.terminate()
            proc.wait(timeout=30)
    table = "\n".join(
        [
            "| endpoint | clients | requests done | errors | p50 ms | p95 ms | req/s | server RSS MB |",
            "| --- | --- | --- | --- | --- | --- | --- | --- |",
            *(r.row() for r in runs),
        ]
    )
    machine = (
        f"{os.cpu_count()} cores, Python {platform.python_version()}; load average "
        f"{load_before[0]:.1f} before, {load_after[0]:.1f} after"
    )
    report = (
        "# Load test (`make load`)\n\n"
        f"`benchmarks/load.py --clients {args.clients} --requests {args.requests} "
        f"--duration {args.duration:g}`: `rag serve` on loopback (extractive backend, the five seed "
        "articles, rate limit off), each endpoint in turn; a run stops at its duration even if "
        "requests remain.\n\n"
        f"{table}\n\nMachine: {machine}.\n"
    )
    print(report)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(report)


if __name__ == "__main__":
    main()
