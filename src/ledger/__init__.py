"""ledger: the write side — domain, application, store, usage recording, royalty rules."""
