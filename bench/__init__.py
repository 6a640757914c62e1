"""Benchmarks, run on demand with `make bench` (never part of `make test`)."""
