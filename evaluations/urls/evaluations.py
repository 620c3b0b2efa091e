from __future__ import annotations

from django.urls import path

from evaluations.views import evaluations as views
from evaluations.views import exports, imports, workflow

app_name = "evaluations"

urlpatterns = [
    path("", views.evaluation_list, name="list"),
    path("new/", views.evaluation_new, name="new"),
    path("score-preview/", views.score_preview, name="score_preview"),
    path("import/", imports.import_upload, name="import"),
    path("import/confirm/", imports.import_confirm, name="import_confirm"),
    path("<int:pk>/", views.evaluation_detail, name="detail"),
    path("<int:pk>/edit/", views.evaluation_edit, name="edit"),
    path("<int:pk>/submit/", workflow.evaluation_submit_view, name="submit"),
    path("<int:pk>/reopen/", workflow.evaluation_reopen_view, name="reopen"),
    path("<int:pk>/history/", workflow.evaluation_history_view, name="history"),
    path("<int:pk>/pdf/", exports.evaluation_pdf_view, name="pdf"),
    path("<int:pk>/xlsx/", exports.evaluation_xlsx_view, name="xlsx"),
    path("export/pdf/", exports.bulk_pdf_view, name="bulk_pdf"),
    path("export/zip/", exports.bulk_zip_view, name="bulk_zip"),
    path("export/xlsx/", exports.bulk_xlsx_view, name="bulk_xlsx"),
]
