"""How a name typed at the CLI (or read back from a table) names an account."""

from __future__ import annotations

import pytest

from projections.queries import account_name
from projections.rollups import party_of_account


@pytest.mark.parametrize(
    ("name", "account", "party"),
    [
        ("aria", "party:aria", "aria"),
        ("party:aria", "party:aria", "aria"),
        ("platform", "platform", None),
        ("coop-fund", "coop-fund", None),  # the pools' fallback: an account, not a party called so
        ("escrow:3f2a", "escrow:3f2a", None),
        ("suspense:no-rights-pie", "suspense:no-rights-pie", None),
        ("pool:subscriptions", "pool:subscriptions", None),
        ("tax:GB", "tax:GB", None),
    ],
)
def test_a_name_means_one_account_and_only_party_accounts_name_a_party(name, account, party):
    assert account_name(name) == account
    assert party_of_account(name) == party
