"""The national re-check rules for tests: shipped by a data migration, which a transactional
test's flush empties; restored here by the migration's own function when missing."""

from __future__ import annotations

import importlib

from django.apps import apps

from rechecks.models import NATIONAL_RULE_SET, RecheckRuleSet

_MIGRATION = importlib.import_module("rechecks.migrations.0003_national_recheck_rules")


def national_rule_set() -> RecheckRuleSet:
    """The national rule set, created as the migration does if a flush removed it."""
    _MIGRATION.create(apps, None)
    return RecheckRuleSet.objects.get(name=NATIONAL_RULE_SET)
