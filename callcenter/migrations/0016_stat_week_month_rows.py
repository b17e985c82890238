"""The week and month StatRow rows, summed here from the daily rows already kept (a
rebuild is not needed after this migration)."""

from django.db import migrations, models


def week_and_month_rows(apps, schema_editor):
    from django.db.models import Max, Min

    from callcenter import metrics
    from callcenter.services.stats import rollup_periods

    model = apps.get_model("callcenter", "StatRow")
    span = model.objects.filter(grain="1d").aggregate(first=Min("start"), last=Max("start"))
    if span["first"] is not None:
        rollup_periods(
            span["first"].astimezone(metrics.SEOUL).date(),
            span["last"].astimezone(metrics.SEOUL).date(),
            model=model,
        )


class Migration(migrations.Migration):
    dependencies = [
        ("callcenter", "0015_stat_hour_rows"),
    ]

    operations = [
        migrations.AlterField(
            model_name="statrow",
            name="grain",
            field=models.CharField(
                choices=[("15m", "15 minutes"), ("1d", "day"), ("1w", "week"), ("1mo", "month")],
                max_length=3,
            ),
        ),
        migrations.RunPython(week_and_month_rows, migrations.RunPython.noop),
    ]
