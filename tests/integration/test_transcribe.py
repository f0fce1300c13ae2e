"""Offline transcription with the real tiny.en model on real speech."""

from __future__ import annotations

from pathlib import Path

import jiwer
import numpy as np
import pytest
from whisper_normalizer.english import EnglishTextNormalizer

from dictate import Segment, TranscribeOptions, TranscriptInfo, transcribe
from dictate.asr.transcribe import MelWindows, Recognizer, speech_regions, transcribe_window
from dictate.audio.loading import load_audio
from dictate.constants import FRAMES_PER_SECOND, SAMPLE_RATE
from dictate.transcript.types import Transcript

JFK_TEXT = "And so my fellow Americans, ask not what your country can do for you, ask what you can do for your country."
CLEAN_UTTERANCES = ("1089-134686-0000", "1089-134691-0000", "1272-128104-0000", "61-70968-0000", "7902-96591-0000")
MAX_CLEAN_WER = 0.12  # tiny.en scores about 5-6 % on test-clean; a handful of utterances varies more
MAX_LONGFORM_WER = 0.25  # test-other: about 15 %
LONGFORM = "librispeech_test-other_2414-128291_0000-0009"
GREEDY = TranscribeOptions(beam_size=1)
N_MELS = 80
LEAD_S, TAIL_S = 40, 20  # silence or room noise around the JFK speech
ROOM_NOISE_RMS = 0.003  # about -50 dBFS

normalize = EnglishTextNormalizer()


@pytest.fixture(scope="module")
def recognizer(tiny_model_dir: Path) -> Recognizer:
    return Recognizer.load(tiny_model_dir, device="cpu")


@pytest.fixture(scope="module")
def longform_wav(audio_dir: Path) -> Path:
    return audio_dir / "longform" / f"{LONGFORM}.wav"


@pytest.fixture(scope="module")
def longform_timed(recognizer: Recognizer, longform_wav: Path) -> tuple[list[Segment], TranscriptInfo]:
    segments, info = transcribe(longform_wav, recognizer, TranscribeOptions(beam_size=1, word_timestamps=True))
    return list(segments), info


def test_jfk_through_the_package_api(jfk_wav: Path) -> None:
    segments, info = transcribe(jfk_wav)  # default model and options, as a user would call it
    transcript = Transcript(list(segments), info)
    assert normalize(transcript.text) == normalize(JFK_TEXT)
    assert (info.language, info.language_probability, info.model) == ("en", 1.0, "tiny.en")
    assert info.duration == pytest.approx(11.0, abs=0.01)


def test_wer_on_clean_librispeech(recognizer: Recognizer, audio_dir: Path, librispeech_refs: dict[str, str]) -> None:
    references, hypotheses = [], []
    for utterance in CLEAN_UTTERANCES:
        segments, _ = transcribe(audio_dir / "librispeech" / "wav" / f"{utterance}.wav", recognizer)
        hypotheses.append(normalize("".join(segment.text for segment in segments)))
        references.append(normalize(librispeech_refs[utterance]))
    assert jiwer.wer(references, hypotheses) < MAX_CLEAN_WER


def test_longform_segments_are_ordered_and_hold_their_words(longform_timed, audio_dir: Path) -> None:
    segments, info = longform_timed
    assert info.duration > 60
    assert len(segments) > 5 and segments[-1].end > 60  # several 30-s windows were sought through
    assert [segment.id for segment in segments] == list(range(len(segments)))
    for previous, segment in zip(segments, segments[1:]):
        assert previous.start <= segment.start
    for segment in segments:
        assert 0 <= segment.start <= segment.end <= info.duration + 0.5
        assert segment.words and "".join(word.text for word in segment.words) == segment.text
        for word in segment.words:
            assert segment.start <= word.start <= word.end <= segment.end
            assert 0 <= word.probability <= 1
        starts = [word.start for word in segment.words]
        assert starts == sorted(starts)
    reference = (audio_dir / "longform" / f"{LONGFORM}.txt").read_text()
    text = Transcript(segments, info).text
    assert text == "".join(segment.text for segment in segments).strip()
    assert jiwer.wer(normalize(reference), normalize(text)) < MAX_LONGFORM_WER


def test_words_land_near_their_reference_times(longform_timed, audio_dir: Path) -> None:
    """Each LibriSpeech utterance in the long file starts at a known offset (after 0.5 s of inserted
    silence); a word should start soon after it (utterances open with a little silence of their own)."""
    segments, _ = longform_timed
    words = [word for segment in segments for word in segment.words]
    rows = (audio_dir / "longform" / f"{LONGFORM}.segments.tsv").read_text().splitlines()
    offsets = [float(row.split("\t")[1]) for row in rows if row and row.split("\t")[1].replace(".", "", 1).isdigit()]
    assert offsets, "the segments table lists utterance start offsets"
    for offset in offsets:
        assert any(offset - 0.3 <= word.start <= offset + 1.5 for word in words), offset


def test_file_input_equals_array_input(recognizer: Recognizer, jfk_wav: Path) -> None:
    from_file, _ = transcribe(jfk_wav, recognizer, GREEDY)
    from_array, _ = transcribe(load_audio(jfk_wav), recognizer, GREEDY)
    assert list(from_file) == list(from_array)


def test_streamed_mel_windows_equal_the_whole_file_ones(longform_wav: Path) -> None:
    whole = MelWindows.from_file(longform_wav, N_MELS)
    streamed = MelWindows.from_file(longform_wav, N_MELS, stream_above_seconds=0)
    assert streamed.content_frames == whole.content_frames
    # forward only, as transcription seeks; the last step jumps over frames never read (the VAD gate does)
    for seek in (*range(0, whole.content_frames // 2, 1234), whole.content_frames - 99):
        np.testing.assert_allclose(streamed.window(seek), whole.window(seek), atol=1e-5)


def test_window_api_for_streaming(recognizer: Recognizer, jfk_wav: Path) -> None:
    audio = load_audio(jfk_wav)
    window = transcribe_window(recognizer, audio, TranscribeOptions(word_timestamps=True), time_offset=100.0)
    assert not window.skipped
    assert window.seek_frames == len(audio) // 160  # ends on a single timestamp: the whole window is used
    assert normalize("".join(segment.text for segment in window.segments)) == normalize(JFK_TEXT)
    assert all(100.0 <= word.start < 111.5 for segment in window.segments for word in segment.words)
    prompted = transcribe_window(recognizer, audio, TranscribeOptions(beam_size=1),
                                 prompt_tokens=recognizer.tokenizer.encode(" Inaugural address, 1961."))
    assert "country" in "".join(segment.text for segment in prompted.segments)


def test_a_window_over_the_loop_limit_gives_no_text_when_loops_are_dropped(recognizer: Recognizer,
                                                                           jfk_wav: Path) -> None:
    """Live dictation drops a repetition loop before timing its words (224 tokens of DTW: +60 MB peak RSS)."""
    audio = load_audio(jfk_wav)
    kept = transcribe_window(recognizer, audio, TranscribeOptions(beam_size=1, temperatures=(0.0,),
                                                                  compression_ratio_threshold=1.0))
    assert kept.decoding.compression_ratio > 1.0 and normalize(kept.segments[0].text).startswith("and so")
    dropped = transcribe_window(recognizer, audio, TranscribeOptions(beam_size=1, temperatures=(0.0,), word_timestamps=True,
                                                                     compression_ratio_threshold=1.0, drop_loops=True))
    assert dropped.skipped and dropped.segments == ()


def surrounded(speech: np.ndarray, noise_rms: float) -> np.ndarray:
    """LEAD_S of silence (noise_rms 0) or white noise, the speech, TAIL_S more."""
    rng = np.random.default_rng(3)
    lead, tail = (noise_rms * rng.standard_normal(seconds * SAMPLE_RATE) for seconds in (LEAD_S, TAIL_S))
    return np.concatenate([lead, speech, tail]).astype(np.float32)


def test_digital_silence_and_room_noise_give_no_words(recognizer: Recognizer) -> None:
    for noise_rms in (0.0, ROOM_NOISE_RMS):
        nothing = surrounded(np.zeros(0, np.float32), noise_rms)
        assert speech_regions([nothing]) == []
        segments, info = transcribe(nothing, recognizer, GREEDY)
        assert info.duration == pytest.approx(LEAD_S + TAIL_S)
        assert list(segments) == []


@pytest.mark.parametrize("noise_rms", [0.0, ROOM_NOISE_RMS])
def test_speech_amid_silence_keeps_the_recording_times(recognizer: Recognizer, jfk_wav: Path,
                                                       noise_rms: float) -> None:
    jfk = load_audio(jfk_wav)
    audio = surrounded(jfk, noise_rms)
    jfk_end = LEAD_S + len(jfk) / SAMPLE_RATE
    [(start, end)] = speech_regions([audio])
    assert LEAD_S - 1 <= start / FRAMES_PER_SECOND <= LEAD_S + 0.5 and jfk_end - 1 <= end / FRAMES_PER_SECOND <= jfk_end + 1
    segments = list(transcribe(audio, recognizer, TranscribeOptions(beam_size=1, word_timestamps=True))[0])
    assert normalize("".join(segment.text for segment in segments)) == normalize(JFK_TEXT)
    words = [word for segment in segments for word in segment.words]
    assert LEAD_S <= words[0].start < LEAD_S + 1.5 and jfk_end - 2 < words[-1].end <= jfk_end + 0.5


def test_streamed_file_gives_the_text_of_the_whole_file(recognizer: Recognizer, longform_wav: Path,
                                                        longform_timed) -> None:
    segments, _ = longform_timed
    streamed, _ = transcribe(longform_wav, recognizer, TranscribeOptions(beam_size=1, word_timestamps=True),
                             stream_above_seconds=0)
    assert "".join(segment.text for segment in streamed) == "".join(segment.text for segment in segments)
