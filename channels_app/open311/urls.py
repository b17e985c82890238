"""/open311/v2/: the GeoReport v2 resources, each as ``<name>.json`` or ``<name>.xml``."""

from django.urls import re_path

from channels_app.open311 import views

FORMAT = r"\.(?P<fmt>[^./]+)$"

urlpatterns = [
    re_path(r"^discovery" + FORMAT, views.discovery, name="open311-discovery"),
    re_path(r"^services" + FORMAT, views.service_list, name="open311-services"),
    re_path(
        r"^services/(?P<service_code>[^/]+?)" + FORMAT,
        views.service_definition,
        name="open311-service-definition",
    ),
    re_path(r"^requests" + FORMAT, views.service_requests, name="open311-requests"),
    re_path(
        r"^requests/(?P<service_request_id>[^/]+?)" + FORMAT,
        views.request_detail,
        name="open311-request",
    ),
    re_path(r"^", views.unknown_resource, name="open311-unknown"),
]
