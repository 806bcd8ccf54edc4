"""Where a request came from: chat, or a backend's own increase request.

A native request's source is `native:<backend>:<id>`, so the write-back finds its id again.
"""

from __future__ import annotations

_NATIVE = "native"


def native_source(backend: str, native_id: str) -> str:
    """The `source` of a request taken in from a backend's native request."""
    return f"{_NATIVE}:{backend}:{native_id}"


def native_id_of(source: str, backend: str) -> str | None:
    """The backend's id of the native request behind a request's `source`, if it has one."""
    prefix = f"{_NATIVE}:{backend}:"
    return source.removeprefix(prefix) if source.startswith(prefix) else None


def is_native(source: str) -> bool:
    """Whether a request came from a backend's native request (of any backend)."""
    return source.startswith(f"{_NATIVE}:")
