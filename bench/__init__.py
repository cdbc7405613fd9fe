"""The benchmark suite of quality.md: seeded histories at three scales (bench/generate.py),
loaded through `ledger import` and measured through the product's command line and a real
`ledger serve`, each figure beside a baseline of the raw `eventsourcing` library measured in
the same run on the same kind of store. Run `python -m bench --help`; see docs/benchmarks.md."""
