"""One database read for the requests that ask for the same thing at the same time (the cohort overview's reads).

Requests that ask while no read of their key is waiting to start form the next batch: it starts once the read in
flight (if any) has finished, and its result answers every request of the batch. So each request gets data read
after it asked, never a result that was already being read, nor one kept from before: nothing is cached, the
answer is as fresh as reading alone, and N requests at once cost at most two reads instead of N. Each request
still checks its caller's rights on the shared result and writes its own audit row. A batch whose read failed
lets each of its other requests read for itself.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable
from typing import Any, Optional


class _Batch:
    def __init__(self) -> None:
        self.done = threading.Event()
        self.result: Any = None
        self.failed = False


class SharedReads:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._waiting: dict[Hashable, _Batch] = {}  # not started yet: a request asking now joins it
        self._running: dict[Hashable, _Batch] = {}

    def read(self, key: Hashable, read: Callable[[], Any]) -> Any:
        """``read()``'s result, started after this call began, shared with the calls of the same ``key`` that
        joined its batch (``read`` runs in the calling thread of the batch's first request)."""
        with self._lock:
            batch = self._waiting.get(key)
            first = batch is None
            if first:
                batch = self._waiting[key] = _Batch()
            in_flight: Optional[_Batch] = self._running.get(key)
        if not first:
            batch.done.wait()
            return read() if batch.failed else batch.result
        if in_flight is not None:
            in_flight.done.wait()  # it started before some of this batch asked: its result is not theirs
        with self._lock:
            del self._waiting[key]
            self._running[key] = batch
        try:
            batch.result = read()
            return batch.result
        except BaseException:
            batch.failed = True
            raise
        finally:
            with self._lock:
                del self._running[key]
            batch.done.set()
