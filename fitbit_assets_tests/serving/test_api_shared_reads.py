"""Reads shared by concurrent API requests (``serving/api/shared_reads.py``): a request never gets the result of a
read that had started before it asked, and a failed read lets the others of its batch read for themselves."""

import threading

import pytest

from fitbit_assets.serving.api.shared_reads import SharedReads


def test_a_read_in_flight_does_not_answer_the_requests_that_ask_after_it_started():
    shared = SharedReads()
    started, gate = threading.Event(), threading.Event()
    results: dict[str, str] = {}

    def slow_read() -> str:
        started.set()
        gate.wait(10)
        return "read before B asked"

    first = threading.Thread(target=lambda: results.update(A=shared.read("cohort", slow_read)))
    first.start()
    started.wait(10)
    later = threading.Thread(target=lambda: results.update(B=shared.read("cohort", lambda: "read after B asked")))
    later.start()
    gate.set()
    first.join()
    later.join()
    assert results == {"A": "read before B asked", "B": "read after B asked"}
    assert shared.read("cohort", lambda: "a new read") == "a new read"  # nothing is kept


def test_other_keys_are_not_shared():
    shared = SharedReads()
    assert shared.read(("adherence", 1), lambda: 1) == 1
    assert shared.read(("adherence", 2), lambda: 2) == 2


def test_a_failed_read_raises_in_its_request_and_the_next_read_runs_again():
    shared = SharedReads()

    def failing() -> str:
        raise RuntimeError("database unavailable")

    with pytest.raises(RuntimeError):
        shared.read("cohort", failing)
    assert shared.read("cohort", lambda: "read again") == "read again"
