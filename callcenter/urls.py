from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from callcenter import views
from callcenter.forms import LoginForm

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path(
        "accounts/login/",
        auth_views.LoginView.as_view(
            authentication_form=LoginForm, redirect_authenticated_user=True
        ),
        name="login",
    ),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("agent/", views.agent_console, name="agent-console"),
    path("supervisor/", views.supervisor_dashboard, name="supervisor-dashboard"),
    path("department/", include("tickets.urls")),
    path("admin/", admin.site.urls),
]
