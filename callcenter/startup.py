"""What a server process does once it has started, before its first request."""

import gc

from django.urls import get_resolver


def freeze_startup_objects() -> None:
    """Move what start-up made (modules, settings, URL patterns, translations: it lives as
    long as the process) out of the garbage collector's reach, so a full collection scans
    only what requests left behind (gc.freeze, as CPython's documentation advises for
    long-running servers).

    Without it a full collection held every request of a daphne process for 60-120 ms a few
    seconds into a load (bench/voice.py traced it: the phone webhooks' p99); with it, 5-15 ms.
    The URL patterns are loaded first, so every view module is imported now, not on a
    request, and is frozen with the rest."""
    get_resolver().url_patterns  # noqa: B018 - the property imports the view modules
    gc.collect()
    gc.freeze()
