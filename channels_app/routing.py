from django.urls import path

from channels_app.consumers.agent import AgentConsumer
from channels_app.consumers.chat import CitizenChatConsumer
from channels_app.consumers.department import DepartmentConsumer
from channels_app.consumers.video import VideoSignalConsumer
from channels_app.consumers.wallboard import WallboardConsumer

websocket_urlpatterns = [
    path("ws/agent/", AgentConsumer.as_asgi()),
    path("ws/department/", DepartmentConsumer.as_asgi()),
    path("ws/chat/", CitizenChatConsumer.as_asgi()),
    path("ws/chat/<str:token>/", CitizenChatConsumer.as_asgi()),
    path("ws/video/<str:room>/", VideoSignalConsumer.as_asgi()),
    path("ws/wallboard/", WallboardConsumer.as_asgi()),
]
