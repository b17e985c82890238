from django.urls import path

from tickets.views import department as views

urlpatterns = [
    path("inbox/", views.department_inbox, name="department-inbox"),
]
