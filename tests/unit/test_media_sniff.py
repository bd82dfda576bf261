"""Content sniffing: what a file is comes from its bytes, never its name."""

from __future__ import annotations

import random
import struct

import pytest

from media.sniff import AudioFormat, id3v2_size, mp3_frame_length, normalise_format_name, sniff

MP3_128K_44K = b"\xff\xfb\x90\x00"  # MPEG-1 layer III, 128 kb/s, 44.1 kHz, no padding
MP3_FRAME_LEN = 417  # 144 000 × 128 ÷ 44 100


def mp3_frames(count: int) -> bytes:
    return (MP3_128K_44K + bytes(MP3_FRAME_LEN - 4)) * count


def id3_tag(body_len: int) -> bytes:
    syncsafe = bytes((body_len >> s) & 0x7F for s in (21, 14, 7, 0))
    return b"ID3\x04\x00\x00" + syncsafe + bytes(body_len)


def ogg_page(packet: bytes) -> bytes:
    header = b"OggS\x00\x02" + bytes(20) + b"\x01" + bytes([len(packet)])
    return header + packet


@pytest.mark.parametrize(
    ("head", "expected"),
    [
        (b"RIFF" + struct.pack("<I", 36) + b"WAVEfmt ", AudioFormat.WAV),
        (b"RF64" + b"\xff" * 4 + b"WAVEds64", AudioFormat.WAV),
        (b"fLaC\x00\x00\x00\x22", AudioFormat.FLAC),
        (b"FORM\x00\x00\x10\x00AIFFCOMM", AudioFormat.AIFF),
        (b"FORM\x00\x00\x10\x00AIFCFVER", AudioFormat.AIFF),
        (mp3_frames(3), AudioFormat.MP3),
        (id3_tag(100) + mp3_frames(2), AudioFormat.MP3),
        (ogg_page(b"\x01vorbis" + bytes(22)), AudioFormat.OGG),
        (ogg_page(b"OpusHead" + bytes(11)), AudioFormat.OGG),
    ],
)
def test_allowed_formats_are_recognised_from_their_bytes(head: bytes, expected: AudioFormat) -> None:
    verdict = sniff(head)
    assert verdict.format is expected
    assert verdict.reason is None


@pytest.mark.parametrize(
    ("head", "reason"),
    [
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "not audio: PNG image"),
        (b"\xff\xd8\xff\xe0\x00\x10JFIF", "not audio: JPEG image"),
        (b"%PDF-1.7\n", "not audio: PDF document"),
        (b"PK\x03\x04\x14\x00", "not audio: ZIP archive"),
        (b"This is my new song, lyrics attached.\n" * 3, "not audio: text file"),
        ("Chanson d'été — paroles\n".encode() * 3, "not audio: text file"),
        (b"RIFF\x00\x00\x00\x00WEBPVP8 ", "not audio: WebP image"),
        (b"\x00\x00\x00\x20ftypisom", "not audio: MP4/QuickTime video"),
        (b"", "not audio: empty file"),
    ],
)
def test_common_non_audio_is_named(head: bytes, reason: str) -> None:
    assert sniff(head).reason == reason


def test_audio_outside_the_allow_list_is_called_unsupported() -> None:
    verdict = sniff(b"\x00\x00\x00\x20ftypM4A \x00\x00")
    assert verdict.format is None
    assert verdict.reason is not None
    assert verdict.reason.startswith("unsupported audio format: MPEG-4 audio (M4A)")
    adts = sniff(b"\xff\xf1\x50\x80\x02\x1f\xfc").reason
    assert adts is not None
    assert adts.startswith("unsupported audio format: AAC (ADTS)")


def test_text_cut_in_the_middle_of_a_character_is_still_text() -> None:
    head = ("é" * 100).encode()[:-1]
    assert sniff(head).reason == "not audio: text file"


def test_random_bytes_are_not_recognised_as_anything() -> None:
    rng = random.Random(7)
    for _ in range(200):
        head = bytes(rng.randrange(256) for _ in range(4096))
        assert sniff(head).format is None


def test_one_plausible_mp3_header_followed_by_garbage_is_not_mp3() -> None:
    head = MP3_128K_44K + bytes(MP3_FRAME_LEN - 4) + b"\x12\x34\x56\x78" + bytes(100)
    assert sniff(head).format is None


def test_mp3_frame_length_follows_the_standard_formula() -> None:
    assert mp3_frame_length(MP3_128K_44K) == MP3_FRAME_LEN
    assert mp3_frame_length(b"\xff\xfb\x92\x00") == MP3_FRAME_LEN + 1  # padding bit
    assert mp3_frame_length(b"\xff\xfb\xe4\x00") == 960  # 320 kb/s at 48 kHz
    assert mp3_frame_length(b"\xff\xf3\x90\x00") == 72_000 * 80 // 22050  # MPEG-2, 80 kb/s
    assert mp3_frame_length(b"\xff\xfd\x90\x00") is None  # layer II
    assert mp3_frame_length(b"\xff\xfb\xf0\x00") is None  # bitrate index 15
    assert mp3_frame_length(b"\xff\xfb\x9c\x00") is None  # reserved sample rate


def test_id3v2_size_reads_the_syncsafe_length() -> None:
    assert id3v2_size(id3_tag(1000)) == 1010
    assert id3v2_size(b"ID3\x04\x00\x10\x00\x00\x00\x0a") == 30  # with a footer
    assert id3v2_size(b"ID3\x04\x00\x00\x00\x00\x80\x00") == 0  # not syncsafe
    assert id3v2_size(b"RIFF") == 0


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("WAV", AudioFormat.WAV),
        (".wave", AudioFormat.WAV),
        ("aif", AudioFormat.AIFF),
        ("audio/mpeg", AudioFormat.MP3),
        ("audio/x-flac", AudioFormat.FLAC),
        ("m4a", None),
    ],
)
def test_declared_format_names_are_normalised(name: str, expected: AudioFormat | None) -> None:
    assert normalise_format_name(name) is expected
