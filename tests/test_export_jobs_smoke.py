import pytest
from django.core.management import call_command

from evaluations.models import Status
from exports import jobs
from exports.models import State
from tests.export_helpers import sample_forms, store


@pytest.mark.django_db(transaction=True)
def test_smoke(finance, settings):
    settings.EXPORT_CHUNK_SIZE = 3
    for _p, _i, form in sample_forms()[:7]:
        store(form, status=Status.APPROVED)
    for fmt in ("pdf", "zip", "xlsx"):
        job = jobs.export_create(user=finance, year=2021, format=fmt)
        job.refresh_from_db()
        print(fmt, job.state, job.chunks.count())
        call_command("db_worker", batch=True, reload=False, startup_delay=False, verbosity=0)
        job.refresh_from_db()
        print(fmt, job.state, job.done, job.assembled, job.total, job.size, job.message)
        assert job.state == State.DONE
