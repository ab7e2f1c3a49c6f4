"""Scale run: the synthetic corpus at about 1k, 10k and 100k chunks, embedded Chroma and a Chroma
server; writes docs/benchmarks/scale.md.

Vectors: every distinct sentence of the synthetic pool (3,000) is embedded once with the real
MiniLM, and a synthetic chunk's vector is the normalised mean of its sentences' vectors (its title
line, the one piece not in the pool, is left out). The needles (the five seed articles) and every
query are embedded by the real model. So ingest here measures reading, cleaning, chunking, Chroma
and BM25 — not the embedding model (about 6 chunks/s on 2 cores: 100k chunks would take 5 hours).

Each size runs in its own process (so RSS is that size's), one after the other:

    python benchmarks/scale.py [--sizes 1000,10000,100000] [--server/--no-server]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.corpus import ORGS, PLACES, generate, sentence_pool  # noqa: E402
from index.chunk import split_sentences  # noqa: E402
from index.embed import MiniLMEmbedding  # noqa: E402
from index.text import MappedText  # noqa: E402

# One question per needle, written from the seed articles (never from eval/ question files), with
# the document that answers it.
NEEDLES = (
    ("Which captain's unit in the Habbaniyah camp was promised US weapons?", "000_3e154789b8fcb6c2"),
    (
        "What did Qassim al-Araji tell Ambassador Douglas Silliman about the Americans?",
        "001_57bc97d0d5dad970",
    ),
    ("Are Iran-backed militias working together to push U.S. forces out of Iraq?", "002_baa8629b5dbd2b1a"),
    ("Are U.S.-led forces training Shiite militias for the battle of Mosul?", "003_1dbea6c900cf4d4f"),
    (
        "Is Iraq relying on the Hashd al-Shaabi rather than Washington to retake Mosul?",
        "004_fb437f025d316ae4",
    ),
)
CACHE = ROOT / "data" / "bench-cache"


class ComposedEmbedding:
    """Real MiniLM for queries and unknown texts; pool-sentence texts get composed vectors."""

    def __init__(self, real: MiniLMEmbedding, pool: dict[str, np.ndarray]) -> None:
        self._real = real
        self._pool = pool
        self.composed = 0
        self.real = 0

    @property
    def model_name(self) -> str:
        return self._real.model_name

    @property
    def embed_batch_size(self) -> int:
        return 256

    def get_query_embedding(self, query: str) -> list[float]:
        return self._real.get_query_embedding(query)

    def get_text_embedding_batch(self, texts: list[str], **_: Any) -> list[list[float]]:
        out: list[list[float] | None] = []
        todo: list[int] = []
        for i, text in enumerate(texts):
            t = MappedText.identity(text)
            pieces = [text[s.start : s.end] for s in split_sentences(t)]
            known = [self._pool[p] for p in pieces if p in self._pool]
            if known and len(known) >= len(pieces) - 1:
                v = np.mean(known, axis=0)
                out.append((v / np.linalg.norm(v)).tolist())
                self.composed += 1
            else:
                out.append(None)
                todo.append(i)
        if todo:
            vectors = self._real.get_text_embedding_batch([texts[i] for i in todo])
            for i, v in zip(todo, vectors, strict=True):
                out[i] = v
            self.real += len(todo)
        return [v for v in out if v is not None]


def pool_vectors(real: MiniLMEmbedding, seed: int) -> dict[str, np.ndarray]:
    sentences = [s for beat in sentence_pool(seed).values() for s in beat]
    CACHE.mkdir(parents=True, exist_ok=True)
    path = CACHE / f"pool-{seed}-{len(sentences)}.npy"
    if path.is_file():
        vectors = np.load(path)
    else:
        vectors = np.asarray(real.get_text_embedding_batch(sentences), dtype=np.float32)
        np.save(path, vectors)
    return dict(zip(sentences, vectors, strict=True))


def filler_questions(n: int, seed: int) -> list[str]:
    rng = np.random.default_rng(seed)
    topics = ("inflation", "the storm", "the rail line", "hospital waiting lists", "the harvest", "rents")
    return [
        f"What did {ORGS[rng.integers(len(ORGS))]} say about {topics[rng.integers(len(topics))]} "
        f"in {PLACES[rng.integers(len(PLACES))]}?"
        for _ in range(n)
    ]


def _rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _du_mb(path: Path) -> float:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) / 1e6


def run_one(chunks: int, chroma_url: str | None, work: Path, seed: int = 0) -> dict[str, Any]:
    """Generate, ingest, reopen and search one size; the figures as a dict."""
    from rag.settings import Settings
    from rag.wiring import build_engine

    real = MiniLMEmbedding.from_packages()
    embed = ComposedEmbedding(real, pool_vectors(real, seed))
    files = generate(work / "corpus", chunks=chunks, seed=seed)
    corpus_mb = _du_mb(work / "corpus")
    settings = Settings(data_dir=work / "data", chroma_url=chroma_url, collection=f"scale{chunks}")
    engine = build_engine(settings, embedder=embed)  # type: ignore[arg-type]
    rss0 = _rss_mb()
    t0 = time.perf_counter()
    report = engine.ingest([work / "corpus"])
    ingest_s = time.perf_counter() - t0
    rss_ingest = _rss_mb()

    t0 = time.perf_counter()
    again = engine.ingest([work / "corpus"])
    reingest_s = time.perf_counter() - t0

    t0 = time.perf_counter()
    engine = build_engine(settings, embedder=embed)  # type: ignore[arg-type]  # as a new process would
    open_s = time.perf_counter() - t0
    rss_open = _rss_mb()

    questions = [q for q, _ in NEEDLES] + filler_questions(45, seed)
    for q in questions[:3]:
        engine.search(q)  # warm-up
    times = []
    for _ in range(2):
        for q in questions:
            t0 = time.perf_counter()
            engine.search(q, k=5)
            times.append((time.perf_counter() - t0) * 1000)
    found = []
    for q, gold in NEEDLES:
        top = [p.doc_id for p in engine.search(q, k=5)]
        found.append({"question": q, "gold": gold, "rank": top.index(gold) + 1 if gold in top else None})
    return {
        "target_chunks": chunks,
        "chroma": "server" if chroma_url else "embedded",
        "files": len(files),
        "documents": report.documents,
        "chunks": report.chunks,
        "composed_vectors": embed.composed,
        "real_vectors": embed.real,
        "corpus_mb": round(corpus_mb, 1),
        "ingest_s": round(ingest_s, 2),
        "ingest_chunks_per_s": round(report.chunks / ingest_s, 1),
        "reingest_s": round(reingest_s, 2),
        "reingest_unchanged": again.unchanged,
        "open_s": round(open_s, 2),
        "disk_mb": round(_du_mb(work / "data"), 1) if not chroma_url else None,
        "rss_before_mb": round(rss0),
        "rss_after_ingest_mb": round(rss_ingest),
        "rss_after_open_mb": round(rss_open),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "queries": len(times),
        "p50_ms": round(statistics.median(times), 1),
        "p95_ms": round(statistics.quantiles(times, n=20, method="inclusive")[18], 1),
        "needles_top5": sum(1 for f in found if f["rank"]),
        "needles": found,
        "loadavg": [round(x, 2) for x in os.getloadavg()],
    }


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class ChromaServer:
    """`chroma run` on loopback over a folder, for the duration of a `with` block."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.url = f"http://127.0.0.1:{_free_port()}"

    def __enter__(self) -> ChromaServer:
        chroma = str(Path(sys.executable).with_name("chroma"))
        self._log = (self.path.parent / "chroma.log").open("w")
        port = self.url.rsplit(":", 1)[1]
        self._proc = subprocess.Popen(
            [chroma, "run", "--path", str(self.path), "--host", "127.0.0.1", "--port", port],
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 90
        while True:
            try:
                with urllib.request.urlopen(f"{self.url}/api/v2/heartbeat", timeout=2):
                    return self
            except OSError:
                if self._proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("chroma run did not start") from None
                time.sleep(0.3)

    def __exit__(self, *exc: object) -> None:
        self._proc.terminate()
        try:
            self._proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self._proc.kill()
        self._log.close()


def _child(chunks: int, server: bool) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="rag-scale-") as tmp:
        work = Path(tmp)
        if not server:
            return run_one(chunks, None, work)
        with ChromaServer(work / "chroma-server") as srv:
            result = run_one(chunks, srv.url, work)
        result["disk_mb"] = round(_du_mb(work / "chroma-server") + _du_mb(work / "data"), 1)
        return result


def _row(r: dict[str, Any]) -> str:
    return (
        f"| {r['target_chunks']:,} | {r['chroma']} | {r['documents']:,} | {r['chunks']:,} | "
        f"{r['ingest_s']:.1f} s ({r['ingest_chunks_per_s']:.0f} chunks/s) | {r['reingest_s']:.2f} s | "
        f"{r['open_s']:.2f} s | {r['disk_mb']:.0f} MB | "
        f"{r['rss_after_ingest_mb']} / {r['rss_after_open_mb']} / {r['peak_rss_mb']} MB | "
        f"{r['p50_ms']:.1f} / {r['p95_ms']:.1f} ms | {r['needles_top5']}/5 | "
        f"{', '.join(f'{x:.1f}' for x in r['loadavg'])} |"
    )


def report(results: list[dict[str, Any]]) -> str:
    lines = [
        "# Scale benchmark: a synthetic corpus at 1k, 10k and 100k chunks",
        "",
        f"Machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}. "
        f"Run: `make bench-scale`, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}.",
        "",
        "Corpus: `benchmarks/corpus.py` (seeded: invented outlets, datelines, people, places and "
        "organisations on twelve beats), with the five seed articles inside as needles. Vectors: each "
        "distinct sentence of the generator's pool (3,000) is embedded once by the real MiniLM and a "
        "synthetic chunk's vector is the normalised mean of its sentences' vectors; the needles and "
        "every query go through the real model. Ingest therefore measures reading, cleaning, chunking, "
        "Chroma and BM25, not the embedding model (about 6 chunks/s here). Each size runs in a fresh "
        "process; searches are hybrid, k=5, 50 questions (5 about the needles, 45 about the filler) "
        "asked twice, warm engine.",
        "",
        "| chunks (target) | Chroma | documents | chunks | ingest | re-ingest, nothing changed | "
        "open (new engine) | disk | RSS after ingest / after open / peak | search p50 / p95 | "
        "needles in top 5 | load average |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
        *(_row(r) for r in results),
        "",
    ]
    for chroma in ("embedded", "server"):
        rs = {r["target_chunks"]: r for r in results if r["chroma"] == chroma}
        if len(rs) >= 2:
            small, big = rs[min(rs)], rs[max(rs)]
            ratio = big["p95_ms"] / small["p95_ms"]
            verdict = "met" if ratio <= 3 else "not met"
            lines.append(
                f"- {chroma}: p95 at {big['chunks']:,} chunks is {ratio:.2f}x p95 at {small['chunks']:,} "
                f"(goal ≤ 3x: {verdict})."
            )
    misses = [(r["chroma"], r["target_chunks"], n) for r in results for n in r["needles"] if not n["rank"]]
    lines.append(
        "- Needle questions: "
        + ("every gold document in the top 5 at every size." if not misses else f"missed: {misses}.")
    )
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="1000,10000,100000")
    parser.add_argument("--server", action=argparse.BooleanOptionalAction, default=True)
    parser.add_argument("--child", nargs=2, metavar=("CHUNKS", "CHROMA"))
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "benchmarks" / "scale.md")
    args = parser.parse_args()
    if args.child:
        print(json.dumps(_child(int(args.child[0]), args.child[1] == "server")))
        return
    results = []
    for size in (int(s) for s in args.sizes.split(",")):
        for chroma in ("embedded", "server") if args.server else ("embedded",):
            proc = subprocess.run(
                [sys.executable, __file__, "--child", str(size), chroma],
                capture_output=True,
                text=True,
                check=False,
            )
            if proc.returncode:
                print(proc.stderr[-3000:], file=sys.stderr)
                raise SystemExit(f"scale run {size} {chroma} failed")
            result = json.loads(proc.stdout.strip().splitlines()[-1])
            print(_row(result), flush=True)
            results.append(result)
            (ROOT / "data" / "bench-cache").mkdir(parents=True, exist_ok=True)
            (ROOT / "data" / "bench-cache" / "scale.json").write_text(json.dumps(results, indent=1))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(report(results), encoding="utf-8")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
