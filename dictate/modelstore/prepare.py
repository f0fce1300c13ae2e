"""Prepare a model once: CTranslate2 weights -> ONNX variants in the cache, atomically, with a manifest."""

from __future__ import annotations

import json
import os
import re
import shutil
import sys
import tempfile
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from filelock import FileLock, Timeout

from dictate.asr.ct2 import read_ct2
from dictate.asr.onnx_graphs import GRAPH_VERSION, model_info
from dictate.asr.runtime import cuda_available
from dictate.modelstore import convert, sources
from dictate.modelstore.catalogue import CatalogueEntry, WeightFile, load_catalogue
from dictate.modelstore.errors import ModelError, PreparationCancelled
from dictate.modelstore.manifest import Manifest, read_manifest, record_files, sha256_file, verify, write_manifest
from dictate.modelstore.store import cache_dir, find_entry, model_dir, models_dir, save_imported

DEFAULT_MODEL = "tiny.en"
WEIGHTS_STAGE = "weights"  # reading and checking the CTranslate2 file; progress in bytes
WAITING_STAGE = "waiting for another preparation"  # another thread or process holds the model's lock
LOCK_POLL_SECONDS = 0.5  # how often a waiting preparation reports progress (and notices a cancel)
CPU_VARIANTS = ("int8", "fp32")  # fp16 is only made where CUDA runs (see `default_variants`)
DIM_FIELDS = ("n_mels", "n_audio_ctx", "n_audio_state", "n_audio_head", "n_audio_layer", "n_vocab",
              "n_text_ctx", "n_text_state", "n_text_head", "n_text_layer")


@dataclass(frozen=True)
class PrepareProgress:
    """One progress report: `done` of `total` units (bytes for "weights", steps otherwise)."""

    stage: str  # e.g. "weights", "int8 encoder", "manifest"
    done: int
    total: int


ProgressCallback = Callable[[PrepareProgress], None]


def default_variants() -> tuple[str, ...]:
    """int8 + fp32 everywhere, plus fp16 when CUDA really loads (kept off CPU-only machines)."""
    return CPU_VARIANTS + (("fp16",) if cuda_available() else ())


def terminal_progress() -> ProgressCallback:
    """tqdm bars on stderr: one for reading the weights (bytes), one for the conversion steps."""
    from tqdm import tqdm

    bars: dict[bool, tqdm] = {}

    def report(update: PrepareProgress) -> None:
        is_bytes = update.stage == WEIGHTS_STAGE
        if is_bytes not in bars:
            bars[is_bytes] = tqdm(total=update.total, unit="B" if is_bytes else " step", unit_scale=is_bytes,
                                  leave=False)
        bar = bars[is_bytes]
        bar.set_description(update.stage)
        bar.update(update.done - bar.n)
        if update.done >= update.total:
            bar.close()

    return report


def ensure_prepared(name: str = DEFAULT_MODEL, progress: ProgressCallback | None = None, *, force: bool = False,
                    variants: Sequence[str] | None = None, cancel: threading.Event | None = None) -> Path:
    """The prepared folder of `name`, converting the weights first if needed (once; `force` redoes it).

    One preparation per model at a time, across threads and processes: a second caller waits on the
    model's file lock, then finds the folder prepared. A prepared folder is checked cheaply (every
    file's size against the manifest); a truncated or missing file is a ModelError naming it. Missing
    variants (e.g. fp16 on a CUDA machine) are added. A folder made from other weights or by an older
    converter (graph version) is prepared again. Setting `cancel` stops at the next progress report
    with PreparationCancelled, leaving the cache as it was.
    """
    entry = find_entry(name)
    folder = model_dir(name)
    wanted = tuple(variants) if variants else default_variants()
    report = _cancellable(progress or (terminal_progress() if sys.stderr.isatty() else _ignore), cancel)
    with _model_lock(name, report):
        manifest = None if force else read_manifest(folder)
        if manifest is not None and manifest.source_sha256 == entry.sha256 and manifest.graph_version == GRAPH_VERSION:
            verify(folder, manifest)
            missing = tuple(v for v in wanted if v not in manifest.variants)
            if missing:
                _add_variants(entry, folder, manifest, missing, report)
            return folder
        _remove_leftovers(name)
        _prepare_fresh(entry, folder, wanted, report)
        return folder


def verify_prepared(name: str) -> Path:
    """Full check of a prepared folder: every file's size and sha256 (`dictate models verify`)."""
    folder = model_dir(name)
    manifest = read_manifest(folder)
    if manifest is None:
        raise ModelError(f"{folder} is not prepared; run `dictate models prepare {name}`")
    verify(folder, manifest, full=True)
    return folder


def import_model(path: Path, name: str | None = None, progress: ProgressCallback | None = None) -> Path:
    """Record a CTranslate2 Whisper folder (faster-whisper layout) as a model and prepare it."""
    folder = Path(path).expanduser().resolve()
    name = name or folder.name
    if name in load_catalogue():
        raise ModelError(f"{name!r} is a catalogue model; choose another name with --name")
    weights_path, config_path = folder / sources.MODEL_BIN, folder / "config.json"
    for required in (weights_path, config_path):
        if not required.is_file():
            raise ModelError(f"{required} is missing: {folder} is not a CTranslate2 Whisper folder "
                             "(convert one with ct2-transformers-converter or download a faster-whisper model)")
    weights = read_ct2(weights_path)
    if weights.spec != "WhisperSpec":
        raise ModelError(f"{weights_path} holds a {weights.spec}, not a Whisper model")
    info = model_info(weights, json.loads(config_path.read_text(encoding="utf-8")), name)
    entry = CatalogueEntry(name=name, description=f"imported from {folder}", multilingual=info.multilingual,
                           license="see the source folder", install=f"dictate models import {folder}",
                           weights=(WeightFile(str(weights_path)),), support=WeightFile(str(folder)),
                           sha256=sha256_file(weights_path), size=weights_path.stat().st_size,
                           dims={key: getattr(info, key) for key in DIM_FIELDS}, imported=True)
    save_imported(entry)
    return ensure_prepared(name, progress)


def _ignore(_: PrepareProgress) -> None:
    """No progress output."""


def _cancellable(report: ProgressCallback, cancel: threading.Event | None) -> ProgressCallback:
    """`report`, raising PreparationCancelled first once `cancel` is set."""
    if cancel is None:
        return report

    def checked(update: PrepareProgress) -> None:
        if cancel.is_set():
            raise PreparationCancelled("preparation cancelled")
        report(update)

    return checked


@contextmanager
def _model_lock(name: str, report: ProgressCallback) -> Iterator[None]:
    """Hold `<cache>/locks/<name>.lock` (threads and processes alike), reporting while waiting for it."""
    path = cache_dir() / "locks" / f"{name}.lock"
    path.parent.mkdir(parents=True, exist_ok=True)
    lock = FileLock(path)
    while True:
        try:
            lock.acquire(timeout=LOCK_POLL_SECONDS)
            break
        except Timeout:
            report(PrepareProgress(WAITING_STAGE, 0, 0))
    try:
        yield
    finally:
        lock.release()


def _remove_leftovers(name: str) -> None:
    """Staging and retired folders of `name` that a killed preparation left (we hold its lock)."""
    own = re.compile(re.escape(f".{name}.") + r"[^.]+\.(partial|old)")  # `_staging_dir`'s and `_prepare_fresh`'s
    for leftover in models_dir().glob(f".{name}.*"):
        if own.fullmatch(leftover.name) and leftover.is_dir():
            shutil.rmtree(leftover, ignore_errors=True)


def _convert_into(entry: CatalogueEntry, staging: Path, variants: Sequence[str], report: ProgressCallback) -> None:
    """Weights checked (and joined), support files copied, ONNX variants written into `staging`."""
    done = 0

    def on_bytes(count: int) -> None:
        nonlocal done
        done += count
        report(PrepareProgress(WEIGHTS_STAGE, done, entry.size))

    weights_path = sources.model_bin(entry, staging, on_bytes)
    config_path = next(p for p in sources.support_files(entry) if p.name == "config.json")
    for support in sources.support_files(entry):
        shutil.copyfile(support, staging / support.name)
    total, step = convert.steps(variants), 0

    def on_step(stage: str) -> None:
        nonlocal step
        step += 1
        report(PrepareProgress(stage, step, total))

    try:
        convert.convert(weights_path, config_path, entry.name, staging, variants, on_step)
    finally:
        if weights_path.parent == staging:
            weights_path.unlink()


def _staging_dir(name: str) -> Path:
    models_dir().mkdir(parents=True, exist_ok=True)
    return Path(tempfile.mkdtemp(prefix=f".{name}.", suffix=".partial", dir=models_dir()))


def _prepare_fresh(entry: CatalogueEntry, folder: Path, variants: Sequence[str], report: ProgressCallback) -> None:
    staging = _staging_dir(entry.name)
    try:
        _convert_into(entry, staging, variants, report)
        files = sorted(p.name for p in staging.iterdir())
        write_manifest(staging, Manifest(entry.name, entry.sha256, tuple(variants), record_files(staging, files),
                                         GRAPH_VERSION))
        if folder.exists():
            retired = Path(tempfile.mkdtemp(prefix=f".{entry.name}.", suffix=".old", dir=models_dir()))
            os.replace(folder, retired / "model")
            os.replace(staging, folder)
            shutil.rmtree(retired, ignore_errors=True)
        else:
            os.replace(staging, folder)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _add_variants(entry: CatalogueEntry, folder: Path, manifest: Manifest, variants: Sequence[str],
                  report: ProgressCallback) -> None:
    """Convert only `variants`, move their files in, then rewrite the manifest (the last, atomic step)."""
    staging = _staging_dir(entry.name)
    try:
        _convert_into(entry, staging, variants, report)
        new = sorted(p.name for p in staging.iterdir() if p.name not in manifest.files)
        records = record_files(staging, new)
        for file in new:
            os.replace(staging / file, folder / file)
        write_manifest(folder, Manifest(entry.name, manifest.source_sha256, manifest.variants + tuple(variants),
                                        {**manifest.files, **records}, manifest.graph_version))
    finally:
        shutil.rmtree(staging, ignore_errors=True)
