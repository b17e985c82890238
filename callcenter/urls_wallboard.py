"""URLs of the wallboard pages (included by callcenter.urls)."""

from django.urls import path

from callcenter import wallboard_views

urlpatterns = [
    path("", wallboard_views.wallboard, name="supervisor-wallboard"),
    path(
        "agents/<int:agent_id>/presence",
        wallboard_views.agent_presence,
        name="wallboard-agent-presence",
    ),
    path(
        "contacts/<int:contact_id>/queue",
        wallboard_views.contact_queue,
        name="wallboard-contact-queue",
    ),
    path(
        "contacts/<int:contact_id>/take-over",
        wallboard_views.contact_take_over,
        name="wallboard-contact-take-over",
    ),
]
