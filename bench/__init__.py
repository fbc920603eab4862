"""Benchmarks and the chaos run (scripts; `bench.chaos` and `bench.cores` are also imported by tests)."""
