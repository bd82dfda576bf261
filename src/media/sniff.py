"""What a file is, from its first bytes (magic numbers), never from its name.

The allow-list is `AudioFormat`; the common things people upload by mistake (images,
documents, archives, text, video) are named, so the reason given back is "not audio:
PNG image" rather than "invalid data". MP3 has no magic number, so two consecutive
valid MPEG layer III frame headers are required before a file counts as MP3.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

HEAD_BYTES = 64 * 1024


class AudioFormat(StrEnum):
    """The formats accepted for upload; the value is also ffmpeg's demuxer name."""

    WAV = "wav"
    FLAC = "flac"
    AIFF = "aiff"
    MP3 = "mp3"
    OGG = "ogg"


ALIASES: dict[str, AudioFormat] = {
    "wave": AudioFormat.WAV,
    "aif": AudioFormat.AIFF,
    "aifc": AudioFormat.AIFF,
    "mpeg": AudioFormat.MP3,
    "oga": AudioFormat.OGG,
    "opus": AudioFormat.OGG,
    "vorbis": AudioFormat.OGG,
}


def normalise_format_name(name: str) -> AudioFormat | None:
    """`"WAVE"`, `".aif"`, `"audio/mpeg"` → the allow-listed format, or None."""
    key = name.strip().lower().removeprefix(".").removeprefix("audio/").removeprefix("x-")
    try:
        return AudioFormat(key)
    except ValueError:
        return ALIASES.get(key)


@dataclass(frozen=True)
class Sniffed:
    """The verdict on a file's first bytes."""

    format: AudioFormat | None  # None: not accepted, see `reason`
    description: str  # "WAV audio", "PNG image", "AAC (ADTS) audio"
    is_audio: bool = True

    @property
    def reason(self) -> str | None:
        """Why the file is refused, in words a person can act on; None if accepted."""
        if self.format is not None:
            return None
        if not self.is_audio:
            return f"not audio: {self.description}"
        if self.description:
            return f"unsupported audio format: {self.description}; upload WAV, FLAC, AIFF or MP3"
        return "unrecognised content: not WAV, FLAC, AIFF, MP3 or Ogg audio"


_UNRECOGNISED = Sniffed(None, "")

_PREFIXES: tuple[tuple[bytes, Sniffed], ...] = (
    (b"fLaC", Sniffed(AudioFormat.FLAC, "FLAC audio")),
    (b"\x89PNG\r\n\x1a\n", Sniffed(None, "PNG image", is_audio=False)),
    (b"\xff\xd8\xff", Sniffed(None, "JPEG image", is_audio=False)),
    (b"GIF87a", Sniffed(None, "GIF image", is_audio=False)),
    (b"GIF89a", Sniffed(None, "GIF image", is_audio=False)),
    (b"%PDF-", Sniffed(None, "PDF document", is_audio=False)),
    (b"PK\x03\x04", Sniffed(None, "ZIP archive", is_audio=False)),
    (b"PK\x05\x06", Sniffed(None, "ZIP archive", is_audio=False)),
    (b"\x1f\x8b", Sniffed(None, "gzip archive", is_audio=False)),
    (b"7z\xbc\xaf\x27\x1c", Sniffed(None, "7-Zip archive", is_audio=False)),
    (b"Rar!\x1a\x07", Sniffed(None, "RAR archive", is_audio=False)),
    (b"\x7fELF", Sniffed(None, "executable program", is_audio=False)),
    (b"\x1a\x45\xdf\xa3", Sniffed(None, "Matroska/WebM video", is_audio=False)),
    (b"MThd", Sniffed(None, "MIDI file (notes, not recorded audio)", is_audio=False)),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", Sniffed(None, "Microsoft Office document", False)),
    (b"\x30\x26\xb2\x75\x8e\x66\xcf\x11", Sniffed(None, "WMA/ASF")),
)


def sniff_file(path: Path | str) -> Sniffed:
    """Sniff a file, skipping an ID3v2 tag however large (album art can be megabytes)."""
    with Path(path).open("rb") as fh:
        skip = id3v2_size(fh.read(10))
        fh.seek(skip)
        head = fh.read(HEAD_BYTES)
    if skip and not head:
        return Sniffed(None, "an ID3 tag with no audio after it")
    return sniff(head)


def sniff(head: bytes) -> Sniffed:
    """Classify the first bytes of a file (pure: no I/O)."""
    if not head:
        return Sniffed(None, "empty file", is_audio=False)
    if tag := id3v2_size(head):
        return sniff(head[tag:]) if len(head) > tag else Sniffed(AudioFormat.MP3, "MP3 audio")
    for prefix, known in _PREFIXES:
        if head.startswith(prefix):
            return known
    for sniffer in (_sniff_riff, _sniff_iff, _sniff_ogg, _sniff_iso_media, _sniff_mpeg):
        if (verdict := sniffer(head)) is not None:
            return verdict
    if _looks_like_text(head):
        return Sniffed(None, "text file", is_audio=False)
    return _UNRECOGNISED


def id3v2_size(head: bytes) -> int:
    """Length of a leading ID3v2 tag (header, body, footer), or 0 if there is none."""
    if len(head) < 10 or not head.startswith(b"ID3") or any(b & 0x80 for b in head[6:10]):
        return 0
    body = (head[6] << 21) | (head[7] << 14) | (head[8] << 7) | head[9]  # "syncsafe"
    footer = 10 if head[5] & 0x10 else 0
    return 10 + body + footer


def _sniff_riff(head: bytes) -> Sniffed | None:
    if head[:4] not in (b"RIFF", b"RF64", b"BW64"):
        return None
    kind = head[8:12]
    if kind == b"WAVE":
        return Sniffed(AudioFormat.WAV, "WAV audio")
    if kind == b"WEBP":
        return Sniffed(None, "WebP image", is_audio=False)
    if kind == b"AVI ":
        return Sniffed(None, "AVI video", is_audio=False)
    return Sniffed(None, "RIFF file that is not WAV")


def _sniff_iff(head: bytes) -> Sniffed | None:
    if head[:4] == b"FORM" and head[8:12] in (b"AIFF", b"AIFC"):
        return Sniffed(AudioFormat.AIFF, "AIFF audio")
    return None


_OGG_CODECS: tuple[tuple[bytes, Sniffed], ...] = (
    (b"\x01vorbis", Sniffed(AudioFormat.OGG, "Ogg Vorbis audio")),
    (b"OpusHead", Sniffed(AudioFormat.OGG, "Ogg Opus audio")),
    (b"\x7fFLAC", Sniffed(AudioFormat.OGG, "Ogg FLAC audio")),
    (b"Speex   ", Sniffed(None, "Ogg Speex")),
    (b"\x80theora", Sniffed(None, "Ogg Theora video", is_audio=False)),
)


def _sniff_ogg(head: bytes) -> Sniffed | None:
    if not head.startswith(b"OggS") or len(head) < 28:
        return None
    first_packet = head[27 + head[26] :]  # page header, then its segment table
    for magic, verdict in _OGG_CODECS:
        if first_packet.startswith(magic):
            return verdict
    return Sniffed(None, "Ogg stream of an unknown codec")


def _sniff_iso_media(head: bytes) -> Sniffed | None:
    if head[4:8] != b"ftyp":
        return None
    if head[8:12] in (b"M4A ", b"M4B ", b"M4P "):
        return Sniffed(None, "MPEG-4 audio (M4A)")
    return Sniffed(None, "MP4/QuickTime video", is_audio=False)


_MPEG1_L3_KBPS = (0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320)
_MPEG2_L3_KBPS = (0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160)
_RATES = {3: (44100, 48000, 32000), 2: (22050, 24000, 16000), 0: (11025, 12000, 8000)}


def mp3_frame_length(header: bytes) -> int | None:
    """Byte length of the MPEG-1/2/2.5 layer III frame starting here, or None if invalid."""
    if len(header) < 4 or header[0] != 0xFF or header[1] & 0xE0 != 0xE0:
        return None
    version, layer = (header[1] >> 3) & 3, (header[1] >> 1) & 3
    bitrate_index, rate_index = header[2] >> 4, (header[2] >> 2) & 3
    if version == 1 or layer != 1 or bitrate_index in (0, 15) or rate_index == 3:
        return None  # reserved version, not layer III, free-format/bad bitrate, bad rate
    padding = (header[2] >> 1) & 1
    rate = _RATES[version][rate_index]
    if version == 3:
        return 144_000 * _MPEG1_L3_KBPS[bitrate_index] // rate + padding
    return 72_000 * _MPEG2_L3_KBPS[bitrate_index] // rate + padding


def _sniff_mpeg(head: bytes) -> Sniffed | None:
    if len(head) >= 2 and head[0] == 0xFF and head[1] & 0xF6 == 0xF0:
        return Sniffed(None, "AAC (ADTS) audio")  # sync word with layer bits 00
    length = mp3_frame_length(head)
    if length is None:
        return None
    following = head[length : length + 4]
    if len(following) < 4 or mp3_frame_length(following) is not None:
        return Sniffed(AudioFormat.MP3, "MP3 audio")
    return None  # one plausible header followed by garbage: chance, not MP3


def _looks_like_text(head: bytes) -> bool:
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return True  # UTF-16 byte-order mark
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError as error:
        if error.start < len(head) - 3:
            return False
        text = head[: error.start].decode("utf-8")  # the head ended mid-character
    if not text or "\x00" in text:
        return False
    printable = sum(ch.isprintable() or ch in "\r\n\t\f" for ch in text)
    return printable / len(text) >= 0.95
