"""A user's named ticket-list filters: kept per user and name, only ever their own."""

from django.core.exceptions import PermissionDenied

from callcenter.models import User
from tickets.models import SavedFilter


def saved_filter_save(*, user: User, name: str, query: str) -> SavedFilter:
    """Keep the ticket list's query under ``name`` for ``user``; saving a name again
    replaces that filter's query, so the user sees one filter per name."""
    saved, _created = SavedFilter.objects.update_or_create(
        user=user, name=name, defaults={"query": query}
    )
    return saved


def saved_filter_delete(*, saved_filter: SavedFilter, user: User) -> None:
    """Remove one of the user's own filters; another user's filter is refused."""
    if saved_filter.user_id != user.pk:
        raise PermissionDenied("This filter belongs to another user.")
    saved_filter.delete()
