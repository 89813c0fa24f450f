"""E-signatures, moved here from the former ``core`` app with their rows.

On a fresh install the table is created; on an installation that still has ``core_signature``
(migrated before the move) that table is adopted: renamed with its rows, its index renamed, its
content type moved to this app (``common.moved_tables``). Either way the append-only triggers
are then installed under the new table name (``common.append_only``).
"""

import anagen.clinic.common.clock
import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

from anagen.clinic.common.append_only import migration_operation
from anagen.clinic.common.moved_tables import adopt_or_create


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ('contenttypes', '0002_remove_content_type_name'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(state_operations=[migrations.CreateModel(
            name='Signature',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('signer_name', models.CharField(max_length=200)),
                ('meaning', models.CharField(choices=[('consent', 'Consent given by the patient'), ('witness', "Witnessed the patient's consent"), ('author', 'Author: recorded and confirms as correct'), ('release', 'Released: the product meets every release criterion'), ('verify', 'Second-person verification of identity'), ('administer', 'Administered to the patient')], max_length=16)),
                ('signed_at', models.DateTimeField(default=anagen.clinic.common.clock.now, editable=False)),
                ('object_id', models.PositiveBigIntegerField()),
                ('record_digest', models.CharField(help_text='HMAC-SHA256 (hex) of the signature and the signed fields; plain SHA-256 of the fields for legacy signatures', max_length=64)),
                ('key_id', models.CharField(blank=True, default='', help_text='Id of the server key in ANAGEN_SIGNATURE_KEYS; empty: legacy unkeyed digest', max_length=32)),
                ('record_version', models.PositiveBigIntegerField(help_text='history_id of the record version that was signed', null=True)),
                ('content_type', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, to='contenttypes.contenttype')),
                ('signer', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
            ],
            options={
                'ordering': ['signed_at'],
                'indexes': [models.Index(fields=['content_type', 'object_id'], name='audit_signa_content_45d8e8_idx')],
            },
        )]),
        adopt_or_create(
            "audit",
            "Signature",
            old_table="core_signature",
            old_app_label="core",
            renamed_indexes={"core_signat_content_e7bd32_idx": "audit_signa_content_45d8e8_idx"},
        ),
        migration_operation("audit_signature", "signatures are append-only"),
    ]
