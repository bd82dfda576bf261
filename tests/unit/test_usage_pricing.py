from dataclasses import replace

import pytest

from ledger.domain.party import DomainError
from ledger.domain.pricing import PricingConfig, StreamRule, stream2own_price_micros
from ledger.usage.pricing_commands import demo_pricing


def test_stream2own_costs_two_to_the_n_thousandths_of_a_credit_up_to_the_ninth_play():
    credit = 1_000_000
    prices = [stream2own_price_micros(n, credit) for n in range(1, 12)]
    assert prices == [2_000, 4_000, 8_000, 16_000, 32_000, 64_000, 128_000, 256_000, 512_000, 0, 0]
    assert sum(prices) == 1_022_000  # 1.022 credits in all


def test_a_credit_that_would_make_fractional_micros_is_refused():
    with pytest.raises(DomainError, match="multiple of 1000"):
        PricingConfig(stream_currency="EUR", credit_micros=1_234_567).validate()


def test_the_first_matching_rule_picks_the_stream_model_else_the_default():
    config = PricingConfig(
        stream_currency="EUR",
        rules=(
            StreamRule("fixed_rate", source="radio"),
            StreamRule("stream2own", territory="US"),
            StreamRule("fixed_rate", territory="US"),
        ),
        default_stream_model="stream2own",
    ).validate()
    assert config.stream_model_for("radio", "US") == "fixed_rate"
    assert config.stream_model_for("player", "US") == "stream2own"
    assert config.stream_model_for("player", "DE") == "stream2own"


def test_fixed_rates_fall_back_to_the_default_for_unlisted_territories():
    config = replace(demo_pricing(), fixed_rate_default_micros=3_000, fixed_rate_by_territory={"US": 4_000})
    assert config.fixed_rate_micros("US") == 4_000
    assert config.fixed_rate_micros("FR") == 3_000


def test_an_unknown_model_is_refused():
    with pytest.raises(DomainError, match="unknown stream model"):
        PricingConfig(stream_currency="EUR", default_stream_model="per_minute").validate()


def test_pricing_versions_are_events_and_setting_the_same_config_twice_records_nothing(memory_app):
    assert memory_app.current_pricing() is None
    assert memory_app.set_pricing(demo_pricing(), "first", "test") == 1
    head = memory_app.head_position()
    assert memory_app.set_pricing(demo_pricing(), "again", "test") == 1
    assert memory_app.head_position() == head
    changed = replace(demo_pricing(), fixed_rate_default_micros=5_000)
    assert memory_app.set_pricing(changed, "raise", "test") == 2
    version, config = memory_app.current_pricing()
    assert (version, config) == (2, changed)
    assert [v["reason"] for v in memory_app.pricing_history()] == ["first", "raise"]


def test_config_round_trips_through_its_event_form():
    config = replace(demo_pricing(), min_price_by_release={"0000000001007": {"EUR": 5_000_000}})
    assert PricingConfig.from_dict(config.to_dict()) == config
