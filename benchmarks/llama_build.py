"""How fast llama.cpp evaluates a prompt and generates, per build of llama-cpp-python; writes
docs/benchmarks/llama_build.md.

The Makefile compiles llama.cpp for the vector instructions the CPU lists (`scripts/llama-cmake-args`).
This measures what that buys: each Python interpreter given (its own llama-cpp-python build) loads
the packaged Qwen2.5-Coder-1.5B GGUF in a subprocess, evaluates the same 408-token prompt from an
empty cache and then greedily generates 40 tokens, for `ROUNDS` rounds; the builds take turns, so
the machine's load falls on both alike. The figures are medians over rounds.

Run: `.venv/bin/python benchmarks/llama_build.py --against /path/to/other/venv/bin/python`
(without `--against`, only the project's own build). The anchor for docs/benchmarks/llama_build.md
was the portable AVX2 wheel (`CMAKE_ARGS=-DGGML_NATIVE=OFF`) in a throwaway venv.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from rag.backends import local_model  # noqa: E402
from rag.settings import Settings  # noqa: E402

ROUNDS = 3
GENERATED = 40

# Run in each interpreter: only llama_cpp is needed there.
PROBE = r"""
import json, sys, time, llama_cpp
llm = llama_cpp.Llama(model_path=sys.argv[1], n_ctx=2048, n_threads=2, n_threads_batch=2, verbose=False)
text = " ".join(f"Sentence {i}: the militia leaders met in Baghdad on a Monday to talk about troops." \
               for i in range(22))
toks = llm.tokenize(text.encode())
llm.reset()
t = time.perf_counter(); llm.eval(toks); prompt_s = time.perf_counter() - t
n = 0
t = time.perf_counter()
for _ in llm.generate(toks + llm.tokenize(b" Summary:", add_bos=False), temp=0.0):
    n += 1
    if n >= int(sys.argv[2]):
        break
gen_s = time.perf_counter() - t
info = llama_cpp.llama_print_system_info().decode()
flags = [f.split("=")[0].strip() for f in info.split("|") if f.strip().endswith("= 1")]
print(json.dumps({"prompt_tokens": len(toks), "prompt_tps": len(toks) / prompt_s,
                  "gen_tps": n / gen_s, "flags": flags}))
"""


def probe(python: str, model: Path) -> dict[str, object]:
    out = subprocess.run(
        [python, "-c", PROBE, str(model), str(GENERATED)], capture_output=True, text=True, check=True
    )
    result: dict[str, object] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--against", action="append", default=[], help="another build's Python")
    args = parser.parse_args()
    settings = Settings(data_dir=Path(os.environ.get("RAG_DATA_DIR", ROOT / "data")))
    model = local_model(settings)
    builds = {"this project's build": sys.executable, **{f"anchor: {p}": p for p in args.against}}
    runs: dict[str, list[dict[str, object]]] = {name: [] for name in builds}
    for _ in range(ROUNDS):
        for name, python in builds.items():
            runs[name].append(probe(python, model))
    rows = []
    for name, results in runs.items():
        prompt = statistics.median(float(r["prompt_tps"]) for r in results)  # type: ignore[arg-type]
        gen = statistics.median(float(r["gen_tps"]) for r in results)  # type: ignore[arg-type]
        flags = " ".join(f for f in results[0]["flags"] if f.startswith("AVX"))  # type: ignore[union-attr]
        each = ", ".join(f"{float(r['prompt_tps']):.0f}" for r in results)  # type: ignore[arg-type]
        rows.append(f"| {name} | {flags} | {prompt:.1f} ({each}) | {gen:.1f} |")
    load = os.getloadavg()[0]
    text = "\n".join(
        [
            "# llama.cpp builds: prompt evaluation and generation",
            "",
            f"Written by `benchmarks/llama_build.py` (see its docstring). 2-core VM, {ROUNDS} rounds, "
            f"builds in turn; load average {load:.1f} at the end. Prompt: "
            f"{runs[next(iter(runs))][0]['prompt_tokens']} tokens from an empty cache; then "
            f"{GENERATED} tokens generated greedily. Packaged Qwen2.5-Coder-1.5B (Q4_K_M), 2 threads.",
            "",
            "| build | vector flags | prompt tokens/s, median (each round) | generated tokens/s |",
            "| --- | --- | --- | --- |",
            *rows,
            "",
        ]
    )
    out = ROOT / "docs" / "benchmarks" / "llama_build.md"
    out.write_text(text)
    print(text)


if __name__ == "__main__":
    main()
