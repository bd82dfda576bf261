"""Sales reports from other services (issue 20): read, check, convert and record them.

`importer.import_report` is the one way in (CLI, API, demo, benchmark); `mapping` says how a
source's files are read; `lines` checks and converts column-wise (Arrow); `store` writes a
report's lines in the same transaction as its event and answers the queries the rest needs.
"""
