"""ledger.domain: pure domain code — values, aggregates, events.

Standard library and eventsourcing.domain only, plus the pure identifier libraries
python-stdnum and pycountry (code and data, no I/O).
"""
