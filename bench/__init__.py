"""Benchmarks (not part of the deployed app): see bench/callback_ingest.py."""
