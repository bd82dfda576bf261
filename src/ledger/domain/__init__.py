"""ledger.domain: pure domain code — values, aggregates, events. Standard library and eventsourcing.domain only (plus pure identifier libraries)."""
