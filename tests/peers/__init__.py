"""Local peers for tests: localstripe for payments, a Transfers server for Stripe Connect."""
