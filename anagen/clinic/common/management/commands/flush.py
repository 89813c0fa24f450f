"""``manage.py flush`` that also empties the append-only tables on SQLite.

On PostgreSQL Django flushes with TRUNCATE, which row triggers do not see, so the append-only
triggers (``common.append_only``) let a flush through unchanged. SQLite has no TRUNCATE: flush is
``DELETE FROM`` every table, which the triggers refuse. Here the triggers are dropped and
re-created around the flush, inside the flush's own transaction, so SQLite behaves as PostgreSQL
does: erasing the whole database stays possible (it is an operator action, and the test runner's
between-test reset), deleting some custody events or signatures is not. Nothing else changes.
"""

from __future__ import annotations

from django.core.management.commands import flush
from django.db import connections, transaction

from anagen.clinic.common.append_only import SUFFIX


class Command(flush.Command):
    def handle(self, **options):
        connection = connections[options["database"]]
        if connection.vendor != "sqlite":
            return super().handle(**options)
        ops = connection.ops
        execute_sql_flush = ops.execute_sql_flush

        def flush_around_triggers(sql_list):
            with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
                cursor.execute(
                    "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND name LIKE %s",
                    [f"%{SUFFIX}"],
                )
                triggers = cursor.fetchall()
                for name, _ in triggers:
                    cursor.execute(f'DROP TRIGGER "{name}"')
                execute_sql_flush(sql_list)
                for _, sql in triggers:
                    cursor.execute(sql)

        # Only this command's call on this connection (connections are per thread).
        ops.execute_sql_flush = flush_around_triggers
        try:
            return super().handle(**options)
        finally:
            del ops.execute_sql_flush
