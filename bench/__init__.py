"""Benchmarks (not part of the deployed app), run from the repository root as
`python -m bench.NAME`: see README.md, Benchmark."""
