"""The gain toward the loudness target, capped by the true-peak ceiling, in exact tenths."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from media.loudness import (
    LoudnessUnavailable,
    Measurement,
    gain_toward,
    parse_ebur128_summary,
    tenths_to_text,
)

TARGET, CEILING = -140, -20


def test_a_quiet_track_with_headroom_is_raised_all_the_way_to_the_target() -> None:
    loudness = gain_toward(Measurement(-230, -120), TARGET, CEILING)
    assert loudness.gain_db_tenths == 90
    assert loudness.capped_by_true_peak is False


def test_a_quiet_track_with_loud_peaks_is_raised_only_to_the_ceiling() -> None:
    loudness = gain_toward(Measurement(-200, -10), TARGET, CEILING)
    assert loudness.gain_db_tenths == -10  # the peak at −1.0 dBTP must come down to −2.0
    assert loudness.capped_by_true_peak is True


def test_a_loud_track_is_turned_down_to_the_target() -> None:
    loudness = gain_toward(Measurement(-80, -5), TARGET, CEILING)
    assert loudness.gain_db_tenths == -60
    assert loudness.capped_by_true_peak is False


def test_without_a_peak_figure_nothing_caps_the_gain() -> None:
    assert gain_toward(Measurement(-200, None), TARGET, CEILING).gain_db_tenths == 60


@given(
    integrated=st.integers(-700, 0),
    peak=st.integers(-900, 60),
    target=st.integers(-300, -50),
    ceiling=st.integers(-60, 0),
)
def test_the_gain_never_passes_the_target_or_the_ceiling(integrated: int, peak: int, target: int, ceiling: int) -> None:
    loudness = gain_toward(Measurement(integrated, peak), target, ceiling)
    assert integrated + loudness.gain_db_tenths <= target
    assert peak + loudness.gain_db_tenths <= ceiling
    # and it is the largest gain that satisfies both
    assert loudness.gain_db_tenths == min(target - integrated, ceiling - peak)
    assert loudness.capped_by_true_peak == (ceiling - peak < target - integrated)


@pytest.mark.parametrize(("tenths", "text"), [(-32, "-3.2"), (5, "0.5"), (-5, "-0.5"), (0, "0.0")])
def test_tenths_are_written_exactly(tenths: int, text: str) -> None:
    assert tenths_to_text(tenths) == text


def test_the_gain_filter_is_in_float_so_a_boost_cannot_clip_on_the_way() -> None:
    loudness = gain_toward(Measurement(-218, -211), TARGET, CEILING)
    assert loudness.gain_filter == "volume=7.8dB:precision=float"


def test_the_summary_is_read_from_the_end_of_the_log() -> None:
    log = "I: -99.0 LUFS\n[Parsed_ebur128_0] Summary:\n    I:         -14.3 LUFS\n" + (
        "    Threshold: -24.3 LUFS\n  True peak:\n    Peak:       0.4 dBFS\n"
    )
    assert parse_ebur128_summary(log) == Measurement(-143, 4)


def test_a_log_without_a_summary_is_an_error() -> None:
    with pytest.raises(LoudnessUnavailable):
        parse_ebur128_summary("Conversion failed!")
