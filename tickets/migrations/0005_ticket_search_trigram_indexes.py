"""Trigram indexes for the ticket list's text search, on PostgreSQL only.

The search matches every term anywhere in the number, subject, inquiry, answer and internal
notes (``icontains``, i.e. ``UPPER(col) LIKE UPPER('%term%')``). Without an index that is a
scan of every ticket and note per term; pg_trgm's GIN indexes on the same ``UPPER(...)``
expressions answer it from the index (pg_trgm splits Hangul into trigrams too). Other
databases keep the plain scan, which is fine at their sizes. Creating the extension needs a
role allowed to (the database owner on PostgreSQL 13+ for trusted extensions like pg_trgm).
"""

from django.db import migrations

INDEXES = {
    "ticket_number_trgm": "tickets_ticket USING gin (UPPER(number::text) gin_trgm_ops)",
    "ticket_subject_trgm": "tickets_ticket USING gin (UPPER(subject::text) gin_trgm_ops)",
    "ticket_description_trgm": "tickets_ticket USING gin (UPPER(description) gin_trgm_ops)",
    "ticket_answer_trgm": "tickets_ticket USING gin (UPPER(answer) gin_trgm_ops)",
    "ticketevent_note_trgm": (
        "tickets_ticketevent USING gin (UPPER((data ->> 'text')::text) gin_trgm_ops) "
        "WHERE type = 'commented'"
    ),
}


def create_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for name, definition in INDEXES.items():
        schema_editor.execute(f"CREATE INDEX IF NOT EXISTS {name} ON {definition}")


def drop_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [("tickets", "0004_tickets_lifecycle")]

    operations = [migrations.RunPython(create_indexes, drop_indexes)]
