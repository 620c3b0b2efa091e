"""The bureau's re-check (复核): picking, the seeded sample, the figures, states, who sees it."""

from __future__ import annotations

import subprocess
from decimal import Decimal

import pytest
from django.test import override_settings
from django.utils.html import escape

from evaluations.models import Status
from evaluations.workflow import evaluation_approve, evaluation_submit
from rechecks import selectors, services
from rechecks.models import PickMethod, Recheck, RecheckAction, RecheckStatus, Sample
from rechecks.scoring import quality_poor
from rechecks.services import draw, sample_size
from tests.conftest import client_for
from tests.evaluations.test_concurrent_saves import database_file, save_at_once, using
from tests.factories import make_evaluation

pytestmark = pytest.mark.django_db

D = Decimal


def approved(dept, staff, finance, name="项目", **overrides):
    ev = make_evaluation(dept, staff, project_name=name, **overrides)
    evaluation_submit(evaluation=ev, user=staff)
    evaluation_approve(evaluation=ev, user=finance)
    ev.refresh_from_db()
    assert ev.status == Status.APPROVED
    return ev


def in_progress(ev, finance) -> Recheck:
    recheck, _ = services.recheck_pick(evaluation=ev, user=finance)
    services.recheck_transition_run(services.START, recheck=recheck, user=finance)
    return recheck


def post_scores(
    client, ev, recheck, changes: dict[int, str], opinion="总体意见", action="", **extra
):
    """POST the re-check page with the department's scores except ``changes`` (row index).

    ``action`` "complete/" is the 完成复核 button (the same form, posted to complete/).
    """
    data = {"opinion": opinion, **extra}
    rows = sorted(recheck.rows.all(), key=lambda r: r.key)
    keys = [ind.key for ind in ev.indicators.order_by("position")]
    own = {ind.key: ind.score for ind in ev.indicators.all()}
    by_key = {r.key: r for r in rows}
    for i, key in enumerate(keys):
        # Before the start nothing is stored: the department's score, as the start sets it.
        stored = by_key[key].score if by_key[key].score is not None else own[key]
        data[f"score_{key}"] = changes.get(i, str(stored))
        data[f"opinion_{key}"] = f"第{i + 1}行意见" if i in changes else ""
    return client.post(f"/rechecks/{ev.pk}/{action}", data)


# --- the draw: pure ---------------------------------------------------------------------


CANDIDATES = [(pk, D(1)) for pk in range(1, 41)]


def test_it_draws_the_same_forms_with_the_same_seed():
    first = draw(CANDIDATES, n=8, seed=2024, weighted=False)
    assert len(first) == 8
    assert draw(CANDIDATES, n=8, seed=2024, weighted=False) == first
    # The order in which the forms are handed in does not matter: they are taken by pk.
    assert draw(list(reversed(CANDIDATES)), n=8, seed=2024, weighted=False) == first
    assert draw(CANDIDATES, n=8, seed=2024, weighted=True) == draw(
        CANDIDATES, n=8, seed=2024, weighted=True
    )


def test_it_draws_other_forms_with_another_seed():
    assert draw(CANDIDATES, n=8, seed=2024, weighted=False) != draw(
        CANDIDATES, n=8, seed=2025, weighted=False
    )


@pytest.mark.parametrize(
    ("population", "share", "expected"),
    [(10, 20, 2), (7, 20, 1), (10, 25, 3), (10, 24, 2), (3, 1, 1), (5, 100, 5), (0, 20, 0)],
)
def test_it_rounds_the_share_half_up_with_at_least_one(population, share, expected):
    assert sample_size(population, share) == expected


def test_it_favours_big_funds_when_weighted():
    # 10 forms of 1000万元 and 90 of 10万元: the big ones hold 10/19 (53%) of the funds. Draw
    # 10 forms, 400 times with seeds 0..399: weighted, the big forms take far more than their
    # 10% share of the places; unweighted, about 10%. Fixed seeds: the counts are exact.
    forms = [(pk, D(1000) if pk <= 10 else D(10)) for pk in range(1, 101)]
    big = {pk for pk, funds in forms if funds == 1000}
    weighted = sum(len(big & set(draw(forms, n=10, seed=s, weighted=True))) for s in range(400))
    plain = sum(len(big & set(draw(forms, n=10, seed=s, weighted=False))) for s in range(400))
    assert weighted / 4000 > 0.5
    assert 0.05 < plain / 4000 < 0.15


def test_it_draws_every_form_without_replacement():
    picked = draw([(1, D(5)), (2, D(0)), (3, D(50))], n=3, seed=1, weighted=True)
    assert picked == [1, 2, 3]


# --- the draw: stored -------------------------------------------------------------------


def test_it_samples_only_approved_forms_and_records_the_draw(
    dept_a, dept_b, staff_a, staff_b, finance
):
    forms = [approved(dept_a, staff_a, finance, f"项目{i}") for i in range(4)]
    forms += [approved(dept_b, staff_b, finance, f"乙项目{i}") for i in range(4)]
    submitted = make_evaluation(dept_a, staff_a, project_name="未通过")
    evaluation_submit(evaluation=submitted, user=staff_a)
    make_evaluation(dept_a, staff_a, project_name="草稿")
    other_year = approved(dept_a, staff_a, finance, "上年", year=2020)

    sample = services.sample_draw(year=2021, share=50, seed=7, weighted=False, user=finance)

    assert sample.population == 8
    drawn = set(sample.evaluations.values_list("pk", flat=True))
    assert len(drawn) == 4
    assert drawn <= {ev.pk for ev in forms}
    assert submitted.pk not in drawn and other_year.pk not in drawn
    rechecks = Recheck.objects.filter(sample=sample)
    assert {r.evaluation_id for r in rechecks} == drawn
    assert {r.method for r in rechecks} == {PickMethod.SAMPLE}
    assert {r.status for r in rechecks} == {RecheckStatus.PENDING}
    for r in rechecks:
        (event,) = r.events.all()
        assert event.action == RecheckAction.SAMPLED and event.actor == finance
        assert "随机种子 7" in event.reason

    # The same seed over the same forms gives the same draw (the same sample, recorded
    # once, no new re-checks); another seed, another draw.
    again = services.sample_draw(year=2021, share=50, seed=7, weighted=False, user=finance)
    assert again.pk == sample.pk and Sample.objects.count() == 1
    assert set(again.evaluations.values_list("pk", flat=True)) == drawn
    assert Recheck.objects.count() == 4
    seeds = {
        s: frozenset(
            services.sample_draw(
                year=2021, share=50, seed=s, weighted=False, user=finance
            ).evaluations.values_list("pk", flat=True)
        )
        for s in (8, 9, 10)
    }
    assert any(picked != drawn for picked in seeds.values())


def test_it_refuses_a_draw_to_anyone_but_finance(dept_a, staff_a, finance, admin_user):
    approved(dept_a, staff_a, finance)
    for user in (staff_a, admin_user):
        with pytest.raises(services.TransitionError):
            services.sample_draw(year=2021, share=20, seed=1, weighted=False, user=user)
    assert Sample.objects.count() == 0


def test_it_draws_from_the_list_page(dept_a, staff_a, finance, client_finance):
    for i in range(5):
        approved(dept_a, staff_a, finance, f"项目{i}")
    page = client_finance.get("/rechecks/?year=2021")
    assert page.status_code == 200
    assert "随机抽取" in page.content.decode()
    response = client_finance.post(
        "/rechecks/draw/", {"year": "2021", "share": "20", "seed": "42", "weighted": "on"}
    )
    assert response.status_code == 302
    sample = Sample.objects.get()
    assert (sample.share, sample.seed, sample.weighted, sample.drawn_by) == (20, 42, True, finance)
    assert sample.evaluations.count() == 1
    page = client_finance.get("/rechecks/?year=2021").content.decode()
    assert "种子 42" in page and "待复核" in page


# --- picking by hand ------------------------------------------------------------------------


def test_a_double_clicked_draw_records_one_sample(dept_a, staff_a, finance, client_finance):
    for i in range(5):
        approved(dept_a, staff_a, finance, f"项目{i}")
    data = {"year": "2021", "share": "40", "seed": "77"}
    for _ in range(2):
        assert client_finance.post("/rechecks/draw/", data).status_code == 302
    sample = Sample.objects.get()
    assert sample.evaluations.count() == 2 and Recheck.objects.count() == 2
    # Another approved form since: the same parameters are another draw, recorded anew.
    approved(dept_a, staff_a, finance, "项目5")
    client_finance.post("/rechecks/draw/", data)
    assert Sample.objects.count() == 2


@pytest.mark.django_db(transaction=True)
def test_two_simultaneous_identical_draws_record_one_sample(tmp_path, dept_a, staff_a, finance):
    for i in range(5):
        approved(dept_a, staff_a, finance, f"项目{i}")
    clients = [client_for(finance) for _ in range(2)]
    body = {"year": "2021", "share": "40", "seed": "77"}
    with database_file(tmp_path) as settings_dict:
        responses = save_at_once(clients, "/rechecks/draw/", [body, body], settings_dict)
        with using(settings_dict):
            samples = Sample.objects.count()
            rechecks = Recheck.objects.count()
    assert [getattr(r, "status_code", r) for r in responses] == [302, 302]
    assert (samples, rechecks) == (1, 2)


def test_it_picks_an_approved_form_by_hand(dept_a, staff_a, finance, client_finance):
    ev = approved(dept_a, staff_a, finance)
    response = client_finance.post(f"/rechecks/pick/{ev.pk}/")
    assert response.status_code == 302
    recheck = Recheck.objects.get(evaluation=ev)
    assert (recheck.method, recheck.status, recheck.picked_by) == ("by_hand", "pending", finance)
    assert [e.action for e in recheck.events.all()] == [RecheckAction.PICKED]
    # Picking again changes nothing.
    client_finance.post(f"/rechecks/pick/{ev.pk}/")
    assert Recheck.objects.count() == 1 and recheck.events.count() == 1


def test_it_refuses_to_pick_a_form_not_approved(dept_a, staff_a, client_finance):
    ev = make_evaluation(dept_a, staff_a)
    evaluation_submit(evaluation=ev, user=staff_a)
    response = client_finance.post(f"/rechecks/pick/{ev.pk}/")
    assert response.status_code == 302
    assert not Recheck.objects.exists()


# --- the figures ----------------------------------------------------------------------------


def test_it_computes_the_recheck_total_with_the_engine(dept_a, staff_a, finance, client_finance):
    ev = approved(dept_a, staff_a, finance)
    recheck = in_progress(ev, finance)
    assert (recheck.own_total, recheck.total, recheck.difference) == (D(100), D(100), D(0))
    # Rows 1 and 6 (weights 10 and 15) scored 6 and 9 by finance: 100 - 4 - 6 = 90.
    response = post_scores(client_finance, ev, recheck, {0: "6", 5: "9"})
    assert response.status_code == 302
    recheck.refresh_from_db()
    assert (recheck.total, recheck.own_total, recheck.difference) == (D(90), D(100), D(10))
    assert recheck.quality_poor is False  # exactly 10: not more than the threshold
    figures = selectors.recheck_compute(recheck)
    assert [r.difference for r in figures.rows][:6] == [D(4), 0, 0, 0, 0, D(6)]
    assert figures.rows[0].opinion == "第1行意见"
    assert figures.execution_editable is False  # rule 2 from the funding figures
    page = client_finance.get(f"/rechecks/{ev.pk}/").content.decode()
    assert "90.00" in page and "第1行意见" in page


def test_it_refuses_a_score_above_the_rows_weight(dept_a, staff_a, finance, client_finance):
    ev = approved(dept_a, staff_a, finance)
    recheck = in_progress(ev, finance)
    response = post_scores(client_finance, ev, recheck, {0: "11"})
    assert response.status_code == 400
    recheck.refresh_from_db()
    assert recheck.total == D(100)


def test_it_marks_quality_poor_only_above_the_threshold(dept_a, staff_a, finance, client_finance):
    ev = approved(dept_a, staff_a, finance)
    recheck = in_progress(ev, finance)
    post_scores(client_finance, ev, recheck, {0: "5.99", 5: "9"})  # 100 - 4.01 - 6
    recheck.refresh_from_db()
    assert (recheck.total, recheck.difference, recheck.quality_poor) == (
        D("89.99"),
        D("10.01"),
        True,
    )
    assert "自评质量差" in client_finance.get(f"/rechecks/{ev.pk}/").content.decode()


def test_the_threshold_rule():
    assert quality_poor(D("10"), D("10")) is False
    assert quality_poor(D("10.01"), D("10")) is True
    assert quality_poor(D("-10.01"), D("10")) is True  # finance scored higher: same finding


@override_settings(RECHECK_QUALITY_THRESHOLD="5")
def test_the_threshold_is_a_setting(dept_a, staff_a, finance, client_finance):
    ev = approved(dept_a, staff_a, finance)
    recheck = in_progress(ev, finance)
    post_scores(client_finance, ev, recheck, {0: "4"})  # 6 points lower
    recheck.refresh_from_db()
    assert (recheck.difference, recheck.quality_poor) == (D(6), True)


# --- states, history, who sees the result ------------------------------------------------------


def test_it_runs_the_states_and_records_each_step(dept_a, staff_a, finance, client_finance):
    ev = approved(dept_a, staff_a, finance)
    recheck, _ = services.recheck_pick(evaluation=ev, user=finance)
    # Saving before the start is refused: the page says so, nothing changes.
    post_scores(client_finance, ev, recheck, {0: "5"})
    recheck.refresh_from_db()
    assert recheck.total is None
    assert client_finance.post(f"/rechecks/{ev.pk}/start/").status_code == 302
    client_finance.post(f"/rechecks/{ev.pk}/start/")  # a double click: harmless
    recheck.refresh_from_db()
    assert recheck.status == RecheckStatus.IN_PROGRESS
    # Completing needs an overall opinion.
    post_scores(client_finance, ev, recheck, {0: "5"}, opinion="")
    post_scores(client_finance, ev, recheck, {0: "5"}, opinion="", action="complete/")
    recheck.refresh_from_db()
    assert recheck.status == RecheckStatus.IN_PROGRESS
    post_scores(
        client_finance, ev, recheck, {0: "5"}, opinion="佐证不足，扣分。", action="complete/"
    )
    recheck.refresh_from_db()
    assert recheck.status == RecheckStatus.DONE
    assert recheck.completed_by == finance and recheck.completed_at is not None
    assert recheck.total == D(95)
    events = list(recheck.events.all())
    assert [e.action for e in events] == ["picked", "started", "saved", "saved", "completed"]
    assert events[3].reason == "复核总分 95.00，差异 5.00"  # stored by 完成复核 itself
    assert (events[1].from_status, events[1].to_status) == ("pending", "in_progress")
    assert (events[-1].from_status, events[-1].to_status) == ("in_progress", "done")
    assert events[-1].reason == "佐证不足，扣分。"
    assert {e.actor for e in events} == {finance}
    # Done: the page is read-only, a save is refused.
    post_scores(client_finance, ev, recheck, {0: "1"})
    recheck.refresh_from_db()
    assert recheck.total == D(95)


def test_the_department_sees_the_result_only_once_done(
    dept_a, staff_a, head_a, finance, client_finance, admin_user
):
    ev = approved(dept_a, staff_a, finance)
    recheck = in_progress(ev, finance)
    post_scores(client_finance, ev, recheck, {0: "5"}, opinion="复核发现问题甲")
    for user in (staff_a, head_a):
        page = client_for(user).get(f"/evaluations/{ev.pk}/").content.decode()
        assert (
            "财政复核结果" not in page and "复核发现问题甲" not in page and "第1行意见" not in page
        )
    post_scores(client_finance, ev, recheck, {0: "5"}, opinion="复核发现问题甲", action="complete/")
    for user in (staff_a, head_a, admin_user, finance):
        page = client_for(user).get(f"/evaluations/{ev.pk}/").content.decode()
        assert "财政复核结果" in page and "复核发现问题甲" in page and "第1行意见" in page
        assert "95.00" in page


# --- the page: nothing typed is lost -----------------------------------------------------------


def page_values(ev, scores: dict[int, str], row_opinions: dict[int, str], opinion: str):
    """What the re-check page posts: a score and an opinion per row, and the overall opinion."""
    data = {"opinion": opinion}
    for i, ind in enumerate(ev.indicators.order_by("position")):
        data[f"score_{ind.key}"] = scores.get(i, str(ind.score))
        data[f"opinion_{ind.key}"] = row_opinions.get(i, "")
    return data


def test_completing_stores_what_the_page_holds_and_completes(
    dept_a, staff_a, finance, client_finance
):
    ev = approved(dept_a, staff_a, finance)
    recheck = in_progress(ev, finance)
    # Typed on the page and never saved: 完成复核 posts the page's form.
    data = page_values(ev, {0: "7.5", 5: "9"}, {0: "佐证不足", 5: "数量未达标"}, "两项扣分。")
    response = client_finance.post(f"/rechecks/{ev.pk}/complete/", data)
    assert response.status_code == 302
    recheck.refresh_from_db()
    assert recheck.status == RecheckStatus.DONE
    assert recheck.opinion == "两项扣分。"
    rows = {r.key: (r.score, r.opinion) for r in recheck.rows.all()}
    keys = [ind.key for ind in ev.indicators.order_by("position")]
    assert rows[keys[0]] == (D("7.5"), "佐证不足") and rows[keys[5]] == (D(9), "数量未达标")
    assert (recheck.total, recheck.difference) == (D("91.50"), D("8.50"))
    assert [e.action for e in recheck.events.all()][-2:] == ["saved", "completed"]
    assert "复核已完成" in client_finance.get(response["Location"]).content.decode()


@pytest.mark.parametrize(
    "opinion, score, message",
    [
        ("", "7.5", "请先填写总体复核意见，再完成复核。"),
        ("两项扣分。", "11", "复核未完成：请改正标出的内容。"),  # above the row's weight of 10
    ],
)
def test_a_refused_completion_keeps_every_value_typed(
    opinion, score, message, dept_a, staff_a, finance, client_finance
):
    ev = approved(dept_a, staff_a, finance)
    recheck = in_progress(ev, finance)
    data = page_values(ev, {0: score, 5: "9"}, {0: "佐证不足", 5: "数量未达标"}, opinion)
    response = client_finance.post(f"/rechecks/{ev.pk}/complete/", data)
    assert response.status_code == 400
    page = response.content.decode()
    assert message in page
    keys = [ind.key for ind in ev.indicators.order_by("position")]
    assert f'name="score_{keys[0]}"' in page and f'value="{score}"' in page
    assert 'value="9"' in page and 'value="佐证不足"' in page and 'value="数量未达标"' in page
    if opinion:
        assert f">{opinion}</textarea>" in page
    assert 'data-unsaved="1"' in page  # the page warns before leaving it
    # Refused as a whole: nothing stored, still 复核中.
    recheck.refresh_from_db()
    assert recheck.status == RecheckStatus.IN_PROGRESS and recheck.opinion == ""
    assert {r.opinion for r in recheck.rows.all()} == {""} and recheck.total == D(100)


def test_a_double_click_on_complete_completes_once(dept_a, staff_a, finance, client_finance):
    ev = approved(dept_a, staff_a, finance)
    recheck = in_progress(ev, finance)
    data = page_values(ev, {0: "5"}, {0: "佐证不足"}, "扣分。")
    for _ in range(2):
        assert client_finance.post(f"/rechecks/{ev.pk}/complete/", data).status_code == 302
    recheck.refresh_from_db()
    assert recheck.status == RecheckStatus.DONE and recheck.total == D(95)
    assert [e.action for e in recheck.events.all()] == ["picked", "started", "saved", "completed"]


def test_the_complete_button_posts_the_page_form(dept_a, staff_a, finance, client_finance):
    ev = approved(dept_a, staff_a, finance)
    in_progress(ev, finance)
    page = client_finance.get(f"/rechecks/{ev.pk}/").content.decode()
    form = page[page.index('<form method="post" class="recheck-form"') :]
    form = form[: form.index("</form>")]
    # One form holds the boxes and both buttons; 完成复核 sends it to complete/.
    assert 'name="opinion"' in form and "保存复核" in form
    assert f'formaction="/rechecks/{ev.pk}/complete/">完成复核' in form
    assert page.count(f' action="/rechecks/{ev.pk}/complete/"') == 0  # no form of its own
    assert "js/recheck.js" in page and f'data-recheck-preview="/rechecks/{ev.pk}/preview/"' in page


def test_a_recheck_not_started_shows_dashes_not_figures(dept_a, staff_a, finance, client_finance):
    ev = approved(dept_a, staff_a, finance)
    recheck, _ = services.recheck_pick(evaluation=ev, user=finance)
    assert recheck.total is None and recheck.difference is None
    page = client_finance.get(f"/rechecks/{ev.pk}/").content.decode()
    total = page[page.index('data-recheck="total"') :]
    assert total[total.index(">") + 1 :].startswith("—</td>")
    difference = page[page.index('data-recheck="difference"') :]
    assert difference[difference.index(">") + 1 :].startswith("—</td>")
    assert "100.00 优" in page  # the department's own total, beside it
    assert page.count("100.00 优") == 1
    assert '<span class="badge text-bg-danger d-none" data-recheck="quality_poor">' in page
    listing = client_finance.get("/rechecks/?year=2021").content.decode()
    assert listing.count("100.00 优") == 1  # 自评总分 only; 复核总分 and 差异 are "—"
    # Started: finance starts from the department's scores.
    services.recheck_transition_run(services.START, recheck=recheck, user=finance)
    recheck.refresh_from_db()
    assert (recheck.total, recheck.difference) == (D(100), D(0))
    page = client_finance.get(f"/rechecks/{ev.pk}/").content.decode()
    assert page.count("100.00 优") == 2


def test_the_page_shows_the_target_and_actual_beside_each_score(
    dept_a, staff_a, finance, client_finance
):
    ev = approved(dept_a, staff_a, finance)
    in_progress(ev, finance)
    page = client_finance.get(f"/rechecks/{ev.pk}/").content.decode()
    assert "<th>年度指标值</th><th>实际完成值</th>" in page
    for ind in ev.indicators.order_by("position"):
        target, actual = escape(ind.target), escape(ind.actual)
        cells = f'<td class="recheck-target">{target}</td><td class="recheck-actual">{actual}</td>'
        assert cells in page, ind.name


def test_the_live_total_is_the_engines_figure_of_the_scores_as_typed(
    dept_a, staff_a, finance, client_finance
):
    ev = approved(dept_a, staff_a, finance)
    recheck = in_progress(ev, finance)
    data = page_values(ev, {0: "6", 5: "9"}, {}, "")
    response = client_finance.post(f"/rechecks/{ev.pk}/preview/", data)
    assert response.status_code == 200
    figures = response.json()
    assert (figures["total"], figures["grade"], figures["difference"]) == ("90.00", "优", "10.00")
    keys = [ind.key for ind in ev.indicators.order_by("position")]
    assert figures["rows"][keys[0]] == "4.00" and figures["rows"][keys[5]] == "6.00"
    assert figures["quality_poor"] is False and figures["invalid"] == []
    # A score above its weight is marked and counts as blank until corrected.
    figures = client_finance.post(
        f"/rechecks/{ev.pk}/preview/", page_values(ev, {0: "12"}, {}, "")
    ).json()
    assert figures["invalid"] == [f"score_{keys[0]}"] and figures["total"] == "90.00"
    recheck.refresh_from_db()
    assert recheck.total == D(100)  # a preview stores nothing
    assert client_for(staff_a).post(f"/rechecks/{ev.pk}/preview/", data).status_code == 404


# --- rights ---------------------------------------------------------------------------------


def test_only_finance_reaches_the_recheck_pages(
    dept_a, staff_a, head_a, staff_b, finance, admin_user
):
    ev = approved(dept_a, staff_a, finance)
    in_progress(ev, finance)
    for user in (staff_a, head_a, staff_b, admin_user):
        client = client_for(user)
        assert client.get("/rechecks/").status_code == 404
        assert client.get(f"/rechecks/{ev.pk}/").status_code == 404
        assert client.post(f"/rechecks/{ev.pk}/complete/").status_code == 404
        assert client.post(f"/rechecks/pick/{ev.pk}/").status_code == 404
        assert (
            client.post("/rechecks/draw/", {"year": 2021, "share": 50, "seed": 1}).status_code
            == 404
        )
        assert client.get(f"/rechecks/report/?year=2021&department={dept_a.pk}").status_code == 404
    assert client_for(finance).get(f"/rechecks/{ev.pk}/").status_code == 200
    assert Sample.objects.count() == 0


def test_the_nav_link_is_finance_only(finance, staff_a, admin_user):
    assert 'href="/rechecks/"' in client_for(finance).get("/evaluations/").content.decode()
    for user in (staff_a, admin_user):
        assert 'href="/rechecks/"' not in client_for(user).get("/evaluations/").content.decode()


# --- printing -------------------------------------------------------------------------------


def pdftotext(data: bytes, tmp_path) -> str:
    path = tmp_path / "out.pdf"
    path.write_bytes(data)
    return subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], check=True, capture_output=True, text=True
    ).stdout


def test_the_department_report_prints_its_rechecks(
    dept_a, staff_a, finance, client_finance, tmp_path
):
    ev = approved(dept_a, staff_a, finance, "报告项目")
    recheck = in_progress(ev, finance)
    post_scores(
        client_finance, ev, recheck, {0: "2", 5: "8"}, opinion="报告意见", action="complete/"
    )
    response = client_finance.get(f"/rechecks/report/?year=2021&department={dept_a.pk}")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    text = "".join(pdftotext(response.content, tmp_path).split())
    assert "财政复核报告" in text and "报告项目" in text
    assert "85.00" in text and "15.00" in text and "自评质量差" in text and "报告意见" in text


def test_the_pdf_of_a_rechecked_form_carries_the_recheck_section(
    dept_a, staff_a, finance, client_finance, tmp_path
):
    ev = approved(dept_a, staff_a, finance, "打印项目")
    recheck = in_progress(ev, finance)
    post_scores(client_finance, ev, recheck, {0: "3"}, opinion="打印意见")
    before = pdftotext(client_for(staff_a).get(f"/evaluations/{ev.pk}/pdf/").content, tmp_path)
    assert "财政复核结果" not in before and "打印意见" not in before
    post_scores(client_finance, ev, recheck, {0: "3"}, opinion="打印意见", action="complete/")
    text = pdftotext(client_for(staff_a).get(f"/evaluations/{ev.pk}/pdf/").content, tmp_path)
    squashed = "".join(text.split())
    assert "财政复核结果（已复核" in squashed
    section = squashed[squashed.index("财政复核结果（已复核") :]
    # Row 1: department 10, re-check 3, difference 7; totals 100 / 93 / 7; the opinion.
    assert "10.003.007.00" in section
    assert "100.00优93.00优7.00" in section  # totals with their grades
    assert "总体复核意见：打印意见" in section
    assert "自评质量差" not in section


def test_finances_execution_score_counts_only_when_the_rate_cannot_be_computed():
    from evaluations.core.evaluation_data import FundingData
    from rechecks.scoring import recheck_figures
    from tests.factories import clean_form_data

    form = clean_form_data()
    for i, ind in enumerate(form.indicators):
        ind.key = f"k{i}"
    scores = {ind.key: ind.score for ind in form.indicators}
    # Funding given: rule 2 decides (10 of 10), whatever finance typed.
    figures = recheck_figures(
        form, scores=scores, opinions={}, execution_score=D(4), threshold=D(10)
    )
    assert (figures.execution_editable, figures.recheck_execution, figures.total) == (
        False,
        D("10.00"),
        D("100.00"),
    )
    # No executed amount: the engine takes the stated execution score, finance's here.
    form.funding = [FundingData("total", D(70), D(70), None)]
    figures = recheck_figures(
        form, scores=scores, opinions={}, execution_score=D(4), threshold=D(10)
    )
    assert figures.execution_editable is True
    assert (figures.recheck_execution, figures.total, figures.difference) == (
        D(4),
        D("94.00"),
        D("6.00"),
    )


def test_the_recheck_total_carries_its_grade_everywhere(
    dept_a, staff_a, finance, client_finance, tmp_path
):
    """The re-check total is graded beside the department's own."""
    ev = approved(dept_a, staff_a, finance)
    recheck = in_progress(ev, finance)
    # Row 1 from 10 to 0: the department's 100 (优) becomes 90 (优); rows 1 and 2: 80 (良).
    post_scores(
        client_finance, ev, recheck, {0: "0", 1: "0"}, opinion="两项缺佐证", action="complete/"
    )
    recheck.refresh_from_db()
    assert recheck.total == Decimal("80")
    detail = client_for(staff_a).get(f"/evaluations/{ev.pk}/").content.decode()
    assert "自评总分 100.00（优），复核总分 80.00（良）" in detail
    page = client_finance.get(f"/rechecks/{ev.pk}/").content.decode()
    assert "80.00 良" in page
    listing = client_finance.get("/rechecks/?year=2021").content.decode()
    assert "80.00 良" in listing
    text = pdftotext(client_for(staff_a).get(f"/evaluations/{ev.pk}/pdf/").content, tmp_path)
    assert "100.00优80.00良20.00" in "".join(text.split())
