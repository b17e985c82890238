"""URLs of the reports pages (included by callcenter.urls under supervisor/reports/)."""

from django.urls import path, re_path

from callcenter import report_views

urlpatterns = [
    path("", report_views.reports, name="supervisor-reports"),
    re_path(
        r"^export\.(?P<fmt>csv|xlsx)$",
        report_views.reports_export,
        name="supervisor-reports-export",
    ),
]
