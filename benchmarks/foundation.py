"""Ingest and search timings for the embedded default on seeds/; writes docs/benchmarks/foundation.md.

Run: `make bench` (or `.venv/bin/python benchmarks/foundation.py`). Numbers are for the machine
it runs on; the report records which.
"""

from __future__ import annotations

import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from rag.settings import Settings  # noqa: E402
from rag.wiring import build_engine  # noqa: E402

QUERIES = [
    "did PMF leaders want US troops to stay?",
    "Who is Hadi al-Ameri?",
    "What weapons did Captain al-Saadi's unit receive?",
    "How many fighters did the US train outside Mosul?",
    "What did Col. John Dorrian say about vetting?",
    "Why did the US Air Force refuse air cover at Bashir?",
    "How much funding does the PMF get from the Iraqi budget?",
    "When did the PMF become part of the Iraqi security forces?",
    "What happened near Makhmour?",
    "Who is Qassim al-Araji?",
    "Which militias are accused of abuses against Sunnis?",
    "What is the Badr Organization?",
    "Did the militias accuse the US of helping the Islamic State?",
    "How many militia members are there?",
    "What did Michael Pregent say?",
    "Which country did Iraq ask to withdraw its troops?",
    "What did Iraqi media report about calls for the US to leave?",
    "How did Iraq's parliamentary elections affect the US presence?",
    "Is Iran the real winner of the Iraq war?",
    "What is the Hashd al-Shaabi?",
]


def main() -> None:
    out = ROOT / "docs" / "benchmarks" / "foundation.md"
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(data_dir=Path(tmp), chroma_url=None)
        t0 = time.perf_counter()
        engine = build_engine(settings)
        build_s = time.perf_counter() - t0

        t0 = time.perf_counter()
        first = engine.ingest([ROOT / "seeds"])
        ingest_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        again = engine.ingest([ROOT / "seeds"])
        reingest_s = time.perf_counter() - t0

        engine.search(QUERIES[0])  # warm-up
        lat = {}
        for mode in ("hybrid", "dense", "bm25"):
            times = []
            for q in QUERIES:
                t0 = time.perf_counter()
                engine.search(q, k=5, mode=mode)  # type: ignore[arg-type]
                times.append((time.perf_counter() - t0) * 1000)
            lat[mode] = times

    def pct(xs: list[float], p: float) -> float:
        return statistics.quantiles(xs, n=100, method="inclusive")[int(p) - 1]

    lines = [
        "# Foundation benchmark: ingest and search on seeds/",
        "",
        f"Machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"{platform.platform()}. Embedded default (MiniLM-L6 int8 ONNX, persistent Chroma, bm25s).",
        f"Run: `make bench`, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; load average "
        f"{', '.join(f'{x:.1f}' for x in os.getloadavg())} (other work on the machine slows every figure).",
        "",
        "| step | result |",
        "| --- | --- |",
        f"| build engine (load model, open stores) | {build_s:.2f} s |",
        f"| first ingest of seeds/ | {ingest_s:.2f} s: {first.documents} documents, {first.chunks} chunks, "
        f"{first.embedded} embedded |",
        f"| re-ingest, nothing changed | {reingest_s:.2f} s, {again.embedded} embedded |",
    ]
    for mode, times in lat.items():
        lines.append(
            f"| search latency, {mode}, {len(times)} queries, k=5 | p50 {statistics.median(times):.1f} ms, "
            f"p95 {pct(times, 95):.1f} ms |"
        )
    lines += [
        "",
        "Search latency is in-process with a warm engine (query embedding + Chroma query + BM25 + fusion);",
        "the `rag search` command adds about 3 s of interpreter and library start-up per call.",
        "",
    ]
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("\n".join(lines), encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
