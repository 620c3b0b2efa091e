"""Evaluation.totals_computed: the execution score and total were set by the rules, not typed.

The web form has always stated the computed figures; from now on it says so. Existing forms
whose current version was written by anything but an import (the web form, 开始填报) get
True; a form whose current version came from an imported file keeps its typed totals.
Reversible: going back drops the column.
"""

from django.db import migrations, models
from django.db.models import Exists, OuterRef

IMPORTED = "imported"


def mark_computed(apps, schema_editor):
    Evaluation = apps.get_model("evaluations", "Evaluation")
    EvaluationEvent = apps.get_model("evaluations", "EvaluationEvent")
    # The import that wrote the form's current revision (an import bumps the revision as any
    # save does; transitions and evidence files keep it).
    imported = EvaluationEvent.objects.filter(
        evaluation=OuterRef("pk"), action=IMPORTED, revision=OuterRef("revision")
    )
    Evaluation.objects.filter(~Exists(imported)).update(totals_computed=True)


class Migration(migrations.Migration):
    dependencies = [
        ("evaluations", "0007_review_comment_evidence"),
    ]

    operations = [
        migrations.AddField(
            model_name="evaluation",
            name="totals_computed",
            field=models.BooleanField(default=False, verbose_name="总分由系统计算"),
        ),
        migrations.RunPython(mark_computed, migrations.RunPython.noop, elidable=True),
    ]
