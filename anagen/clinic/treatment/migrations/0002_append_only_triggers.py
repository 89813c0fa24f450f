"""The database refuses UPDATE and DELETE on custody events (see common.append_only)."""

from django.db import migrations

from anagen.clinic.common.append_only import migration_operation


class Migration(migrations.Migration):
    dependencies = [
        ("treatment", "0001_initial"),
    ]

    operations = [
        migration_operation("treatment_custodyevent", "custody events are append-only"),
    ]
