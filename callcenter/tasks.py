from celery import shared_task

from callcenter.services.kakao import kakao_conversations_close_idle
from callcenter.services.outbox import outbox_sweep
from callcenter.services.recordings import recordings_expire
from callcenter.services.scheduler import worker_heartbeat_record


@shared_task
def worker_heartbeat() -> str:
    """Record that a worker is alive and its beat schedule runs (shown by /healthz)."""
    return worker_heartbeat_record().isoformat()


@shared_task
def outbox_sweep_task() -> int:
    """Send the outbound messages that are due: retries, and rows whose task was lost."""
    return outbox_sweep()


@shared_task
def recordings_expire_task() -> int:
    """Delete the call recordings older than VOICE_RECORDING_RETENTION_DAYS (daily)."""
    return recordings_expire()


@shared_task
def kakao_conversations_close_idle_task() -> int:
    """End the KakaoTalk conversations the bot kept that went quiet (every 5 minutes)."""
    return kakao_conversations_close_idle()


@shared_task
def stats_refresh_task() -> int:
    """Recompute the recent statistics rows (STATS_REFRESH_DAYS) from the raw rows."""
    from callcenter.services.stats import stats_refresh

    return stats_refresh()


@shared_task
def qa_sample_task() -> int:
    """Queue this week's random sample of contacts per agent for evaluation."""
    from callcenter.services.qa import qa_sample_week

    return qa_sample_week()


@shared_task
def report_daily_summary_task() -> int:
    """E-mail yesterday's summary to REPORT_SUMMARY_RECIPIENTS (0 when none are set)."""
    from callcenter.services.report_summary import report_daily_summary_send

    return report_daily_summary_send()
