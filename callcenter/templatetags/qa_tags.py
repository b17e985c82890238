"""The agent's "My evaluations" badge. A tag rather than a context processor: it runs only
where base.html draws that link (agents who are not supervisors), not for every fragment
an htmx page renders."""

from django import template

from callcenter import selectors_qa

register = template.Library()


@register.simple_tag
def qa_news_count(user) -> int:
    """Evaluations waiting for ``user``'s answer plus dispute resolutions they have not
    read (one COUNT query)."""
    return selectors_qa.agent_news_count(user)
