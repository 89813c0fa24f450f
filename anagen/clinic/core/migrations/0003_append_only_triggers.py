"""The database refuses UPDATE and DELETE on e-signatures (see core.append_only).

After 0002 on purpose: on SQLite, 0002's AddField rebuilds the table, which would drop triggers.
"""

from django.db import migrations

from anagen.clinic.core.append_only import migration_operation


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0002_signature_key_id"),
    ]

    operations = [
        migration_operation("core_signature", "signatures are append-only"),
    ]
