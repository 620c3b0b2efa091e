from __future__ import annotations

from django.urls import path

from evaluations import views_workflow

app_name = "review"

urlpatterns = [
    path("", views_workflow.review_queue_view, name="queue"),
    path("<int:pk>/", views_workflow.review_detail_view, name="detail"),
    path("<int:pk>/return/", views_workflow.review_return_view, name="return"),
    path("<int:pk>/approve/", views_workflow.review_approve_view, name="approve"),
]
