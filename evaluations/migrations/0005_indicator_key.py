"""Indicator.key: a stable identity for each indicator row.

The column is added blank, every existing row gets its own random key, and only then
do the default and the (evaluation, key) uniqueness apply. Reversible: going back
drops the constraint and the column (the keys are not needed before this migration).
"""

import uuid

import evaluations.models
from django.db import migrations, models


def fill_keys(apps, schema_editor):
    Indicator = apps.get_model("evaluations", "Indicator")
    batch = []
    for indicator in Indicator.objects.filter(key="").only("pk").iterator(chunk_size=2000):
        indicator.key = uuid.uuid4().hex
        batch.append(indicator)
        if len(batch) >= 2000:
            Indicator.objects.bulk_update(batch, ["key"])
            batch = []
    if batch:
        Indicator.objects.bulk_update(batch, ["key"])


class Migration(migrations.Migration):
    dependencies = [
        ("evaluations", "0004_form_limits"),
    ]

    operations = [
        migrations.AddField(
            model_name="indicator",
            name="key",
            field=models.CharField(
                default="", editable=False, max_length=32, verbose_name="行标识"
            ),
        ),
        migrations.RunPython(fill_keys, migrations.RunPython.noop, elidable=True),
        migrations.AlterField(
            model_name="indicator",
            name="key",
            field=models.CharField(
                default=evaluations.models.new_row_key,
                editable=False,
                max_length=32,
                verbose_name="行标识",
            ),
        ),
        migrations.AddConstraint(
            model_name="indicator",
            constraint=models.UniqueConstraint(
                fields=("evaluation", "key"), name="indicator_unique_key"
            ),
        ),
    ]
