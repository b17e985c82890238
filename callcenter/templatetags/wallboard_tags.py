"""Filters for the wallboard's first render (the page's script keeps them current)."""

from datetime import datetime

from django import template

register = template.Library()


def _mmss(seconds: float) -> str:
    whole = max(0, int(seconds))
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


@register.filter
def seconds_mmss(value: int | None) -> str:
    """A number of seconds as m:ss (h:mm:ss past an hour); nothing → '–'."""
    return "–" if value is None else _mmss(value)


@register.filter
def elapsed_mmss(since: str | None, at: str) -> str:
    """The time from the ISO moment ``since`` to the snapshot's ``at``, as m:ss."""
    if not since:
        return "–"
    return _mmss((datetime.fromisoformat(at) - datetime.fromisoformat(since)).total_seconds())
