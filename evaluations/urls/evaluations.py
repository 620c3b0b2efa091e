from __future__ import annotations

from django.urls import include, path

from evaluations.views import evaluations as views
from evaluations.views import exports, imports, workflow

app_name = "evaluations"

urlpatterns = [
    path("", views.evaluation_list, name="list"),
    path("new/", views.evaluation_new, name="new"),
    path("due/<id:pk>/start/", views.evaluation_due_start, name="due_start"),
    path("score-preview/", views.score_preview, name="score_preview"),
    path("import/", imports.import_upload, name="import"),
    path("import/confirm/", imports.import_confirm, name="import_confirm"),
    path("<id:pk>/", views.evaluation_detail, name="detail"),
    path("<id:pk>/edit/", views.evaluation_edit, name="edit"),
    path("<id:pk>/submit/", workflow.evaluation_submit_view, name="submit"),
    path("<id:pk>/reopen/", workflow.evaluation_reopen_view, name="reopen"),
    # The department head's sign-off (部门审核) when the year's campaign requires it.
    path("sign-off/", workflow.sign_off_queue_view, name="sign_off_queue"),
    path("<id:pk>/sign-off/", workflow.sign_off_detail_view, name="sign_off"),
    path("<id:pk>/sign-off/pass/", workflow.sign_off_pass_view, name="sign_off_pass"),
    path("<id:pk>/sign-off/return/", workflow.sign_off_return_view, name="sign_off_return"),
    # Evidence files (佐证材料): the only way to a stored file (evidence/urls.py).
    path("<id:pk>/evidence/", include("evidence.urls")),
    path("<id:pk>/history/", workflow.evaluation_history_view, name="history"),
    path("<id:pk>/pdf/", exports.evaluation_pdf_view, name="pdf"),
    path("<id:pk>/pdf/status/", exports.evaluation_pdf_status, name="pdf_status"),
    path("<id:pk>/xlsx/", exports.evaluation_xlsx_view, name="xlsx"),
    path("export/pdf/", exports.bulk_pdf_view, name="bulk_pdf"),
    path("export/zip/", exports.bulk_zip_view, name="bulk_zip"),
    path("export/xlsx/", exports.bulk_xlsx_view, name="bulk_xlsx"),
]
