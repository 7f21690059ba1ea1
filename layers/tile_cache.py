"""In-process LRU cache of rendered tiles.

Keys are ``(source id, version, z, x, y, format)``: a new layer or scenario version gives new
keys, so an edit is visible on the next request and stale entries simply age out.
"""
from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Generic, TypeVar

TileKey = tuple[str, str, int, int, int, str]
T = TypeVar("T")

#: Default budget of the shared cache.
DEFAULT_MAX_ENTRIES = 20_000
DEFAULT_MAX_BYTES = 128 * 1024 * 1024


class TileCache(Generic[T]):
    """Thread-safe LRU cache bounded by entry count and by total content bytes.

    Values must have a ``content`` attribute (``bytes``) whose length is counted, with that of
    ``content_gzip`` when they have one.
    """

    def __init__(self, max_entries: int = DEFAULT_MAX_ENTRIES, max_bytes: int = DEFAULT_MAX_BYTES):
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self._entries: OrderedDict[TileKey, T] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def get(self, key: TileKey) -> T | None:
        """The cached value for ``key`` (marked most recently used), or ``None``."""
        with self._lock:
            value = self._entries.get(key)
            if value is None:
                self.misses += 1
                return None
            self._entries.move_to_end(key)
            self.hits += 1
            return value

    def put(self, key: TileKey, value: T) -> None:
        """Store ``value``; evicts least recently used entries beyond the budget."""
        size = _size(value)
        with self._lock:
            previous = self._entries.pop(key, None)
            if previous is not None:
                self._bytes -= _size(previous)
            self._entries[key] = value
            self._bytes += size
            while self._entries and (len(self._entries) > self.max_entries or self._bytes > self.max_bytes):
                _, evicted = self._entries.popitem(last=False)
                self._bytes -= _size(evicted)

    def clear(self) -> None:
        """Drop every entry."""
        with self._lock:
            self._entries.clear()
            self._bytes = 0

    def __len__(self) -> int:
        return len(self._entries)

    @property
    def size_bytes(self) -> int:
        """Total bytes of cached tile content."""
        return self._bytes


def _size(value) -> int:
    return len(value.content) + len(getattr(value, "content_gzip", None) or b"")


#: The cache shared by all tile sources of the process (unless a source is given its own).
SHARED_TILE_CACHE: TileCache = TileCache()
