from __future__ import annotations

from django.urls import path

from evaluations.views import workflow

app_name = "review"

urlpatterns = [
    path("", workflow.review_queue_view, name="queue"),
    path("<id:pk>/", workflow.review_detail_view, name="detail"),
    path("<id:pk>/return/", workflow.review_return_view, name="return"),
    path("<id:pk>/approve/", workflow.review_approve_view, name="approve"),
]
