from django.urls import path

from tickets.views import ticket_actions as actions
from tickets.views import tickets as views

urlpatterns = [
    path("", views.ticket_list, name="ticket-list"),
    path("bulk/", actions.ticket_bulk, name="ticket-bulk"),
    path("filters/", views.saved_filter_save, name="ticket-filter-save"),
    path("filters/<int:filter_id>/delete/", views.saved_filter_delete, name="ticket-filter-delete"),
    path("<int:ticket_id>/", views.ticket_detail, name="ticket-detail"),
    path(
        "<int:ticket_id>/attachments/<int:attachment_id>/",
        views.ticket_attachment,
        name="ticket-attachment",
    ),
    path("<int:ticket_id>/attachments/", actions.ticket_attachment_upload, name="ticket-attach"),
    path("<int:ticket_id>/notes/", actions.ticket_note, name="ticket-note"),
    path("<int:ticket_id>/resolve/", actions.ticket_resolve, name="ticket-resolve"),
    path("<int:ticket_id>/assign/", actions.ticket_assign, name="ticket-assign"),
    path("<int:ticket_id>/reopen/", actions.ticket_reopen, name="ticket-reopen"),
    path("<int:ticket_id>/close/", actions.ticket_close, name="ticket-close"),
    path("<int:ticket_id>/merge/", actions.ticket_merge, name="ticket-merge"),
    path("<int:ticket_id>/sla/pause/", actions.ticket_sla_pause, name="ticket-sla-pause"),
    path("<int:ticket_id>/sla/resume/", actions.ticket_sla_resume, name="ticket-sla-resume"),
]
