"""The supervisors' live wallboard socket (placeholder until built)."""

from channels.generic.websocket import AsyncJsonWebsocketConsumer


class WallboardConsumer(AsyncJsonWebsocketConsumer):
    async def connect(self) -> None:
        await self.close(code=4403)
