"""Saved-once form tokens, moved here from the former ``core`` app with their rows.

A fresh install creates the table; an installation that still has ``core_submittedform`` adopts
it, rows included (``common.moved_tables``).
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

from anagen.clinic.common.moved_tables import adopt_or_create


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ('contenttypes', '0002_remove_content_type_name'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(state_operations=[migrations.CreateModel(
            name='SubmittedForm',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('token', models.UUIDField(unique=True)),
                ('created_at', models.DateTimeField(auto_now_add=True)),
                ('result_url', models.CharField(max_length=500)),
                ('user', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='+', to=settings.AUTH_USER_MODEL)),
            ],
        )]),
        adopt_or_create(
            "common", "SubmittedForm", old_table="core_submittedform", old_app_label="core"
        ),
    ]
