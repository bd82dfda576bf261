"""ledger.pools: subscription, patronage and surplus pools — their facts, rules and contributions."""
