from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from callcenter import bot_views, callback_views, console, recording_views, views
from callcenter.forms import LoginForm
from channels_app import (
    softphone,
    twilio_conference,
    twilio_media,
    twilio_messaging,
    twilio_voice,
    twilio_voicemail,
    twilio_webhooks,
    video,
    video_api,
    video_relay,
    voice_api,
    webchat,
)
from channels_app.kakao import views as kakao_views
from knowledge import api as knowledge_api
from knowledge import urls as knowledge_urls

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("favicon.ico", views.favicon, name="favicon"),
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
    path("agent/contacts/<int:contact_id>/panel/", console.contact_panel, name="contact-panel"),
    path("agent/contacts/<int:contact_id>/ticket/", console.contact_ticket, name="contact-ticket"),
    path(
        "agent/contacts/<int:contact_id>/attachments/",
        console.contact_attachment,
        name="contact-attachment",
    ),
    path(
        "agent/citizens/<int:citizen_id>/reveal-phone/",
        console.citizen_reveal_phone,
        name="citizen-reveal-phone",
    ),
    path("agent/transfer-targets/", console.transfer_targets, name="transfer-targets"),
    path("callbacks/", callback_views.callback_list, name="callback-list"),
    path("callbacks/next/", callback_views.callback_take_next, name="callback-take-next"),
    path("callbacks/badge/", callback_views.callback_badge, name="callback-badge"),
    path("callbacks/<int:callback_id>/", callback_views.callback_detail, name="callback-detail"),
    path("callbacks/<int:callback_id>/take/", callback_views.callback_take, name="callback-take"),
    path(
        "callbacks/<int:callback_id>/outcome/",
        callback_views.callback_outcome,
        name="callback-outcome",
    ),
    path(
        "callbacks/<int:callback_id>/done/",
        callback_views.callback_complete,
        name="callback-complete",
    ),
    path(
        "callbacks/<int:callback_id>/cancel/",
        callback_views.callback_cancel,
        name="callback-cancel",
    ),
    path(
        "callbacks/<int:callback_id>/reassign/",
        callback_views.callback_reassign,
        name="callback-reassign",
    ),
    path(
        "callbacks/<int:callback_id>/reveal-phone/",
        callback_views.callback_reveal_phone,
        name="callback-reveal-phone",
    ),
    path(
        "callbacks/<int:callback_id>/video-link/",
        callback_views.callback_video_link,
        name="callback-video-link",
    ),
    path("chat/", webchat.chat_page, name="chat"),
    path("chat/start", webchat.chat_start, name="chat-start"),
    path("chat/<str:token>/attachments", webchat.chat_attachment, name="chat-attachment"),
    path("files/<str:signed>", webchat.attachment_download, name="attachment"),
    path("video/", video.video_page, name="video"),
    path("video/start", video.video_start, name="video-start"),
    path("video/availability", video.video_availability, name="video-availability"),
    path("video/callback", video.video_callback, name="video-callback"),
    path("api/video/calls/<int:contact_id>", video_api.video_call, name="video-call"),
    path(
        "api/video/calls/<int:contact_id>/recording",
        video_api.video_recording_upload,
        name="video-recording-upload",
    ),
    path(
        "api/video/recordings/<int:recording_id>",
        video_api.video_recording_download,
        name="video-recording",
    ),
    path("api/video/calls/<int:contact_id>/relay", video_relay.video_relay, name="video-relay"),
    path(
        "api/video/calls/<int:contact_id>/relay/end",
        video_relay.video_relay_end,
        name="video-relay-end",
    ),
    path("api/video/relay-targets", video_relay.video_relay_targets, name="video-relay-targets"),
    path("knowledge/", include("knowledge.urls")),
    path("faq/", include(knowledge_urls.faq_urlpatterns)),
    path("api/knowledge/search", knowledge_api.search, name="knowledge-search"),
    path("api/voice/token", softphone.voice_token, name="voice-token"),
    path("api/voice/calls/<int:contact_id>", voice_api.call_state, name="voice-call"),
    path(
        "api/voice/calls/<int:contact_id>/<slug:action>",
        voice_api.call_action,
        name="voice-call-action",
    ),
    path(
        "api/voice/callbacks/<int:callback_id>/dial",
        voice_api.callback_dial,
        name="voice-callback-dial",
    ),
    path(
        "api/knowledge/articles/<int:article_id>/use",
        knowledge_api.article_use,
        name="knowledge-article-use",
    ),
    path(
        "contacts/<int:contact_id>/recording",
        recording_views.contact_recording,
        name="contact-recording",
    ),
    path("supervisor/", views.supervisor_dashboard, name="supervisor-dashboard"),
    path("supervisor/bot/", bot_views.bot_containment, name="supervisor-bot"),
    path("supervisor/reports/", include("callcenter.urls_reports")),
    path("supervisor/wallboard/", include("callcenter.urls_wallboard")),
    path("qa/", include("callcenter.urls_qa")),
    path(
        "supervisor/contacts/<int:contact_id>/",
        views.supervisor_contact,
        name="supervisor-contact",
    ),
    path("tickets/", include("tickets.urls")),
    path("department/", include("tickets.urls_department")),
    path("open311/v2/", include("channels_app.open311.urls")),
    path("twilio/sms/status/", twilio_webhooks.sms_status_callback, name="twilio-sms-status"),
    path(
        "twilio/messaging/incoming",
        twilio_messaging.messaging_incoming,
        name="twilio-messaging-incoming",
    ),
    path(
        "twilio/messaging/status", twilio_messaging.messaging_status, name="twilio-messaging-status"
    ),
    path("kakao/skill", kakao_views.kakao_skill, name="kakao-skill"),
    path("twilio/voice/incoming", twilio_voice.voice_incoming, name="twilio-voice-incoming"),
    path("twilio/voice/menu", twilio_voice.voice_menu, name="twilio-voice-menu"),
    path("twilio/voice/language", twilio_voice.voice_language, name="twilio-voice-language"),
    path("twilio/voice/wait", twilio_voice.voice_wait, name="twilio-voice-wait"),
    path("twilio/voice/status", twilio_voice.voice_status, name="twilio-voice-status"),
    path("twilio/voice/callback", twilio_voice.voice_callback, name="twilio-voice-callback"),
    path("twilio/voice/queue-exit", twilio_voice.voice_queue_exit, name="twilio-voice-queue-exit"),
    path("twilio/voice/voicemail", twilio_voicemail.voice_voicemail, name="twilio-voice-voicemail"),
    path(
        "twilio/voice/voicemail-recording",
        twilio_media.voice_recording,
        name="twilio-voice-voicemail-recording",
    ),
    path(
        "twilio/voice/conference",
        twilio_conference.voice_conference,
        name="twilio-voice-conference",
    ),
    path(
        "twilio/voice/conference-status",
        twilio_conference.voice_conference_status,
        name="twilio-voice-conference-status",
    ),
    path(
        "twilio/voice/participant",
        twilio_conference.voice_participant,
        name="twilio-voice-participant",
    ),
    path(
        "twilio/voice/hold-music",
        twilio_conference.voice_hold_music,
        name="twilio-voice-hold-music",
    ),
    path("twilio/voice/requeue", twilio_conference.voice_requeue, name="twilio-voice-requeue"),
    path("twilio/voice/recording", twilio_media.voice_recording, name="twilio-voice-recording"),
    path(
        "twilio/voice/transcription",
        twilio_media.voice_transcription,
        name="twilio-voice-transcription",
    ),
    path("", include("tickets.urls_public")),
    path("admin/", admin.site.urls),
]
