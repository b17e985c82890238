from django.urls import path

from tickets.views import tickets as views

urlpatterns = [
    path("<int:ticket_id>/", views.ticket_detail, name="ticket-detail"),
]
