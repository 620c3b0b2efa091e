"""Model field options shared by the form's models and those built on it (campaigns, re-checks).

Kept apart from ``evaluations.models`` so that a model of a higher app takes the same
money and points columns without importing the form's models for a constant.
"""

from __future__ import annotations

from django.core.validators import MinValueValidator
from django.utils.translation import gettext_lazy as _

from common.safetext import validate_clean_text

MONEY = {
    "max_digits": 16,
    "decimal_places": 4,
    "null": True,
    "blank": True,
    "validators": [MinValueValidator(0, message=_("金额不能为负数。"))],
}
POINTS = {"max_digits": 7, "decimal_places": 2}
NON_NEGATIVE = [MinValueValidator(0, message=_("分值不能为负数。"))]
CLEAN = [validate_clean_text]
