"""One preparation per model: concurrent callers wait for the first; a cancelled one leaves nothing behind."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from dictate.asr.model import WhisperOnnx
from dictate.modelstore import store
from dictate.modelstore.errors import PreparationCancelled
from dictate.modelstore.prepare import WAITING_STAGE, PrepareProgress, ensure_prepared, verify_prepared

CONVERSION_STAGE = "int8 encoder"  # the first conversion step of an int8-only preparation
WAIT_S = 120.0  # generous: the suite runs on 2 busy cores


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv(store.CACHE_ENV, str(tmp_path / "cache"))
    return tmp_path / "cache"


def test_two_concurrent_preparations_of_one_model_give_one_valid_model(cache: Path) -> None:
    first_reports: list[PrepareProgress] = []
    second_reports: list[PrepareProgress] = []
    second_waits = threading.Event()
    results: dict[str, Path | BaseException] = {}

    def first_progress(update: PrepareProgress) -> None:
        first_reports.append(update)
        if update.stage == CONVERSION_STAGE:  # mid-conversion: hold on until the second caller is waiting
            assert second_waits.wait(WAIT_S), "the second preparation never waited for the first"

    def second_progress(update: PrepareProgress) -> None:
        second_reports.append(update)
        if update.stage == WAITING_STAGE:
            second_waits.set()

    def run(key: str, progress) -> None:
        try:
            results[key] = ensure_prepared("tiny.en", progress, variants=("int8",))
        except BaseException as error:  # noqa: BLE001 - reported by the assertions below
            results[key] = error

    first = threading.Thread(target=run, args=("first", first_progress))
    first.start()
    while not any(r.stage == CONVERSION_STAGE for r in first_reports) and first.is_alive():
        first.join(0.05)
    second = threading.Thread(target=run, args=("second", second_progress))
    second.start()
    first.join(WAIT_S)
    second.join(WAIT_S)

    folder = cache / "models" / "tiny.en"
    assert results == {"first": folder, "second": folder}
    assert [r.stage for r in first_reports if r.stage.endswith(("encoder", "decoder"))] == \
        ["int8 encoder", "int8 decoder"]
    assert {r.stage for r in second_reports} == {WAITING_STAGE}  # it waited, then found the model prepared
    assert verify_prepared("tiny.en") == folder  # every file's sha256 matches the manifest
    assert WhisperOnnx.load(folder, "int8", device="cpu").info.name == "tiny.en"
    assert not [p.name for p in (cache / "models").iterdir() if p.name.startswith(".")]


def test_a_cancelled_preparation_leaves_nothing_and_the_next_one_prepares(cache: Path) -> None:
    leftover = cache / "models" / ".tiny.en.killed1.partial"  # what a killed preparation leaves
    leftover.mkdir(parents=True)
    (leftover / "encoder.int8.onnx").write_bytes(b"half")
    cancel = threading.Event()

    def progress(update: PrepareProgress) -> None:
        if update.stage == CONVERSION_STAGE:
            cancel.set()

    with pytest.raises(PreparationCancelled):
        ensure_prepared("tiny.en", progress, variants=("int8",), cancel=cancel)
    models = cache / "models"
    assert not (models / "tiny.en").exists()
    assert not [p.name for p in models.iterdir() if p.name.startswith(".")]

    folder = ensure_prepared("tiny.en", variants=("int8",))  # the lock was released; nothing half-written loads
    assert verify_prepared("tiny.en") == folder
