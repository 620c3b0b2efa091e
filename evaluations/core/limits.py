"""How much one form may hold: the limits shared by the model, the web form and the importers.

Decided from the printed form (A4 landscape, the layout of docs/domain.md): a goal cell spans
half the page width (about 40 characters a line), so 2,000 characters fill most of a
page; an indicator row's cells are narrow, so their texts are a few lines each. Real
forms (the seed files) stay far below: the longest goal has 548 characters, the longest
deviation 151, the longest indicator name 59, and the most rows in one form is 15.

The PDF's rendering time grows with the number of printed lines, and faster than linearly
with the length of one cell (1 MB of goal text took 344 s), which is why the long texts
are bounded at all. With every field at its limit and ``MAX_INDICATORS`` rows the PDF must
render in under 5 s (``scripts/bench_pdf.py --longest``): the deviation text dominates,
so it is held to 300 characters, twice the longest seen in a real form.

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
    "deviation": 300,
    # The signature block below the table: a person's name and a phone number.
    "filler_name": 50,
    "filler_phone": 30,
    "unit_head": 50,
}

# Long texts: free prose on several lines (a textarea on the web form, TEXT in the database).
LONG_TEXTS = frozenset({"goal_target", "goal_actual", "deviation"})

# Single-line texts: names and numbers that end up in mail subjects, list cells and file
# names; no line break or tab (``safetext.single_line`` / ``validate_single_line``).
SINGLE_LINE_TEXTS = frozenset(
    {"project_name", "department", "implementing_unit", "filler_name", "filler_phone", "unit_head"}
)

# Indicator rows of one form: the web form, the importers and the service all stop here.
MAX_INDICATORS = 60

# Texts of the workflow: a return or reopen reason, a row comment, a warning's explanation.
REASON_MAX_LENGTH = 2000
COMMENT_MAX_LENGTH = 1000
