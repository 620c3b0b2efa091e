"""Bulk exports as background jobs, and the parts several workers render at the same time.

A job freezes its selection when it is created (``evaluation_ids``, in print order, checked
against what the user may read at that moment). Its forms are split into chunks; each chunk
is one task that renders its forms into the PDF cache (exports/pdfcache.py). When the last
chunk is done, one task assembles the file from the cache. Progress is counted here, not in
the task queue, so the page reads the same thing whichever backend runs the tasks.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from departments.models import Department
from evaluations.models import HANDED_IN, Status


class Format(models.TextChoices):
    PDF = "pdf", _("合并 PDF")
    ZIP = "zip", _("ZIP 压缩包（每表一个 PDF）")
    XLSX = "xlsx", _("Excel 工作簿")


class State(models.TextChoices):
    QUEUED = "queued", _("排队中")
    RUNNING = "running", _("正在生成")
    DONE = "done", _("已完成")
    FAILED = "failed", _("失败")
    CANCELLED = "cancelled", _("已取消")
    EXPIRED = "expired", _("已过期")


ACTIVE_STATES = (State.QUEUED, State.RUNNING)

# A job's state filter (``ExportJob.status_filter``) is "" (every state), one ``Status`` or one
# of these groups: value → (label, the states it covers).
HANDED_IN_FILTER = "handed_in"
STATE_GROUPS: dict[str, tuple[str, tuple[str, ...]]] = {
    HANDED_IN_FILTER: (_("已提交和已通过"), HANDED_IN),
}
# The choices of an export's state, the forms handed in first (what is usually printed).
STATE_FILTER_CHOICES: list[tuple[str, str]] = [
    *((value, label) for value, (label, _states) in STATE_GROUPS.items()),
    ("", _("全部状态（含草稿）")),
    *Status.choices,
]


def filter_states(status_filter: str) -> tuple[str, ...]:
    """The states a job's state filter covers (empty: every state)."""
    if status_filter in STATE_GROUPS:
        return STATE_GROUPS[status_filter][1]
    return (status_filter,) if status_filter else ()


def filter_label(status_filter: str) -> str:
    """The state filter as the user chose it ("" for every state or an unknown value)."""
    if status_filter in STATE_GROUPS:
        return str(STATE_GROUPS[status_filter][0])
    return str(Status(status_filter).label) if status_filter in Status.values else ""


class ExportJob(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="export_jobs",
        verbose_name=_("发起人"),
    )
    format = models.CharField(_("格式"), max_length=8, choices=Format.choices)
    year = models.PositiveIntegerField(_("年度"))
    department = models.ForeignKey(
        Department,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("主管部门"),
    )
    # The department's name when the job was made (it names the file), "" for all.
    department_name = models.CharField(_("主管部门名称"), max_length=200, blank=True)
    status_filter = models.CharField(_("状态筛选"), max_length=32, blank=True)
    evaluation_ids = models.JSONField(_("自评表"), default=list)
    # What the selection would export when the job was made (exports.jobs.selection_key): an
    # identical request finding the same key is answered with this job.
    inputs_key = models.CharField(_("内容指纹"), max_length=64, blank=True)

    state = models.CharField(
        _("状态"), max_length=16, choices=State.choices, default=State.QUEUED, db_index=True
    )
    total = models.PositiveIntegerField(_("表数"), default=0)
    done = models.PositiveIntegerField(_("已生成"), default=0)
    # Forms written into the final file by the assembling step.
    assembled = models.PositiveIntegerField(_("已合并"), default=0)
    assembling = models.BooleanField(_("正在合并"), default=False)
    # Bumped by every run of the job (a user's retry): a task of an older run finds a
    # different number and stops without writing.
    attempt = models.PositiveIntegerField(_("运行次数"), default=1)
    # Runs of the assembling step within this run (a lost one is started again).
    assemble_try = models.PositiveIntegerField(_("合并次数"), default=0)
    # The queued assembling task (a restarted step waits in the queue like any task).
    assemble_task_id = models.CharField(_("合并任务编号"), max_length=64, blank=True)
    message = models.TextField(_("说明"), blank=True)
    # When the task queue last refused one of the job's parts or its assembling step
    # (exports/queueing.py); None once one is queued. The page then says the job waits for the
    # queue, and ``recover_stale`` queues the step again.
    unqueued_at = models.DateTimeField(_("入队失败时间"), null=True, blank=True)

    file = models.CharField(_("文件"), max_length=300, blank=True)
    filename = models.CharField(_("文件名"), max_length=200, blank=True)
    size = models.PositiveBigIntegerField(_("大小（字节）"), default=0)

    created_at = models.DateTimeField(_("发起时间"), auto_now_add=True)
    started_at = models.DateTimeField(_("开始时间"), null=True, blank=True)
    finished_at = models.DateTimeField(_("完成时间"), null=True, blank=True)
    # The last sign of life of whatever runs the job (a chunk or the assembling step).
    heartbeat_at = models.DateTimeField(_("最近进展"), null=True, blank=True)
    expires_at = models.DateTimeField(_("过期时间"), null=True, blank=True)
    # When the user saw the finished job (until then the menu shows it as news).
    seen_at = models.DateTimeField(_("查看时间"), null=True, blank=True)

    # Set by exports.jobs.export_create when it answered a request with this existing job.
    reused: bool = False

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("导出任务")
        verbose_name_plural = _("导出任务")
        indexes = [models.Index(fields=["user", "-created_at"])]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(state__in=[s.value for s in State]), name="export_state_known"
            ),
            models.CheckConstraint(
                condition=models.Q(format__in=[f.value for f in Format]),
                name="export_format_known",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.year} {self.get_format_display()} #{self.pk}"

    @property
    def active(self) -> bool:
        return self.state in ACTIVE_STATES

    @property
    def percent(self) -> int:
        """Progress 0-100: rendering counts for 90 %, assembling for the rest."""
        if self.state == State.DONE:
            return 100
        if not self.total:
            return 0
        rendered = 90 * self.done / self.total
        return int(rendered + 10 * self.assembled / self.total)


class ExportChunk(models.Model):
    """A slice of a job's forms, rendered by one task."""

    job = models.ForeignKey(
        ExportJob, on_delete=models.CASCADE, related_name="chunks", verbose_name=_("导出任务")
    )
    index = models.PositiveIntegerField(_("序号"))
    evaluation_ids = models.JSONField(_("自评表"), default=list)
    state = models.CharField(_("状态"), max_length=16, choices=State.choices, default=State.QUEUED)
    done = models.PositiveIntegerField(_("已生成"), default=0)
    attempt = models.PositiveIntegerField(_("运行次数"), default=1)
    task_id = models.CharField(_("任务编号"), max_length=64, blank=True)
    # None while the chunk waits for its turn among its user's parts (exports.jobs._dispatch).
    enqueued_at = models.DateTimeField(_("入队时间"), null=True, blank=True)
    heartbeat_at = models.DateTimeField(_("最近进展"), null=True, blank=True)

    class Meta:
        ordering = ["job", "index"]
        verbose_name = _("导出分片")
        verbose_name_plural = _("导出分片")
        constraints = [
            models.UniqueConstraint(fields=["job", "index"], name="export_chunk_unique_index"),
        ]

    def __str__(self) -> str:
        return f"{self.job_id}/{self.index}"


class WorkerHeartbeat(models.Model):
    """A background-task worker's sign of life, written every WORKER_HEARTBEAT_SECONDS.

    The monitoring endpoint and the export pages read the newest one: a queue with no worker
    seen for a while is said so, rather than an export that never moves.
    """

    worker_id = models.CharField(_("进程编号"), max_length=64, primary_key=True)
    hostname = models.CharField(_("主机"), max_length=255, blank=True)
    pid = models.PositiveIntegerField(_("进程号"), default=0)
    started_at = models.DateTimeField(_("启动时间"))
    seen_at = models.DateTimeField(_("最近心跳"), db_index=True)

    class Meta:
        verbose_name = _("后台进程心跳")
        verbose_name_plural = _("后台进程心跳")

    def __str__(self) -> str:
        return f"{self.hostname}:{self.pid}"
