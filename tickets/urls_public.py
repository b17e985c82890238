"""Pages citizens reach without logging in (tracking, happy-call surveys)."""

from django.urls import path

from tickets.views import public

urlpatterns = [
    path("track/", public.track, name="track"),
    path("survey/<str:token>/", public.survey, name="survey"),
    path("survey/<str:token>/opt-out/", public.survey_opt_out, name="survey-opt-out"),
]
