"""The one way services lock rows: state is read and checked under the lock it changes under.

- ``row_locked(instance)``: the row locked until the transaction ends and read afresh into
  ``instance`` itself: state is checked on what the database holds under the lock, never on
  what the caller read earlier, and the caller's object is current afterwards.
- ``rows_skip_locked(queryset)``: the rows nobody else holds, locked (routers and workers
  sharing work take different rows instead of queueing behind each other).

Both are no-ops on SQLite, where a write transaction already excludes the others.
"""

from typing import TypeVar

from django.db import models

M = TypeVar("M", bound=models.Model)


def row_locked(instance: M, *, related: tuple[str, ...] = ()) -> M:
    """``instance`` with its row locked and read again into it. Call it inside
    ``transaction.atomic()``. ``related``: foreign keys read along, neither locked nor read
    again after waiting for the lock (PostgreSQL re-reads only the locked row), so never
    check their state."""
    queryset = type(instance)._default_manager.select_for_update(of=("self",))
    if related:
        queryset = queryset.select_related(*related)
    instance.refresh_from_db(from_queryset=queryset)
    return instance


def rows_skip_locked(queryset: models.QuerySet[M]) -> models.QuerySet[M]:
    """Lock the rows of ``queryset``, skipping those another transaction holds."""
    return queryset.select_for_update(skip_locked=True, of=("self",))
