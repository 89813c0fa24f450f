"""The database refuses UPDATE and DELETE on review scores (see common.append_only)."""

from django.db import migrations

from anagen.clinic.common.append_only import migration_operation


class Migration(migrations.Migration):
    dependencies = [
        ("review", "0001_initial"),
    ]

    operations = [
        migration_operation("review_reviewscore", "review scores are append-only"),
    ]
