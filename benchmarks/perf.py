"""Side-by-side performance benchmark: ours against an anchor or a floor, measured in one run.

Writes docs/benchmarks.md with every row of the performance issue: ours, the anchor or floor, the
ratio, the goal, and the load average when the row was measured. Timings that are compared are
interleaved (ours, anchor, floor, then again in a rotated order), so load on the machine affects
both sides alike: read the ratios, not the seconds.

    python benchmarks/perf.py [--quick]     # --quick: smaller corpus and fewer repeats (< 5 min)
"""

from __future__ import annotations

import argparse
import hashlib
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.corpus import generate  # noqa: E402
from benchmarks.scale import _rss_mb  # noqa: E402
from index.chunk import chunk  # noqa: E402
from index.embed import MiniLMEmbedding, packaged_model_files  # noqa: E402
from index.load import load  # noqa: E402
from index.sync import ChunkingOptions, _scan  # noqa: E402
from rag.settings import Settings  # noqa: E402
from rag.wiring import Engine, build_engine  # noqa: E402

QUERY = "Who is Hadi al-Ameri and what does the Badr Organization want?"  # 15 tokens
QUESTIONS = [
    "did PMF leaders want US troops to stay?",
    "Who is Hadi al-Ameri?",
    "What weapons did Captain al-Saadi's unit receive?",
    "How many fighters did the US train outside Mosul?",
    "What did the city council say about the rail line?",
    "Why did inflation rise in Valmora?",
    "Which militias are accused of abuses against Sunnis?",
    "What did the weather service warn about?",
    "Who won the marathon?",
    "What happened to house prices in the region?",
]


@dataclass
class Row:
    name: str
    ours: str
    anchor: str
    ratio: str
    goal: str
    met: str
    load: str
    note: str = ""  # what bounds a goal that is not met


def _load() -> str:
    return ", ".join(f"{x:.1f}" for x in os.getloadavg())


def _median_ms(fn: Callable[[], Any], n: int) -> float:
    times = []
    for _ in range(n):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times)


def _pct(xs: Sequence[float], p: int) -> float:
    return statistics.quantiles(xs, n=100, method="inclusive")[p - 1]


# ---- floors: the same work with nothing but the libraries ----------------------------------------


class BareEncoder:
    """onnxruntime + tokenizers, nothing else: the floor for embedding."""

    def __init__(self) -> None:
        import onnxruntime as ort
        from tokenizers import Tokenizer

        model, tok = packaged_model_files()
        self.tokenizer = Tokenizer.from_file(str(tok))
        self.tokenizer.enable_truncation(max_length=256)
        self.tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")
        self.session = ort.InferenceSession(str(model), providers=["CPUExecutionProvider"])
        self.types = "token_type_ids" in {i.name for i in self.session.get_inputs()}

    def encode(self, texts: Sequence[str], batch: int = 32) -> np.ndarray:
        out = []
        for b in range(0, len(texts), batch):
            enc = self.tokenizer.encode_batch(list(texts[b : b + batch]))
            ids = np.array([e.ids for e in enc], dtype=np.int64)
            mask = np.array([e.attention_mask for e in enc], dtype=np.int64)
            feeds = {"input_ids": ids, "attention_mask": mask}
            if self.types:
                feeds["token_type_ids"] = np.zeros_like(ids)
            hidden = self.session.run(None, feeds)[0]
            w = mask[..., None].astype(np.float32)
            pooled = (hidden * w).sum(1) / w.sum(1)
            out.append(pooled / np.linalg.norm(pooled, axis=1, keepdims=True))
        return np.concatenate(out)


def chroma_onnx_ef(tmp: Path) -> Any:
    """Chroma's own ONNX MiniLM embedding function, pointed at the same int8 weights."""
    from chromadb.utils.embedding_functions.onnx_mini_lm_l6_v2 import ONNXMiniLM_L6_V2

    model, tok = packaged_model_files()
    folder = tmp / "chroma-ef" / "onnx"
    folder.mkdir(parents=True)
    (folder / "model.onnx").symlink_to(model)
    (folder / "tokenizer.json").symlink_to(tok)
    for name in ("config.json", "special_tokens_map.json", "tokenizer_config.json", "vocab.txt"):
        (folder / name).write_text("{}")  # present, so nothing is downloaded; not read by the EF
    ef = ONNXMiniLM_L6_V2(preferred_providers=["CPUExecutionProvider"])
    ef.DOWNLOAD_PATH = folder.parent  # type: ignore[misc]
    return ef


# ---- rows ------------------------------------------------------------------------------------------


def embedding_rows(ours: MiniLMEmbedding, bare: BareEncoder, tmp: Path, quick: bool) -> list[Row]:
    ef = chroma_onnx_ef(tmp)
    n = 15 if quick else 40
    for f in (lambda: ours.get_query_embedding(QUERY), lambda: ef([QUERY]), lambda: bare.encode([QUERY])):
        f()  # warm-up
    o = a = b = 0.0
    for _ in range(3):  # interleaved rounds
        o += _median_ms(lambda: ours.get_query_embedding(QUERY), n)
        a += _median_ms(lambda: ef([QUERY]), n)
        b += _median_ms(lambda: bare.encode([QUERY]), n)
    o, a, b = o / 3, a / 3, b / 3
    rows = [
        Row(
            "query embedding, 15 tokens (median)",
            f"{o:.1f} ms",
            f"Chroma's ONNX EF, same int8 weights: {a:.1f} ms; bare onnxruntime {b:.1f} ms",
            f"{a / o:.1f}x faster than Chroma's EF; {o / b:.2f}x the bare session",
            "at the floor (≤ 1.1x bare)",
            "met" if o / b <= 1.1 else "not met",
            _load(),
        )
    ]
    texts = [" ".join(f"word{i}x{j}" for j in range(200)) for i in range(64 if quick else 200)]
    rates = {"ours": 0.0, "bare": 0.0}
    for _ in range(2):
        t0 = time.perf_counter()
        ours.get_text_embedding_batch(texts)
        rates["ours"] += len(texts) / (time.perf_counter() - t0)
        t0 = time.perf_counter()
        bare.encode(texts)
        rates["bare"] += len(texts) / (time.perf_counter() - t0)
    ro, rb = rates["ours"] / 2, rates["bare"] / 2
    rows.append(
        Row(
            f"bulk embedding, {len(texts)} × 256 tokens",
            f"{ro:.1f} chunks/s",
            f"bare onnxruntime {rb:.1f} chunks/s",
            f"{ro / rb:.2f}x the floor's rate",
            "at the floor (≥ 0.9x)",
            "met" if ro / rb >= 0.9 else "not met",
            _load(),
        )
    )
    return rows


def _llama_index_ingest(files: Sequence[Path], collection: Any, embed: Any) -> int:
    from llama_index.core import Document, StorageContext, VectorStoreIndex
    from llama_index.core.node_parser import SentenceSplitter
    from llama_index.vector_stores.chroma import ChromaVectorStore

    docs = [Document(text=f.read_text(encoding="utf-8"), id_=f.stem) for f in files]
    storage = StorageContext.from_defaults(vector_store=ChromaVectorStore(chroma_collection=collection))
    splitter = SentenceSplitter(chunk_size=256, chunk_overlap=32)
    index = VectorStoreIndex.from_documents(
        docs, storage_context=storage, embed_model=embed, transformations=[splitter]
    )
    return len(index.index_struct.nodes_dict) if hasattr(index.index_struct, "nodes_dict") else 0


def ingest_rows(
    files: list[Path], tmp: Path, real: MiniLMEmbedding, quick: bool
) -> tuple[list[Row], Engine, dict[str, Any]]:
    import chromadb

    slices = [files[i::6] for i in range(6)]
    ours = build_engine(Settings(data_dir=tmp / "ours", chroma_url=None, collection="bench"), embedder=real)
    adds: list[float] = []
    real_add = ours.store._collection.add

    def timed_add(**kw: Any) -> Any:
        t0 = time.perf_counter()
        try:
            return real_add(**kw)
        finally:
            adds.append(time.perf_counter() - t0)

    ours.store._collection.add = timed_add  # type: ignore[method-assign]
    anchor_client = chromadb.PersistentClient(path=str(tmp / "anchor"))
    anchor_col = anchor_client.get_or_create_collection("anchor", metadata={"hnsw:space": "cosine"})
    floor_client = chromadb.PersistentClient(path=str(tmp / "floor"))
    floor_col = floor_client.get_or_create_collection("floor", metadata={"hnsw:space": "cosine"})
    li_embed = real.as_llama_index()
    spent = {"ours": 0.0, "llama-index": 0.0, "floor": 0.0}
    floor_add = 0.0
    chunks = 0

    def run_ours(part: list[Path]) -> None:
        nonlocal chunks
        chunks += ours.ingest(part).embedded

    def run_anchor(part: list[Path]) -> None:
        _llama_index_ingest(part, anchor_col, li_embed)

    def run_floor(part: list[Path]) -> None:
        nonlocal floor_add
        # Chunked beforehand (not timed): the floor is embedding everything plus one add.
        records = [(f.stem, c) for f in part for c in chunk(load(f))]
        t0 = time.perf_counter()
        vectors = real.get_text_embedding_batch([c.text for _, c in records])
        t1 = time.perf_counter()
        floor_col.add(
            ids=[c.chunk_id for _, c in records],
            embeddings=np.asarray(vectors, dtype=np.float32),
            documents=[c.text for _, c in records],
            metadatas=[{"doc_id": d} for d, _ in records],
        )
        floor_add += time.perf_counter() - t1
        spent["floor"] += time.perf_counter() - t0

    runners = {"ours": run_ours, "llama-index": run_anchor}
    order = ["ours", "llama-index", "floor"]
    for i, part in enumerate(slices):
        for name in order[i % 3 :] + order[: i % 3]:
            if name == "floor":
                run_floor(part)
                continue
            t0 = time.perf_counter()
            runners[name](part)
            spent[name] += time.perf_counter() - t0
    load_now = _load()
    o, a, f = spent["ours"], spent["llama-index"], spent["floor"]
    rows = [
        Row(
            f"ingest {len(files)} articles ({chunks:,} chunks), 6 alternating slices",
            f"{o:.1f} s",
            f"llama-index `VectorStoreIndex.from_documents` + ChromaVectorStore, same embedder, "
            f"{a:.1f} s ({anchor_col.count():,} nodes); floor (embed all + one `add` per slice) {f:.1f} s",
            f"{a / o:.2f}x faster than llama-index; {o / f:.2f}x the floor",
            "≥ 1.5x faster than llama-index; ≤ 1.15x the floor",
            "met" if a / o >= 1.5 and o / f <= 1.15 else ("half met" if o / f <= 1.15 else "not met"),
            load_now,
            note=(
                f"llama-index itself took {a / f:.2f}x the floor: embedding is nearly all of an ingest, "
                f"so no ingest that embeds the same text with the same model can be more than about "
                f"{a / f:.2f}x faster than llama-index. 1.5x would need a faster embedding than the bare "
                "onnxruntime session, or embedding less text."
            ),
        ),
        Row(
            "— where it goes: Chroma writes",
            f"{len(adds)} `add` calls for {chunks:,} chunks: {sum(adds):.2f} s",
            f"one `add` per slice in the floor: {floor_add:.2f} s",
            f"{sum(adds) / max(floor_add, 1e-9):.2f}x",
            "whole batches across documents (≤ the client's max batch size)",
            "met" if len(adds) <= 6 + chunks // ours.store.max_batch_size else "not met",
            load_now,
        ),
    ]
    return rows, ours, {"floor_col": floor_col}


def reingest_row(ours: Engine, files: list[Path], n: int) -> Row:
    col = ours.store._collection

    def floor() -> None:
        for f in files:
            hashlib.sha256(f.read_bytes()).hexdigest()
        col.get(include=["metadatas"])

    o = b = 0.0
    for _ in range(n):
        t0 = time.perf_counter()
        report = ours.ingest(files)
        o += time.perf_counter() - t0
        assert report.embedded == 0
        t0 = time.perf_counter()
        floor()
        b += time.perf_counter() - t0
    return Row(
        f"re-ingest of the unchanged {len(files)}",
        f"{o / n * 1000:.0f} ms (size+mtime+sha256 checks; nothing read, cleaned or chunked)",
        f"sha256 of each file + one `get`: {b / n * 1000:.0f} ms",
        f"{o / b:.2f}x the floor",
        "≤ 3x the floor",
        "met" if o / b <= 3 else "not met",
        _load(),
    )


def search_rows(ours: Engine, real: MiniLMEmbedding, quick: bool) -> list[Row]:
    col = ours.store._collection
    lex = ours.lexical
    bm25 = lex._bm25
    ids = [r.chunk_id for r in lex.records]
    tokenize = re.compile(r"[a-z0-9]+")

    def raw(q: str) -> list[str]:
        v = real.get_query_embedding(q)
        dense = col.query(query_embeddings=[v], n_results=30)["ids"][0]
        known = bm25.get_tokens_ids(tokenize.findall(q.lower()))
        scores = np.asarray(bm25.get_scores_from_ids(known)) if known else np.zeros(len(ids))
        lexical = [ids[i] for i in np.argsort(-scores)[:30] if scores[i] > 0]
        fused: dict[str, float] = {}
        for ranking in (dense, lexical):
            for rank, cid in enumerate(ranking, 1):
                fused[cid] = fused.get(cid, 0.0) + 1 / (60 + rank)
        return sorted(fused, key=lambda c: -fused[c])[:5]

    for q in QUESTIONS[:3]:
        ours.search(q, k=5)
        raw(q)
    t_ours, t_raw = [], []
    for _ in range(3 if quick else 10):
        for q in QUESTIONS:
            t0 = time.perf_counter()
            ours.search(q, k=5)
            t_ours.append((time.perf_counter() - t0) * 1000)
            t0 = time.perf_counter()
            raw(q)
            t_raw.append((time.perf_counter() - t0) * 1000)
    o50, o95, r50, r95 = (
        statistics.median(t_ours),
        _pct(t_ours, 95),
        statistics.median(t_raw),
        _pct(t_raw, 95),
    )
    rows = [
        Row(
            f"hybrid search k=5 on {len(ids):,} chunks",
            f"p50 {o50:.1f} ms / p95 {o95:.1f} ms",
            f"raw embed + `collection.query` + bm25s + RRF: {r50:.1f} / {r95:.1f} ms",
            f"+{o50 - r50:.1f} ms at p50",
            "within a few ms of raw (≤ +3 ms at p50)",
            "met" if o50 - r50 <= 3 else "not met",
            _load(),
        )
    ]
    n = 100 if quick else 500
    before = _rss_mb()
    for i in range(n):
        ours.search(QUESTIONS[i % len(QUESTIONS)] + f" {i}", k=5)
    ours_delta = _rss_mb() - before
    before = _rss_mb()
    for i in range(n):
        raw(QUESTIONS[i % len(QUESTIONS)] + f" {i}")
    raw_delta = _rss_mb() - before
    rows.append(
        Row(
            f"RSS over {n} queries",
            f"{ours_delta:+.0f} MB",
            f"raw loop {raw_delta:+.0f} MB",
            f"{ours_delta - raw_delta:+.0f} MB",
            "stable (within 10 MB of raw)",
            "met" if ours_delta - raw_delta <= 10 else "not met",
            _load(),
        )
    )
    return rows


def cold_rows(ours: Engine, n: int) -> list[Row]:
    env = {
        **os.environ,
        "RAG_DATA_DIR": str(ours.settings.data_dir),
        "RAG_COLLECTION": ours.settings.collection,
        "PYTHONPATH": str(ROOT),
    }
    rag = str(Path(sys.executable).with_name("rag"))
    q = "Who is Hadi al-Ameri?"
    commands = {
        "search": [rag, "search", q, "-k", "5"],
        "ask": [rag, "ask", q, "--backend", "extractive"],
        "bare": [
            sys.executable,
            str(ROOT / "benchmarks" / "bare.py"),
            str(ours.settings.data_dir),
            "bench",
            q,
        ],
    }
    times: dict[str, list[float]] = {k: [] for k in commands}
    for i in range(n):
        names = list(commands)
        for name in names[i % 3 :] + names[: i % 3]:
            t0 = time.perf_counter()
            subprocess.run(commands[name], env=env, capture_output=True, check=True)
            times[name].append(time.perf_counter() - t0)
    s, a, b = (statistics.median(times[k]) for k in ("search", "ask", "bare"))
    load_now = _load()
    return [
        Row(
            "`rag search` from a cold CLI",
            f"{s:.2f} s",
            f"a bare script doing the same (benchmarks/bare.py) {b:.2f} s",
            f"{s / b:.2f}x",
            "≤ 1.3x",
            "met" if s / b <= 1.3 else "not met",
            load_now,
        ),
        Row(
            "`rag ask --backend extractive` from a cold CLI",
            f"{a:.2f} s",
            f"the bare search script {b:.2f} s (it does not score sentences: the floor is low)",
            f"{a / b:.2f}x",
            "≤ 1.3x",
            "met" if a / b <= 1.3 else "not met",
            load_now,
        ),
    ]


def cleaning_row(files: list[Path]) -> Row:
    t0 = time.perf_counter()
    scan = _scan(files, {}, ChunkingOptions())
    spent = time.perf_counter() - t0
    from index.load import parse

    raw = "Title\n\n" + "\n\n".join(
        " ".join(f"Mr. Lee met Dr. Roe in the U.S. on day {p}-{i}. They spoke." for i in range(40))
        for p in range(120)
    )
    t0 = time.perf_counter()
    chunk(parse("big", raw))
    big = time.perf_counter() - t0
    return Row(
        "cleaning + chunking per ingest",
        f"{spent:.2f} s for {len(files)} files ({sum(len(p.new) for p in scan.plans):,} chunks)",
        f"— (one {len(raw) // 1000} KB article: {big:.2f} s)",
        "—",
        "linear in article length (300 KB well under 1 s)",
        "met" if big < 1 else "not met",
        _load(),
    )


def render(rows: list[Row], quick: bool, started: float, corpus: str) -> str:
    table = [
        "| row | ours | anchor / floor | ratio | goal | met? | load average |",
        "| --- | --- | --- | --- | --- | --- | --- |",
        *(f"| {r.name} | {r.ours} | {r.anchor} | {r.ratio} | {r.goal} | {r.met} | {r.load} |" for r in rows),
    ]
    return "\n".join(
        [
            "# Performance benchmark: ours beside an anchor or a floor",
            "",
            f"Machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}. "
            f"Run: `make bench{' ARGS=--quick' if quick else ''}` "
            f"(`benchmarks/perf.py{' --quick' if quick else ''}`), "
            f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, {time.time() - started:.0f} s in all. "
            "Load average is shown per row (1, 5, 15 minutes): other work on the machine slows both "
            "sides, so read the ratios, not the seconds.",
            "",
            f"Corpus: {corpus}. The ingest row embeds with the real model on all three sides; the "
            "llama-index anchor splits with its own `SentenceSplitter` (256 tokens, 32 overlap), so its "
            "node count differs from our chunk count.",
            "",
            *table,
            "",
            "## Goals",
            "",
            *(
                f"- {r.name}: **{r.met}** (goal: {r.goal}).{' ' + r.note if r.met != 'met' else ''}"
                for r in rows
            ),
            "",
            "The scale run (1k / 10k / 100k chunks, embedded Chroma and a Chroma server) is "
            "`make bench-scale`: [benchmarks/scale.md](benchmarks/scale.md).",
            "",
        ]
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="smaller corpus, fewer repeats (< 5 min)")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "benchmarks.md")
    args = parser.parse_args()
    started = time.time()
    quick = args.quick
    with tempfile.TemporaryDirectory(prefix="rag-bench-") as t:
        tmp = Path(t)
        files = generate(tmp / "corpus", chunks=60 if quick else 1000, seed=7)
        corpus = (
            f"{len(files)} articles from `benchmarks/corpus.py` (seed 7), the five seed articles among them"
        )
        real = MiniLMEmbedding.from_packages()
        bare = BareEncoder()
        rows = embedding_rows(real, bare, tmp, quick)
        print(*(r.__dict__ for r in rows), sep="\n", flush=True)
        ingest, ours, _ = ingest_rows(files, tmp, real, quick)
        rows += ingest
        print(*(r.__dict__ for r in ingest), sep="\n", flush=True)
        rows.append(reingest_row(ours, files, 3 if quick else 5))
        rows += search_rows(ours, real, quick)
        rows += cold_rows(ours, 3 if quick else 5)
        rows.append(cleaning_row(files))
    text = render(rows, quick, started, corpus)
    args.out.write_text(text, encoding="utf-8")
    print(text)


if __name__ == "__main__":
    main()
