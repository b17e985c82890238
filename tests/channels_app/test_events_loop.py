"""Events leave through the event loop that called the domain code, after the commit.

A pool thread that stores a message must not wait for the loop to send it (it would hold
one of the few pool threads while the loop is busy): it hands the send to the loop and
returns. Each group still hears its events in the order they were committed.
"""

import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction

from channels_app import events
from channels_app.consumers.base import db_call

pytestmark = pytest.mark.django_db(transaction=True)


def _publish_in_one_transaction(count: int) -> dict:
    seen = {"loop_found": events.calling_loop() is not None}
    with transaction.atomic():
        for n in range(count):
            events.send_after_commit(["ordered", f"one.{n % 3}"], {"type": "probe", "n": n})
    return seen


async def test_a_pool_thread_hands_its_events_to_the_loop_and_each_group_keeps_its_order():
    layer = get_channel_layer()
    ordered = await layer.new_channel()
    await layer.group_add("ordered", ordered)
    one = await layer.new_channel()
    await layer.group_add("one.1", one)

    seen = await db_call(_publish_in_one_transaction)(30)

    assert seen["loop_found"]  # called through db_call: the loop sends, the thread returned
    received = [(await layer.receive(ordered))["n"] for _ in range(30)]
    assert received == list(range(30))
    assert [(await layer.receive(one))["n"] for _ in range(10)] == list(range(1, 30, 3))


async def test_a_rolled_back_transaction_sends_nothing_through_the_loop():
    layer = get_channel_layer()
    channel = await layer.new_channel()
    await layer.group_add("rolled", channel)

    def change_then_fail():
        with transaction.atomic():
            events.send_after_commit(["rolled"], {"type": "probe", "n": "lost"})
            raise RuntimeError("the change fails")

    with pytest.raises(RuntimeError):
        await db_call(change_then_fail)()
    await db_call(lambda: events.broadcast(["rolled"], {"type": "probe", "n": "kept"}))()
    assert (await layer.receive(channel))["n"] == "kept"


def test_outside_an_event_loop_the_send_is_done_when_the_call_returns():
    layer = get_channel_layer()
    channel = async_to_sync(layer.new_channel)()
    async_to_sync(layer.group_add)("plain", channel)
    assert events.calling_loop() is None
    events.broadcast(["plain"], {"type": "probe", "n": 1})
    assert async_to_sync(layer.receive)(channel)["n"] == 1


def test_a_second_event_loop_does_not_wait_on_the_order_chain_of_another():
    """Two loops in one process (threads, tests): a group's send on one loop must not wait
    for a send still pending on the other, which that loop may never run again."""
    import asyncio

    first = asyncio.new_event_loop()

    async def leave_one_pending() -> None:
        events._schedule(["shared"], {"type": "probe", "n": 1})  # never awaited

    first.run_until_complete(leave_one_pending())

    async def send_on_a_second_loop() -> dict:
        layer = get_channel_layer()
        channel = await layer.new_channel()
        await layer.group_add("shared", channel)
        events._schedule(["shared"], {"type": "probe", "n": 2})
        return await asyncio.wait_for(layer.receive(channel), timeout=5)

    try:
        assert asyncio.run(send_on_a_second_loop())["n"] == 2
    finally:
        for task in asyncio.all_tasks(first):
            task.cancel()
        first.close()
