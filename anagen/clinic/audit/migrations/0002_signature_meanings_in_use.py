"""Signature meanings: only release and verify are signed by any step of the clinic.

Consent, witness, author and administer were never written (the patient's consent is a Consent
record). Choices are not stored in the database: no table rebuild, the triggers stay as they are.
"""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('audit', '0001_initial'),
    ]

    operations = [
        migrations.AlterField(
            model_name='signature',
            name='meaning',
            field=models.CharField(choices=[('release', 'Released: the product meets every release criterion'), ('verify', 'Second-person verification of identity')], max_length=16),
        ),
    ]
