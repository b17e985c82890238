"""Staff pages for tickets: the list and one ticket."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_GET

from callcenter.roles import AGENT, SUPERVISOR, role_required
from tickets.models import Ticket


@role_required(AGENT, SUPERVISOR)
@require_GET
def ticket_detail(request: HttpRequest, ticket_id: int) -> HttpResponse:
    ticket = get_object_or_404(Ticket, pk=ticket_id)
    return render(request, "tickets/ticket_detail.html", {"ticket": ticket})
