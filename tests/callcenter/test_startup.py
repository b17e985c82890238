"""What a server process does before its first request (callcenter.startup)."""

import gc
import sys

from callcenter.startup import freeze_startup_objects


def test_start_up_loads_every_view_and_freezes_it_out_of_the_collectors_scans():
    """A full collection then scans only what requests left behind (bench/voice.py saw a
    60-120 ms stop without it); the views are imported before, not on a first request."""
    gc.unfreeze()
    try:
        freeze_startup_objects()
        assert "channels_app.twilio_voice" in sys.modules
        assert gc.get_freeze_count() > 10_000
        assert gc.get_count()[2] == 0  # nothing left over for the next full collection
    finally:
        gc.unfreeze()
