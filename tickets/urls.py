from django.urls import path

from tickets import views

urlpatterns = [
    path("inbox/", views.department_inbox, name="department-inbox"),
]
