"""URLs of the qa pages (included by callcenter.urls under /qa/)."""

from django.urls import path

from callcenter import qa_views

urlpatterns = [
    path("", qa_views.qa_home, name="qa-home"),
    path("sample/", qa_views.qa_sample_now, name="qa-sample-now"),
    path("forms/", qa_views.qa_forms, name="qa-forms"),
    path("forms/new/", qa_views.qa_form_new, name="qa-form-new"),
    path("forms/<int:form_id>/", qa_views.qa_form_edit, name="qa-form-edit"),
    path("forms/<int:form_id>/copy/", qa_views.qa_form_copy, name="qa-form-copy"),
    path("contacts/<int:contact_id>/evaluate/", qa_views.qa_evaluate, name="qa-evaluate"),
    path("contacts/<int:contact_id>/calibration/", qa_views.qa_calibration, name="qa-calibration"),
    path("evaluations/<int:evaluation_id>/", qa_views.qa_evaluation, name="qa-evaluation"),
    path(
        "evaluations/<int:evaluation_id>/acknowledge/",
        qa_views.qa_acknowledge,
        name="qa-acknowledge",
    ),
    path("evaluations/<int:evaluation_id>/dispute/", qa_views.qa_dispute, name="qa-dispute"),
    path("evaluations/<int:evaluation_id>/resolve/", qa_views.qa_resolve, name="qa-resolve"),
    path("evaluations/<int:evaluation_id>/discard/", qa_views.qa_draft_discard, name="qa-discard"),
    path("mine/", qa_views.qa_mine, name="qa-mine"),
    path("agents/<int:agent_id>/", qa_views.qa_agent_scorecard, name="qa-agent-scorecard"),
]
