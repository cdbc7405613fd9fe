"""The domain of the budget ledger: aggregates, their events and their rules.

Pure Python on the `eventsourcing` library's aggregate base: no I/O, no framework,
nothing from `projections/` or `service/`.
"""
