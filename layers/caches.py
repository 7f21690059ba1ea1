"""In-process caches keyed by versions (units dataset hash, scenario version, layer versions).

A key names the versions its value was built from, so an edit — made by this process or by
another worker on the same store — gives new keys on the next request and stale values simply
age out of the LRU. :class:`layers.tile_cache.TileCache` caches rendered tiles the same way.
"""
from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Any


class BoundedCache:
    """A small thread-safe LRU dict for values that are costly to build (tile sources, indicator tables).

    Concurrent requests for a missing key build it once: the others wait for that build.
    """

    def __init__(self, max_items: int):
        self.max_items = max_items
        self._items: OrderedDict[Any, Any] = OrderedDict()
        self._lock = threading.Lock()
        self._building: dict[Any, threading.Lock] = {}

    def get_or_build(self, key: Any, build: Callable[[], Any]) -> Any:
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
            key_lock = self._building.setdefault(key, threading.Lock())
        with key_lock:
            with self._lock:
                if key in self._items:  # built by another request while we waited
                    return self._items[key]
            try:
                value = build()  # outside the cache lock: builds can take a while
                self.put(key, value)
            finally:
                with self._lock:
                    self._building.pop(key, None)
        return value

    def put(self, key: Any, value: Any) -> None:
        with self._lock:
            self._items[key] = value
            self._items.move_to_end(key)
            while len(self._items) > self.max_items:
                self._items.popitem(last=False)

    def get(self, key: Any) -> Any:
        with self._lock:
            return self._items.get(key)
