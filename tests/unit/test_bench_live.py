"""bench/live.py's table: the median and the spread of each pooled metric over runs."""

from __future__ import annotations

from bench.live import _measure, table


def row(errors: int, latency: float, rss: float) -> dict:
    return {"wer_stream": {"sub": errors, "del": 0, "ins": 0, "n": 100},
            "wer_offline_b1": {"sub": 15, "del": 0, "ins": 0, "n": 100},
            "wer_offline_b5": {"sub": 12, "del": 0, "ins": 0, "n": 100},
            "latency": {"median": latency, "p95": 2 * latency}, "eou": {"median": 0.3, "p95": 0.5},
            "cpu_per_audio_s": 0.4, "max_rss_mb": rss, "matched_frac": 0.97}


def test_the_table_gives_median_and_spread_with_the_offline_wer_beside() -> None:
    text = table([row(20, 1.2, 300), row(16, 1.0, 310), row(18, 1.5, 290)], _measure().wer_of)
    lines = {line.split(" | ")[0].lstrip("| "): line for line in text.splitlines()}
    assert lines["WER (%)"] == "| WER (%) | 18.0 | 16.0–20.0 | 15.0 | 12.0 |"
    assert "| 1.20 | 1.00–1.50 |" in lines["committed latency median (s)"]
    assert "| 300 | 290–310 |" in lines["peak RSS (MB)"]
