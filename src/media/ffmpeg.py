"""The one home of ffmpeg: where the binary comes from, how it is run, timed out and killed.

The binary ships in the imageio-ffmpeg wheel (no apt step, no download at run time, no
ffprobe). Every call goes through `run_ffmpeg`, which adds `-nostdin -hide_banner`, runs
ffmpeg in its own process group and kills the whole group when the timeout expires, so
a hostile or broken file can never leave a decoder spinning behind the worker.
"""

from __future__ import annotations

import contextlib
import functools
import os
import re
import signal
import subprocess
import time
from collections.abc import Sequence
from dataclasses import dataclass

BASE_ARGS: tuple[str, ...] = ("-nostdin", "-hide_banner")
DEFAULT_TIMEOUT_BASE_S = 60.0
DEFAULT_TIMEOUT_PER_AUDIO_SECOND = 0.5
_TAIL_LINES = 12
_TROUBLE = re.compile(r"error|invalid|corrupt|cannot|unknown (?:en|de)coder|no such", re.IGNORECASE)
_NOISE = re.compile(r"parser not found for codec")  # verbose chatter about raw PCM, harmless


class FfmpegError(Exception):
    """ffmpeg did not produce what was asked of it."""


class FfmpegTimeout(FfmpegError):
    """ffmpeg ran past its timeout; its whole process group was killed."""

    def __init__(self, timeout_s: float, pid: int, stderr: str) -> None:
        self.timeout_s = timeout_s
        self.pid = pid
        self.stderr = stderr
        super().__init__(f"ffmpeg took longer than {timeout_s:.1f} s and was killed (pid {pid})")


class FfmpegFailed(FfmpegError):
    """ffmpeg exited non-zero; `stderr_tail` holds the last lines it printed."""

    def __init__(self, returncode: int, stderr: str) -> None:
        self.returncode = returncode
        self.stderr = stderr
        self.stderr_tail = stderr_tail(stderr)
        super().__init__(f"ffmpeg exited with {returncode}: {self.stderr_tail}")


@dataclass(frozen=True)
class FfmpegRun:
    """What one ffmpeg process printed, how it exited, and how long it took."""

    returncode: int
    stdout: bytes
    stderr: str
    elapsed_s: float


@functools.cache
def ffmpeg_exe() -> str:
    """Path of the ffmpeg binary bundled with imageio-ffmpeg."""
    import imageio_ffmpeg  # the only import of the wheel: the binary has one home

    return str(imageio_ffmpeg.get_ffmpeg_exe())


def timeout_for(
    audio_seconds: float | None,
    base_s: float = DEFAULT_TIMEOUT_BASE_S,
    per_audio_second: float = DEFAULT_TIMEOUT_PER_AUDIO_SECOND,
) -> float:
    """A timeout that grows with the audio: `base_s + per_audio_second × duration`."""
    return base_s + per_audio_second * max(audio_seconds or 0.0, 0.0)


def stderr_tail(stderr: str, lines: int = _TAIL_LINES) -> str:
    """The last non-blank lines of ffmpeg's log, where the reason for a failure is."""
    kept = [line.strip() for line in stderr.splitlines() if line.strip()]
    return " | ".join(kept[-lines:])


def first_error(stderr: str) -> str:
    """The first line that says what went wrong, without ffmpeg's `[tag @ 0x…]` prefixes."""
    for line in stderr.splitlines():
        if _NOISE.search(line):
            continue
        if _TROUBLE.search(line):
            return re.sub(r"^(\[[^\]]*\]\s*)+", "", line.strip())
    return stderr_tail(stderr, 2)


def run_ffmpeg(args: Sequence[str], *, timeout_s: float, check: bool = True) -> FfmpegRun:
    """Run `ffmpeg -nostdin -hide_banner *args`; kill its process group past `timeout_s`.

    With `check` (the default) a non-zero exit raises `FfmpegFailed`; without it the
    caller reads `returncode` and the log itself (the strict decode does, because a
    truncated file fails *after* ffmpeg has printed how much it decoded).
    """
    started = time.perf_counter()
    proc = subprocess.Popen(
        [ffmpeg_exe(), *BASE_ARGS, *args],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,  # its own process group, so the kill reaches every child
    )
    try:
        out, err = proc.communicate(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        _kill_group(proc)
        out, err = proc.communicate()
        raise FfmpegTimeout(timeout_s, proc.pid, err.decode("utf-8", "replace")) from None
    except BaseException:
        _kill_group(proc)
        proc.communicate()
        raise
    run = FfmpegRun(
        returncode=proc.returncode,
        stdout=out,
        stderr=err.decode("utf-8", "replace"),
        elapsed_s=time.perf_counter() - started,
    )
    if check and run.returncode != 0:
        raise FfmpegFailed(run.returncode, run.stderr)
    return run


def _kill_group(proc: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(ProcessLookupError):  # it may have exited in between
        os.killpg(proc.pid, signal.SIGKILL)
