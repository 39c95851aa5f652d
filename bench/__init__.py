"""Benchmark of the FSx backup provider against a hand-written baseline (see BENCHMARKS.md)."""
