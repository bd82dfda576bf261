"""How the one-decode rendition command is put together (no ffmpeg run here)."""

from __future__ import annotations

from pathlib import Path

from media.config import Rung
from media.renditions import PRESETS, encode_args, encoded_samples, output_sample_rate
from media.sniff import AudioFormat


def test_sample_rates_keep_the_source_when_the_codec_takes_it() -> None:
    assert output_sample_rate(PRESETS["mp3"], 44100) == 44100
    assert output_sample_rate(PRESETS["mp3"], 48000) == 48000
    assert output_sample_rate(PRESETS["mp3"], 96000) == 48000
    assert output_sample_rate(PRESETS["aac"], 22050) == 44100
    assert output_sample_rate(PRESETS["opus"], 44100) == 48000


def test_one_input_one_graph_and_an_output_per_rung_plus_the_fingerprint() -> None:
    ladder = (Rung("opus", 128), Rung("mp3", 320), Rung("aac", 256))
    args, paths = encode_args(Path("/in/master"), AudioFormat.FLAC, 44100, "volume=1.0dB", ladder, Path("/stage"))
    assert args.count("-i") == 1
    assert args[args.index("-i") + 1] == "file:/in/master"
    assert args[args.index("-i") - 1] == "flac"  # the sniffed demuxer, forced
    graph = args[args.index("-filter_complex") + 1]
    assert graph.count("volume=1.0dB") == 1  # the gain is applied once, before the split
    assert "asplit=3[r0][r1][r2]" in graph
    assert "[r0]aresample=48000,aformat=channel_layouts=stereo|mono[o0]" in graph  # Opus: 48 kHz
    assert "[r1]aresample=44100,aformat=channel_layouts=stereo|mono[o1]" in graph
    assert [a for a in args if a.startswith("/stage/")] == [str(p) for p in paths] + ["/stage/fingerprint.raw"]
    assert [p.suffix for p in paths] == [".opus", ".mp3", ".m4a"]
    assert args.count("+bitexact") == 2 * len(ladder)
    assert "chromaprint" in args


def test_encoded_samples_are_read_per_output() -> None:
    log = (
        "[out#0/opus @ 0x1]   Output stream #0:0 (audio): 9000 frames encoded "
        "(8640000 samples); 9001 packets muxed (2100219 bytes);\n"
        "[out#2/ipod @ 0x2]   Output stream #2:0 (audio): 7752 frames encoded "
        "(7938048 samples); 7753 packets muxed (5815607 bytes);\n"
    )
    assert encoded_samples(log) == {0: 8_640_000, 2: 7_938_048}
