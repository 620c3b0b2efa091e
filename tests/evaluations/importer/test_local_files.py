"""Import commands read only regular files, never past the size limit, and never wait on a pipe."""

from __future__ import annotations

import contextlib
import datetime
import json
import os
import signal
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from campaigns.models import Campaign, DueProject
from evaluations.importer.localfile import LocalFileRefused, read_local_file
from evaluations.models import Evaluation
from tests.conftest import SAMPLE_DIR, sample_path

pytestmark = pytest.mark.django_db

NOT_A_FILE = (
    "不是普通文件（设备、管道、套接字或文件夹），未读取：请给出 .txt、.xlsx 或 .docx 文件。"
)


@pytest.fixture
def campaign(db) -> Campaign:
    return Campaign.objects.create(
        year=2021, title="2021年度自评", deadline=datetime.date(2022, 3, 31)
    )


def import_evaluations(path: str | Path) -> dict:
    out = StringIO()
    try:
        call_command("import_evaluations", str(path), "--json", stdout=out)
    except CommandError:
        pass  # a failed file exits non-zero; the report is on stdout all the same
    return json.loads(out.getvalue())


def import_due_list(path: str | Path) -> dict:
    out = StringIO()
    with pytest.raises(CommandError) as error:
        call_command("import_due_list", "--year", "2021", str(path), "--json", stdout=out)
    assert error.value.returncode == 2
    return json.loads(out.getvalue())


@contextlib.contextmanager
def at_most(seconds: float):
    """Fail the test when the block is still waiting (on a pipe) after ``seconds``."""

    def waited(signum, frame):
        raise AssertionError(f"still waiting after {seconds} s")

    previous = signal.signal(signal.SIGALRM, waited)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


@pytest.fixture
def fifo(tmp_path):
    path = tmp_path / "pipe.xlsx"
    os.mkfifo(path)
    yield path
    # Release a reader that is still waiting (the code before the fix): open the pipe for
    # writing without blocking, then close it, so the reader sees the end of the file.
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_NONBLOCK))
    except OSError:
        pass


def test_a_device_is_refused_by_the_form_importer_without_reading_it():
    report = import_evaluations("/dev/null")
    (file,) = report["files"]
    assert file["problems"] == [{"line": None, "message": NOT_A_FILE}]
    assert file["forms"] == []
    assert Evaluation.objects.count() == 0


def test_a_device_is_refused_by_the_due_list_importer_without_reading_it(campaign):
    report = import_due_list("/dev/null")
    assert report["files"][0]["problems"] == [{"sheet": "", "cell": "", "message": NOT_A_FILE}]
    assert DueProject.objects.count() == 0


def test_an_endless_device_is_refused_before_a_byte_is_read():
    with pytest.raises(LocalFileRefused, match="不是普通文件"):
        read_local_file("/dev/zero")


def test_a_folder_is_refused(tmp_path):
    with pytest.raises(LocalFileRefused, match="不是普通文件"):
        read_local_file(tmp_path)


def test_a_missing_file_says_so(tmp_path):
    with pytest.raises(LocalFileRefused, match="无法打开文件：No such file or directory"):
        read_local_file(tmp_path / "missing.xlsx")


def test_a_pipe_with_no_writer_is_refused_at_once_by_the_form_importer(fifo):
    with at_most(10):
        report = import_evaluations(fifo)
    assert report["files"][0]["problems"] == [{"line": None, "message": NOT_A_FILE}]


def test_a_pipe_with_no_writer_is_refused_at_once_by_the_due_list_importer(campaign, fifo):
    with at_most(10):
        report = import_due_list(fifo)
    assert report["files"][0]["problems"][0]["message"] == NOT_A_FILE


def test_a_file_over_the_limit_is_refused_by_both_importers(campaign, tmp_path, settings):
    settings.IMPORT_MAX_FILE_SIZE = 1024
    path = tmp_path / "big.xlsx"
    path.write_bytes(b"x" * 1025)
    over = "文件超过 1 KB（单个文件的上限），未读取。"
    assert import_evaluations(path)["files"][0]["problems"] == [{"line": None, "message": over}]
    assert import_due_list(path)["files"][0]["problems"] == [
        {"sheet": "", "cell": "", "message": over}
    ]


def test_a_file_at_the_limit_is_read_whole(tmp_path):
    path = tmp_path / "exact.txt"
    path.write_bytes(b"y" * 1024)
    assert read_local_file(path, limit=1024) == b"y" * 1024


def test_regular_files_still_import():
    assert len(import_evaluations(sample_path("003"))["files"][0]["forms"]) == 7
    assert (SAMPLE_DIR / "due_list_2021.xlsx").is_file()
