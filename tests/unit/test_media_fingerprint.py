"""Fingerprint similarity: one minus the bit error rate at the best small offset."""

from __future__ import annotations

import random

from hypothesis import given
from hypothesis import strategies as st

from media.fingerprint import Fingerprint, compare, likely_duplicate

frames = st.lists(st.integers(0, 2**32 - 1), max_size=200).map(tuple)


def random_fingerprint(seed: int, length: int = 200) -> Fingerprint:
    rng = random.Random(seed)
    return Fingerprint(tuple(rng.getrandbits(32) for _ in range(length)))


def flip_bits(fp: Fingerprint, per_frame: int, seed: int) -> Fingerprint:
    rng = random.Random(seed)
    out = []
    for frame in fp.frames:
        for bit in rng.sample(range(32), per_frame):
            frame ^= 1 << bit
        out.append(frame)
    return Fingerprint(tuple(out))


@given(frames)
def test_base64_round_trips(values: tuple[int, ...]) -> None:
    fp = Fingerprint(values)
    assert Fingerprint.from_base64(fp.to_base64()) == fp


def test_raw_frames_are_little_endian_and_a_ragged_tail_is_ignored() -> None:
    assert Fingerprint.from_raw(b"\x01\x00\x00\x00\xff\xff\xff\xff\x07").frames == (1, 2**32 - 1)


def test_a_fingerprint_matches_itself_fully() -> None:
    fp = random_fingerprint(1)
    match = compare(fp, fp)
    assert (match.score_bp, match.offset_frames, match.coverage_bp) == (10_000, 0, 10_000)


def test_the_score_is_one_minus_the_bit_error_rate() -> None:
    fp = random_fingerprint(2)
    assert compare(fp, flip_bits(fp, 4, seed=3)).score_bp == 10_000 * 28 // 32


def test_a_small_shift_is_found() -> None:
    fp = random_fingerprint(4)
    shifted = Fingerprint(random_fingerprint(5, 3).frames + fp.frames)  # three frames later
    match = compare(fp, shifted)
    assert (match.score_bp, match.offset_frames) == (10_000, 3)
    assert compare(shifted, fp).offset_frames == -3


def test_unrelated_fingerprints_agree_on_about_half_their_bits() -> None:
    match = compare(random_fingerprint(6), random_fingerprint(7))
    assert 4_500 <= match.score_bp <= 5_500


def test_likely_duplicate_draws_the_line_at_the_threshold() -> None:
    fp = random_fingerprint(8)
    assert likely_duplicate(fp, flip_bits(fp, 3, seed=9))  # 90.6 %
    assert not likely_duplicate(fp, flip_bits(fp, 6, seed=9))  # 81.2 %
    assert likely_duplicate(fp, flip_bits(fp, 6, seed=9), threshold_bp=8_000)
    assert not likely_duplicate(random_fingerprint(10), random_fingerprint(11))


def test_a_short_clip_is_not_a_duplicate_of_the_long_track_it_opens() -> None:
    track = random_fingerprint(12, 400)
    clip = Fingerprint(track.frames[:40])
    assert compare(track, clip).score_bp == 10_000
    assert not likely_duplicate(track, clip)


def test_too_little_overlap_scores_nothing() -> None:
    assert compare(Fingerprint((1, 2, 3)), Fingerprint((1, 2, 3))).score_bp == 0
