"""One stored form as printed: the form, its evidence list and the published re-check.

The PDF of a stored evaluation is put together here, above the form, the evidence and the
re-checks, so that none of them has to know about the others' print sections. The single
download, the PDF cache (exports/pdfcache.py) and the bulk exports all print through
``evaluation_pdf``.
"""

from __future__ import annotations

from typing import Any

from django.template.loader import render_to_string

from evaluations.core.scoring import evaluate
from evaluations.models import Evaluation
from evaluations.rules import rules_for
from evaluations.signature import signature_of
from exports import pdf
from exports.evidence import evidence_listing
from rechecks.selectors import recheck_published


def evaluation_context(evaluation: Evaluation) -> dict[str, Any]:
    """Template context of a stored evaluation: the form, then what is printed after it."""
    form = evaluation.as_form_data()
    result = evaluate(form, rules_for(evaluation))
    context = pdf.form_context(
        form,
        result,
        status=evaluation.status,
        approved_at=evaluation.approved_at,
        signature=signature_of(evaluation),
    )
    # The 佐证材料清单 after the table (templates/evidence/pdf/_list.html).
    context["evidence"] = evidence_listing(evaluation)
    # The bureau's re-check section after the table, once 已复核 (templates/rechecks/_pdf_section.html).
    context["recheck_published"] = recheck_published(evaluation)
    return context


def evaluation_pdf(evaluation: Evaluation) -> bytes:
    """PDF of one stored evaluation."""
    # Through the module: tests count renders with a spy on pdf.render_html_pdf.
    data = pdf.render_html_pdf(render_to_string(pdf.TEMPLATE, evaluation_context(evaluation)))
    assert data is not None
    return data
