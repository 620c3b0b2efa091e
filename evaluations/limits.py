"""How much one form may hold: the limits shared by the model, the web form and the importers.

Decided from the printed form (A4 landscape, the layout of DOMAIN.md): a goal cell spans
half the page width (about 40 characters a line), so 2,000 characters fill most of a
page; an indicator row's cells are narrow, so their texts are a few lines each. Real
forms (the seed files) stay far below: the longest goal has 548 characters, the longest
deviation 151, the longest indicator name 59, and the most rows in one form is 15.

With every field at its limit and ``MAX_INDICATORS`` rows the PDF renders in about
3 s (``scripts/bench_pdf.py --longest``); the rendering time grows faster than linearly
with the length of one cell, which is why the long texts are bounded at all.

These are part of the schema (the model's ``max_length`` and check constraints read
them), so changing one needs a migration. The upload limits live in settings.
"""

from __future__ import annotations

# Characters per text field of the form.
TEXT_LIMITS: dict[str, int] = {
    "project_name": 300,
    "department": 200,
    "implementing_unit": 200,
    "goal_target": 2000,
    "goal_actual": 2000,
    "level1": 50,
    "level2": 50,
    "name": 200,
    "target": 100,
    "actual": 100,
    "deviation": 500,
}

# Indicator rows of one form: the web form, the importers and the service all stop here.
MAX_INDICATORS = 60

# Texts of the workflow: a return or reopen reason, a row comment, a warning's explanation.
REASON_MAX_LENGTH = 2000
COMMENT_MAX_LENGTH = 1000
