"""Load, backfill, query and storage benchmarks (``python -m benchmarks.run``; see benchmarks/run.py)."""
