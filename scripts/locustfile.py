"""Locust users for the load benchmark; started by ``scripts/bench_load.py`` (see there).

Each user is the staff member of its own department (so two users never save the same
form). It logs in through the login form; once every user is in, the statistics are reset
and a ``/healthz?bench-start`` request marks the start in gunicorn's access log; the run
stops ``BENCH_DURATION`` seconds later. Tasks, by weight: list 30, detail 30, edit + save
15, PDF 5, /healthz 19 (the baseline), Excel export job BENCH_EXPORT_WEIGHT (default 1; POST /exports/ for one year of
the department, poll /exports/<id>/status.json once a second until it is done, download
the file; "export xlsx (click to done)" is the time from the click to the file).

Environment: BENCH_PLAN (JSON written by the seeding: per user the department, form ids,
editable ids, years), BENCH_PASSWORD, BENCH_DURATION (s), BENCH_THINK ("MIN,MAX" s),
BENCH_EXPORT_WEIGHT (0: no exports), BENCH_MARKER (a file created at the start), BENCH_RESULTS (where to
write the exact response times).
"""

from __future__ import annotations

import itertools
import json
import os
import random
import re
import time
from pathlib import Path

import gevent

# Locust puts the locustfile's folder (scripts/) on sys.path.
from formfields import FormParser
from locust import HttpUser, between, events, task

PLAN = json.loads(Path(os.environ["BENCH_PLAN"]).read_text()) if "BENCH_PLAN" in os.environ else {}
USERNAMES = list(PLAN)
PASSWORD = os.environ.get("BENCH_PASSWORD", "")
DURATION = float(os.environ.get("BENCH_DURATION", "60"))
THINK = [float(x) for x in os.environ.get("BENCH_THINK", "2,8").split(",")]
EXPORT_WEIGHT = int(os.environ.get("BENCH_EXPORT_WEIGHT", "1"))
MARKER = os.environ.get("BENCH_MARKER", "")
RESULTS = os.environ.get("BENCH_RESULTS", "")
EXPORT_TIMEOUT = 300  # seconds from the click to the file
TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
NUMBERS = itertools.count()
LOGGED_IN = {"count": 0, "started": False}
# Exact response times (ms) and failures per request name, from the start on (Locust's own
# statistics round to 10 ms above 100 ms); written to BENCH_RESULTS when Locust quits.
TIMES: dict[str, list[float]] = {}
FAILURES: dict[str, list[str]] = {}


@events.request.add_listener
def _record(name: str, response_time: float, exception: BaseException | None, **_kw) -> None:
    if not LOGGED_IN["started"]:
        return
    TIMES.setdefault(name, []).append(response_time)
    if exception is not None:
        FAILURES.setdefault(name, []).append(str(exception)[:300])


@events.quitting.add_listener
def _write(**_kw) -> None:
    if RESULTS:
        Path(RESULTS).write_text(json.dumps({"times": TIMES, "failures": FAILURES}))


def _all_in(environment) -> None:
    """Every user is logged in: start the clock (statistics reset, mark, stop timer)."""
    LOGGED_IN["started"] = True
    environment.runner.stats.reset_all()
    if MARKER:
        Path(MARKER).touch()
    gevent.spawn_later(DURATION, environment.runner.quit)


class Staff(HttpUser):
    wait_time = between(*THINK)

    def on_start(self) -> None:
        number = next(NUMBERS)
        self.username = USERNAMES[number % len(USERNAMES)]
        plan = PLAN[self.username]
        self.department = plan["department"]
        self.ids, self.editable, self.years = plan["all"], plan["editable"], plan["years"]
        self.pages = max(1, -(-len(self.ids) // 50))
        self.rng = random.Random(number)
        self.token = ""
        response = self.client.get("/accounts/login/", name="login (GET)")
        token = TOKEN.search(response.text)
        with self.client.post(
            "/accounts/login/",
            data={
                "username": self.username,
                "password": PASSWORD,
                "csrfmiddlewaretoken": token.group(1) if token else "",
            },
            allow_redirects=False,
            name="login (POST)",
            catch_response=True,
        ) as response:
            if response.status_code != 302 or "sessionid" not in self.client.cookies:
                response.failure(f"login {self.username}: {response.status_code}")
        LOGGED_IN["count"] += 1
        runner = self.environment.runner
        if LOGGED_IN["count"] >= runner.target_user_count and not LOGGED_IN["started"]:
            self.client.get("/healthz?bench-start", name="start mark")
            _all_in(self.environment)

    def _keep_token(self, text: str) -> None:
        token = TOKEN.search(text)
        if token:
            self.token = token.group(1)

    @task(30)
    def evaluation_list(self) -> None:
        params = {"page": self.rng.randint(1, self.pages)}
        if self.rng.random() < 0.3:
            params = {"year": self.rng.choice(self.years)}
        with self.client.get(
            "/evaluations/", params=params, name="list", catch_response=True
        ) as response:
            if response.status_code != 200 or "evaluation-list" not in response.text:
                response.failure(f"list {response.status_code}")
            else:
                self._keep_token(response.text)

    @task(30)
    def evaluation_detail(self) -> None:
        self.client.get(f"/evaluations/{self.rng.choice(self.ids)}/", name="detail")

    @task(15)
    def evaluation_save(self) -> None:
        pk = self.rng.choice(self.editable)
        response = self.client.get(f"/evaluations/{pk}/edit/", name="edit (GET)")
        if response.status_code != 200:
            return
        parser = FormParser("evaluation-form")
        parser.feed(response.text)
        fields = [
            (name, f"{value} 压测修改{self.rng.randint(1, 10**6)}")
            if name.endswith("goal_actual")
            else (name, value)
            for name, value in parser.fields
        ]
        fields.append(("next", "edit"))
        with self.client.post(
            f"/evaluations/{pk}/edit/",
            data=fields,
            allow_redirects=False,
            name="save (POST)",
            catch_response=True,
        ) as saved:
            location = saved.headers.get("Location", "")
            if saved.status_code != 302 or not location.endswith(f"/evaluations/{pk}/edit/"):
                saved.failure(f"save {saved.status_code}: {saved.text[:200]}")

    @task(5)
    def evaluation_pdf(self) -> None:
        with self.client.get(
            f"/evaluations/{self.rng.choice(self.ids)}/pdf/", name="pdf", catch_response=True
        ) as response:
            if response.status_code != 200 or not response.content.startswith(b"%PDF"):
                response.failure(f"pdf {response.status_code}")

    @task(19)
    def healthz(self) -> None:
        self.client.get("/healthz", name="healthz (baseline)")

    @task(EXPORT_WEIGHT)
    def export_job(self) -> None:
        """Excel of one year of the department: the click, then the progress page's polling."""
        if not self.token:
            self.evaluation_list()
        started = time.perf_counter()
        with self.client.post(
            "/exports/",
            data={
                "year": self.rng.choice(self.years),
                "format": "xlsx",
                "department": self.department,
                "csrfmiddlewaretoken": self.token,
            },
            headers={"X-CSRFToken": self.token},
            allow_redirects=False,
            name="export (POST)",
            catch_response=True,
        ) as response:
            found = re.search(r"/exports/(\d+)/", response.headers.get("Location", ""))
            if response.status_code not in (302, 303) or not found:
                response.failure(f"export {response.status_code}: {response.text[:200]}")
                return
        job = found.group(1)
        state, exception = "", None
        while time.perf_counter() - started < EXPORT_TIMEOUT:
            gevent.sleep(1)
            with self.client.get(
                f"/exports/{job}/status.json", name="export status", catch_response=True
            ) as response:
                try:
                    data = response.json()
                except ValueError:
                    response.failure(f"status {response.status_code}: not JSON")
                    return
                state = data.get("state") or data.get("status") or ""
                if state in ("failed", "cancelled", "expired"):
                    response.failure(f"export {job} {state}: {data.get('message', '')}")
                    return
            if state == "done":
                self._download(job, data.get("download_url") or f"/exports/{job}/download/")
                break
        else:
            exception = TimeoutError(f"export {job} still {state} after {EXPORT_TIMEOUT} s")
        self.environment.events.request.fire(
            request_type="JOB",
            name="export xlsx (click to done)",
            response_time=(time.perf_counter() - started) * 1000,
            response_length=0,
            exception=exception,
            context={},
        )

    def _download(self, job: str, url: str) -> None:
        with self.client.get(url, name="export download", catch_response=True) as response:
            # An .xlsx file is a zip archive.
            if response.status_code != 200 or not response.content.startswith(b"PK"):
                response.failure(f"export {job} download {response.status_code}")
