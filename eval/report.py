"""Write an evaluation's results: results.json, report.md and PNG plots (matplotlib, Agg backend)."""

from __future__ import annotations

import json
import os
import platform
import subprocess
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from eval.runner import MODES

if TYPE_CHECKING:
    from matplotlib.figure import Figure


def machine() -> dict[str, Any]:
    """What the run ran on: CPU model and count, OS, Python."""
    cpu = platform.processor() or "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "platform": platform.platform(),
        "python": platform.python_version(),
    }


def git_state(root: Path) -> dict[str, Any]:
    """Commit and working-tree changes of the checkout the run used (empty outside git)."""

    def git(*args: str) -> str | None:
        try:
            done = subprocess.run(["git", *args], cwd=root, capture_output=True, text=True, timeout=10)
        except (OSError, subprocess.SubprocessError):
            return None
        return done.stdout.strip() if done.returncode == 0 else None

    status = git("status", "--short")
    return {"commit": git("rev-parse", "HEAD"), "changed": status.splitlines() if status else []}


def _f(v: float | str | None, digits: int = 3) -> str:
    if v is None:
        return "n/a"
    if isinstance(v, float):
        return f"{v:.{digits}f}"
    return str(v)


def _ms(v: float | None) -> str:
    return "n/a" if v is None else f"{v:,.0f}"


def write(results: dict[str, Any], out: Path) -> list[Path]:
    """Write results.json, the plots and report.md into `out`; returns the files written."""
    out.mkdir(parents=True, exist_ok=True)
    files = [out / "results.json"]
    files[0].write_text(json.dumps(results, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    files += plot(results, out)
    (out / "report.md").write_text(markdown(results), encoding="utf-8")
    files.append(out / "report.md")
    return files


def markdown(results: dict[str, Any]) -> str:
    """report.md: what ran, then retrieval, answers, citations, latency, kinds, misses, each question."""
    sections = [
        _header,
        _retrieval_table,
        _answers_table,
        _citations_table,
        _latency_table,
        _by_kind_table,
        _question_table,
    ]
    return "\n".join(line for section in sections for line in section(results)) + "\n"


def _header(results: dict[str, Any]) -> list[str]:
    meta, k = results["meta"], results["summary"]["k"]
    mach = meta.get("machine", {})
    git = meta.get("git", {})
    lines = [
        f"# Evaluation: {meta['backend']} backend, {meta['mode']} retrieval, k={k}",
        "",
        f"- Questions: {meta['questions']} from `{_rel(meta['questions_file'])}` over "
        f"{len(meta['documents'])} articles",
        f"- Run: {meta['started']}, {meta['seconds']:.0f} s wall time"
        + (f" on {mach.get('cpu')} ({mach.get('cores')} cores), {mach.get('platform')}" if mach else ""),
    ]
    if git.get("commit"):
        dirty = f", {len(git['changed'])} uncommitted change(s)" if git.get("changed") else ""
        lines.append(f"- Code: commit `{git['commit'][:12]}`{dirty} (at the start of the run)")
    if meta.get("note"):
        lines.append(f"- Note: {meta['note']}")
    lines.append(
        "- Every number is recomputable from `results.json`; definitions: [docs/eval/README.md]"
        "(../README.md) and `eval/metrics.py`."
    )
    return lines


def _retrieval_table(results: dict[str, Any]) -> list[str]:
    s, k = results["summary"], results["summary"]["k"]
    lines = [
        "",
        "## Retrieval by mode (all answerable questions, gold documents and evidence spans)",
        "",
        f"| mode | doc hit@{k} | doc recall@{k} | span hit@{k} | span recall@{k} | MRR | "
        "llama-index hit rate | llama-index MRR | p50 ms | p95 ms |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for mode in MODES:
        r = s["retrieval"][mode]
        lines.append(
            f"| {mode} | {_f(r['doc_hit'])} | {_f(r['doc_recall'])} | {_f(r['span_hit'])} | "
            f"{_f(r['span_recall'])} | {_f(r['mrr'])} | {_f(r.get('llama_index_hit_rate'))} | "
            f"{_f(r.get('llama_index_mrr'))} | {_ms(r['latency_ms']['p50'])} | "
            f"{_ms(r['latency_ms']['p95'])} |"
        )
    lines += [
        "",
        f"Questions scored: {s['retrieval']['hybrid']['n']} (unanswerable ones have no gold documents).",
    ]
    return lines


def _answers_table(results: dict[str, Any]) -> list[str]:
    a = results["summary"]["answers"]
    return [
        "",
        f"## Answers ({results['meta']['backend']})",
        "",
        "| metric | value |",
        "| --- | --- |",
        f"| key-fact recall (answerable) | {_f(a['key_fact_recall'])} |",
        f"| all key facts stated | {_f(a['all_key_facts'])} |",
        f"| abstention precision | {_f(a['abstention_precision'])} |",
        f"| abstention recall (unanswerable) | {_f(a['abstention_recall'])} |",
        "| false abstentions (answerable questions abstained on) | "
        f"{a['false_abstentions']} of {a['answerable']} |",
        f"| both sides stated and cited (conflict) | {_f(a['both_sides'])} |",
        f"| — conflict reported with each side | {_f(a['both_sides_stated'])} |",
        f"| — each side cited (supported) | {_f(a['both_sides_cited'])} |",
        f"| injection resistance (final answer) | {_f(a['injection_resistance'])} |",
        f"| injection resistance (streamed tokens) | {_f(a['injection_resistance_stream'])} |",
        "| answers keeping a sentence the model wrote (not the quote fallback) | "
        f"{_f(a.get('generated_kept'))} |",
    ]


def _citations_table(results: dict[str, Any]) -> list[str]:
    lines = [
        "",
        "## Citations (ALCE recall / precision)",
        "",
        "`generated`: every sentence the backend produced (what the verifier was given); `shown`: the "
        "sentences the answer keeps. Macro-averaged over answers with at least one sentence.",
        "",
        "| judge | sentences | answers | sentences judged | citation recall | citation precision |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for judge in ("verifier", "gold"):
        for view in ("generated", "shown"):
            c = results["summary"]["answers"]["citations"][judge][view]
            lines.append(
                f"| {judge} | {view} | {c['answers']} | {c['statements']} | {_f(c['recall'])} | "
                f"{_f(c['precision'])} |"
            )
    return lines


def _latency_table(results: dict[str, Any]) -> list[str]:
    lat = results["summary"]["latency_ms"]
    lines = [
        "",
        "## Latency (ms, final turn of each question)",
        "",
        "| stage | p50 | p95 | n |",
        "| --- | --- | --- | --- |",
    ]
    for name in ("retrieve", "first_passage", "first_token", "total"):
        lines.append(
            f"| {name.replace('_', ' ')} | {_ms(lat[name]['p50'])} | {_ms(lat[name]['p95'])} | "
            f"{lat[name]['n']} |"
        )
    return lines


def _by_kind_table(results: dict[str, Any]) -> list[str]:
    s, k = results["summary"], results["summary"]["k"]
    lines = [
        "",
        "## By kind",
        "",
        f"| kind | n | key-fact recall | abstained | doc hit@{k} (hybrid) | citation precision (verifier) | "
        "citation precision (gold) | both sides | injection resistance |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for kind, b in s["by_kind"].items():
        lines.append(
            f"| {kind} | {b['n']} | {_f(b['key_fact_recall'])} | {_f(b['abstained'])} | {_f(b['doc_hit'])} | "
            f"{_f(b['citation_precision_verifier'])} | {_f(b['citation_precision_gold'])} | "
            f"{_f(b['both_sides'])} | {_f(b['injection_resistance'])} |"
        )
    lines += ["", " ".join(f"![{alt}]({name})" for name, (alt, _) in PLOTS.items()), ""]
    return [*lines, "## Misses", "", *_misses(results["questions"], k), ""]


def _question_table(results: dict[str, Any]) -> list[str]:
    lines = ["## Every question", "", "| id | kind | hit (hybrid) | key facts | abstained | answer |"]
    lines.append("| --- | --- | --- | --- | --- | --- |")
    for r in results["questions"]:
        sc = r["retrieval"]["hybrid"].get("scores")
        kf = r["scores"].get("key_fact_recall")
        text = " ".join(r["answer"]["text"].split())
        text = (text[:160] + " …") if len(text) > 160 else text
        lines.append(
            f"| {r['id']} | {r['kind']} | {_f(sc['doc_hit'], 0) if sc else '-'} | {_f(kf, 2)} | "
            f"{'yes' if r['scores']['abstained'] else 'no'} | {text.replace('|', '/')} |"
        )
    return lines


def _misses(records: Sequence[dict[str, Any]], k: int) -> list[str]:
    out = []
    for r in records:
        why = []
        sc = r["scores"]
        hyb = r["retrieval"]["hybrid"].get("scores")
        if hyb and not hyb["doc_hit"]:
            why.append(f"no gold document in the top {k} (hybrid)")
        if r["kind"] == "unanswerable" and not sc["abstained"]:
            why.append("answered an unanswerable question")
        if r["kind"] != "unanswerable" and sc["abstained"]:
            why.append("abstained on an answerable question")
        if "facts_stated" in sc and not sc["abstained"] and not all(sc["facts_stated"]):
            missing = [
                a[0] for a, ok in zip(r["gold"]["key_facts"], sc["facts_stated"], strict=True) if not ok
            ]
            why.append("key facts missing: " + ", ".join(missing))
        if "both_sides" in sc and not sc["both_sides"]["both"]:
            b = sc["both_sides"]
            why.append(f"both sides: stated={b['stated']}, cited={b['cited']}")
        if sc.get("injection_resisted") is False:
            why.append("the injected instruction reached the answer")
        if why:
            out.append(f"- `{r['id']}` ({r['kind']}): " + "; ".join(why))
    return out or ["None."]


def _rel(path: str) -> str:
    try:
        return str(Path(path).resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return path


def plot(results: dict[str, Any], out: Path) -> list[Path]:
    """The plots of `PLOTS`, one PNG each under `out`."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    written = []
    for name, (_, draw) in PLOTS.items():
        fig = draw(results)
        fig.tight_layout()
        written.append(out / name)
        fig.savefig(written[-1], dpi=110)
        plt.close(fig)
    return written


def _per_kind(results: dict[str, Any]) -> Figure:
    """Per kind: key-fact recall, doc hit@k, and the kind's own score."""
    import matplotlib.pyplot as plt

    s, k = results["summary"], results["summary"]["k"]
    kinds = list(s["by_kind"])
    series = {
        "key-fact recall": [s["by_kind"][x]["key_fact_recall"] for x in kinds],
        f"doc hit@{k} (hybrid)": [s["by_kind"][x]["doc_hit"] for x in kinds],
        "citation precision (verifier)": [s["by_kind"][x]["citation_precision_verifier"] for x in kinds],
        "abstained": [s["by_kind"][x]["abstained"] for x in kinds],
    }
    fig, ax = plt.subplots(figsize=(10, 4.5))
    width = 0.8 / len(series)
    for i, (name, vals) in enumerate(series.items()):
        xs = [j + (i - (len(series) - 1) / 2) * width for j in range(len(kinds))]
        ax.bar(xs, [v if v is not None else 0 for v in vals], width, label=name)
    ax.set_xticks(range(len(kinds)), [f"{x}\n(n={s['by_kind'][x]['n']})" for x in kinds])
    ax.set_ylim(0, 1.05)
    ax.set_title(f"Scores by question kind — {results['meta']['backend']} backend")
    ax.legend(fontsize=8, loc="upper right", ncols=2)
    return fig


def _latency(results: dict[str, Any]) -> Figure:
    """Latency: the distribution per stage."""
    import matplotlib.pyplot as plt

    timings = [r["timing"] for r in results["questions"]]
    stages = ["retrieve", "first_passage", "first_token", "total"]
    data = [[t[f"{st}_ms"] for t in timings if t[f"{st}_ms"] is not None] for st in stages]
    fig, ax = plt.subplots(figsize=(8, 4.5))
    ax.boxplot([d or [0.0] for d in data], showfliers=True)
    ax.set_xticks(range(1, len(stages) + 1), [st.replace("_", " ") for st in stages])
    ax.set_ylabel("ms")
    flat = [v for d in data for v in d if v > 0]
    if flat and max(flat) / min(flat) > 50:  # milliseconds of retrieval next to seconds of generation
        ax.set_yscale("log")
    ax.set_title(f"Latency per question — {results['meta']['backend']} backend (p50/p95 in report.md)")
    return fig


def _retrieval_by_mode(results: dict[str, Any]) -> Figure:
    """Retrieval by mode: doc hit, doc recall, span recall and MRR, dense beside BM25 and hybrid."""
    import matplotlib.pyplot as plt

    s, k = results["summary"], results["summary"]["k"]
    metrics = [
        ("doc_hit", f"doc hit@{k}"),
        ("doc_recall", f"doc recall@{k}"),
        ("span_recall", f"span recall@{k}"),
        ("mrr", "MRR"),
    ]
    fig, ax = plt.subplots(figsize=(8, 4.5))
    width = 0.8 / len(MODES)
    for i, mode in enumerate(MODES):
        vals = [s["retrieval"][mode][key] or 0 for key, _ in metrics]
        xs = [j + (i - (len(MODES) - 1) / 2) * width for j in range(len(metrics))]
        bars = ax.bar(xs, vals, width, label=mode)
        ax.bar_label(bars, fmt="%.2f", fontsize=7)
    ax.set_xticks(range(len(metrics)), [name for _, name in metrics])
    ax.set_ylim(0, 1.1)
    ax.set_title("Retrieval by mode (dense, BM25, hybrid RRF)")
    ax.legend()
    return fig


# The report's plots: file name → (alt text in report.md, what draws it).
PLOTS: dict[str, tuple[str, Callable[[dict[str, Any]], Figure]]] = {
    "per_kind.png": ("per kind", _per_kind),
    "latency.png": ("latency", _latency),
    "retrieval_by_mode.png": ("retrieval", _retrieval_by_mode),
}
