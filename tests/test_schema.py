"""schemathesis over `/openapi.json` against a live `rag serve` (bounded examples): no 5xx, and every
response matches what the schema documents (status codes, content types, bodies)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import SEEDS
from tests.test_serve_live import KEY, environment, ingest, serving

pytestmark = [pytest.mark.slow, pytest.mark.server]
ST = str(Path(sys.executable).with_name("st"))
# Examples per operation and phase: enough to find the mismatches found by hand (7,431 cases),
# few enough for minutes on 2 cores. NEWSRAG_SCHEMATHESIS_EXAMPLES raises it.
EXAMPLES = os.environ.get("NEWSRAG_SCHEMATHESIS_EXAMPLES", "30")


def test_the_api_keeps_to_its_schema(tmp_path: Path) -> None:
    data = tmp_path / "data"
    env = environment(data, RAG_API_KEY=KEY, RAG_RATE_LIMIT_PER_MINUTE="0")
    ingest(SEEDS, env)
    with serving(data, env) as base:
        r = subprocess.run(
            [
                ST,
                "run",
                f"{base}/openapi.json",
                "--header",
                f"Authorization: Bearer {KEY}",
                "--checks",
                "all",
                # A request the schema allows may still be refused for its content, by design (422):
                # an article with no text left after cleaning, 30 February, a reversed date range.
                "--exclude-checks",
                "positive_data_acceptance",
                "--max-examples",
                EXAMPLES,
                "--request-timeout",
                "120",
                "--seed",
                "1",
            ],
            cwd=tmp_path,  # where schemathesis keeps its cache
            env={**env, "NO_COLOR": "1"},
            capture_output=True,
            text=True,
            timeout=1800,
        )
    report = tmp_path / "schemathesis.txt"
    report.write_text(r.stdout + r.stderr)
    assert r.returncode == 0, f"the whole report: {report}\n" + r.stdout[-6000:] + r.stderr[-2000:]
