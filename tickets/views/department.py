from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_GET

from callcenter.roles import OFFICER, role_required
from tickets import selectors
from tickets.models import Officer


def _get_officer_for_user(request: HttpRequest) -> Officer:
    return get_object_or_404(Officer.objects.select_related("department"), user=request.user)


@role_required(OFFICER)
@require_GET
def department_inbox(request: HttpRequest) -> HttpResponse:
    officer = _get_officer_for_user(request)
    tickets = selectors.department_inbox(department=officer.department)
    page = Paginator(tickets, 25).get_page(request.GET.get("page"))
    return render(
        request,
        "tickets/department_inbox.html",
        {"department": officer.department, "page": page},
    )
