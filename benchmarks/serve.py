"""Latency of a running `rag serve` as a client sees it, over loopback HTTP.

Run against a server you started (the figures in docs/serving.md used the extractive backend):

    RAG_LLM_BACKEND=extractive rag serve --port 7861 &
    .venv/bin/python benchmarks/serve.py --url http://127.0.0.1:7861 [--key KEY] [-n 20]

Prints a Markdown table: median and 95th percentile per endpoint, plus, for the streamed answer,
the time to the `passages` event and to the final `answer` event. Requests are sequential and
warmed up once; nothing else should load the machine while it runs.
"""

from __future__ import annotations

import argparse
import platform
import statistics
import time
from collections.abc import Callable

import httpx

QUESTIONS = [
    "Did PMF leaders want US troops to stay?",
    "Who is Hadi al-Ameri?",
    "What weapons did Captain al-Saadi's unit receive?",
    "How many fighters did the US train outside Mosul?",
    "What is the Badr Organization?",
]


def timed(n: int, call: Callable[[int], None]) -> list[float]:
    call(0)  # warm-up
    out = []
    for i in range(n):
        t0 = time.perf_counter()
        call(i)
        out.append((time.perf_counter() - t0) * 1000)
    return out


def row(name: str, ms: list[float]) -> str:
    p95 = sorted(ms)[max(0, round(0.95 * len(ms)) - 1)]
    return f"| {name} | {len(ms)} | {statistics.median(ms):.0f} | {p95:.0f} |"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--url", default="http://127.0.0.1:7860")
    ap.add_argument("--key", default=None)
    ap.add_argument("-n", type=int, default=20)
    args = ap.parse_args()
    headers = {"Authorization": f"Bearer {args.key}"} if args.key else {}
    c = httpx.Client(base_url=args.url, headers=headers, timeout=300)

    def q(i: int) -> str:
        return QUESTIONS[i % len(QUESTIONS)]

    def answer(i: int) -> None:
        c.post("/v1/answer", json={"question": q(i)}).raise_for_status()

    def chat(i: int) -> None:
        body = {"model": "rag", "messages": [{"role": "user", "content": q(i)}]}
        c.post("/v1/chat/completions", json=body).raise_for_status()

    def search(i: int) -> None:
        c.get("/v1/search", params={"q": q(i)}).raise_for_status()

    first_event: list[float] = []
    final_event: list[float] = []

    def stream(i: int) -> None:
        t0 = time.perf_counter()
        seen_passages = False
        with c.stream("POST", "/v1/answer", json={"question": q(i), "stream": True}) as r:
            r.raise_for_status()
            for line in r.iter_lines():
                if line == "event: passages" and not seen_passages:
                    seen_passages = True
                    first_event.append((time.perf_counter() - t0) * 1000)
                elif line == "event: answer":
                    final_event.append((time.perf_counter() - t0) * 1000)

    backend = c.get("/healthz").json()["backend"]
    rows = [
        row("POST /v1/answer", timed(args.n, answer)),
        row("POST /v1/chat/completions", timed(args.n, chat)),
        row("GET /v1/search", timed(args.n, search)),
    ]
    timed(args.n, stream)
    rows.append(row("stream: first `passages` event", first_event[1:]))
    rows.append(row("stream: final `answer` event", final_event[1:]))
    print(f"backend {backend}; {platform.processor() or platform.machine()}, {platform.python_version()}\n")
    print("| request | n | median ms | p95 ms |\n| --- | --- | --- | --- |")
    print("\n".join(rows))


if __name__ == "__main__":
    main()
