from __future__ import annotations

from django.urls import path

from evaluations import views, views_export, views_workflow

app_name = "evaluations"

urlpatterns = [
    path("", views.evaluation_list, name="list"),
    path("new/", views.evaluation_new, name="new"),
    path("score-preview/", views.score_preview, name="score_preview"),
    path("import/", views.import_upload, name="import"),
    path("import/confirm/", views.import_confirm, name="import_confirm"),
    path("<int:pk>/", views.evaluation_detail, name="detail"),
    path("<int:pk>/edit/", views.evaluation_edit, name="edit"),
    path("<int:pk>/submit/", views_workflow.evaluation_submit_view, name="submit"),
    path("<int:pk>/reopen/", views_workflow.evaluation_reopen_view, name="reopen"),
    path("<int:pk>/history/", views_workflow.evaluation_history_view, name="history"),
    path("<int:pk>/pdf/", views_export.evaluation_pdf_view, name="pdf"),
    path("<int:pk>/xlsx/", views_export.evaluation_xlsx_view, name="xlsx"),
    path("export/pdf/", views_export.bulk_pdf_view, name="bulk_pdf"),
    path("export/zip/", views_export.bulk_zip_view, name="bulk_zip"),
    path("export/xlsx/", views_export.bulk_xlsx_view, name="bulk_xlsx"),
]
