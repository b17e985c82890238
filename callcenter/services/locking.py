"""The one way services lock rows: state is read and checked under the lock it changes under.

- ``row_locked(instance)``: the row read afresh and locked until the transaction ends; its
  state is checked on this copy, never on the caller's (possibly stale) one.
- ``rows_skip_locked(queryset)``: the rows nobody else holds, locked (routers and workers
  sharing work take different rows instead of queueing behind each other).

Both are no-ops on SQLite, where a write transaction already excludes the others.
"""

from typing import TypeVar

from django.db import models

M = TypeVar("M", bound=models.Model)


def row_locked(instance: M, *, related: tuple[str, ...] = ()) -> M:
    """``instance``'s row, read again and locked (``related``: foreign keys to read along,
    not locked)."""
    queryset = type(instance)._default_manager.select_for_update(of=("self",))
    if related:
        queryset = queryset.select_related(*related)
    return queryset.get(pk=instance.pk)


def rows_skip_locked(queryset: models.QuerySet[M]) -> models.QuerySet[M]:
    """Lock the rows of ``queryset``, skipping those another transaction holds."""
    return queryset.select_for_update(skip_locked=True, of=("self",))
