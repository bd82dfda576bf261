"""Payments: sales in from Stripe webhooks, payouts out by Connect transfers, reconciliation."""
