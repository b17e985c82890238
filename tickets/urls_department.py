from django.urls import path

from tickets.views import department as views

urlpatterns = [
    path("inbox/", views.department_inbox, name="department-inbox"),
    path("tickets/<int:ticket_id>/", views.department_ticket, name="department-ticket"),
    path(
        "tickets/<int:ticket_id>/answer/",
        views.department_ticket_answer,
        name="department-ticket-answer",
    ),
    path(
        "tickets/<int:ticket_id>/question/",
        views.department_info_request,
        name="department-info-request",
    ),
    path(
        "tickets/<int:ticket_id>/return/",
        views.department_ticket_return,
        name="department-ticket-return",
    ),
    path(
        "tickets/<int:ticket_id>/phone/",
        views.department_reveal_phone,
        name="department-reveal-phone",
    ),
    # The centre's side, shown inside the staff ticket page.
    path(
        "centre/<int:ticket_id>/",
        views.ticket_department_panel,
        name="ticket-department-panel",
    ),
    path(
        "centre/<int:ticket_id>/transfer/",
        views.ticket_department_transfer,
        name="ticket-department-transfer",
    ),
    path(
        "centre/<int:ticket_id>/information/",
        views.ticket_info_provide,
        name="ticket-info-provide",
    ),
]
