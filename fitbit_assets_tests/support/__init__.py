"""Helpers of the test suite (no fixtures: those are in the conftest.py files). The harness the benchmarks share with
the tests (UI path, push path, Google Health fake) is in ``fitbit_assets/devtools/``."""
