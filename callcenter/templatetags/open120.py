from datetime import timedelta

from django import template

from callcenter.korean import josa_resolve, with_josa
from callcenter.models import Channel, Presence

register = template.Library()


@register.filter
def percent(value: float | None) -> str:
    """0.8234 → '82.3%'; nothing to divide by → '–'."""
    return "–" if value is None else f"{value * 100:.1f}%"


@register.filter
def duration_mmss(value: timedelta | None) -> str:
    """A duration as m:ss (h:mm:ss past an hour); nothing → '–'."""
    if value is None:
        return "–"
    seconds = round(value.total_seconds())
    hours, rest = divmod(seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{seconds:02d}" if hours else f"{minutes}:{seconds:02d}"


@register.filter
def get_item(mapping: dict, key):
    return mapping.get(key)


@register.filter
def presence_label(value: str) -> str:
    return str(Presence(value).label) if value in Presence.values else value


@register.filter
def channel_label(value: str) -> str:
    return str(Channel(value).label) if value in Channel.values else value


@register.filter(is_safe=True)
def josa(word, pair: str) -> str:
    """{{ name|josa:"을/를" }} → the word with the particle form it takes (기록을, 번호를)."""
    return with_josa(str(word), pair)


@register.filter(is_safe=True)
def josa_resolved(text) -> str:
    """Resolve the two-form particles ("을(를)", "(으)로") of a formatted translation, as in
    {% filter josa_resolved %}{% blocktranslate %}…{% endblocktranslate %}{% endfilter %}."""
    return josa_resolve(text)
