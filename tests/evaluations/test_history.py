"""History as data: rows matched by key, changes stored without labels, shown from the catalogue."""

from __future__ import annotations

import copy
import dataclasses
import json
import re
from decimal import Decimal

import pytest

from evaluations.core.evaluation_data import FormData
from evaluations.history import describe_change, diff_snapshots
from evaluations.importer.service import import_file
from evaluations.mapping import initial_from_form_data, snapshot
from evaluations.models import Evaluation, EvaluationEvent, EventAction
from evaluations.services import evaluation_write
from tests.conftest import sample_path
from tests.factories import make_evaluation

CJK = re.compile(r"[\u4e00-\u9fff]")


def keyed(data: FormData) -> FormData:
    rows = [dataclasses.replace(i, key=f"k{n}") for n, i in enumerate(data.indicators, start=1)]
    return dataclasses.replace(data, indicators=rows)


def moved(data: FormData, source: int, target: int) -> FormData:
    """A copy of ``data`` with the row at ``source`` (0-based) moved to ``target``."""
    result = copy.deepcopy(data)
    result.indicators.insert(target, result.indicators.pop(source))
    return result


@pytest.fixture
def data() -> FormData:
    from tests.factories import clean_form_data

    return keyed(clean_form_data())


def diff(old: FormData, new: FormData) -> list[dict]:
    return diff_snapshots(snapshot(old, with_keys=True), snapshot(new, with_keys=True))


# --- the diff (pure) ----------------------------------------------------------------------


def test_moving_a_row_is_one_change(data):
    assert diff(data, moved(data, 2, 0)) == [
        {
            "section": "indicator",
            "row": "k3",
            "change": "moved",
            "from": 3,
            "to": 1,
            "name": "工程质量达标率",
        }
    ]


def test_moving_a_row_down_is_one_change_too(data):
    changes = diff(data, moved(data, 0, 5))
    assert [(c["row"], c["change"], c["from"], c["to"]) for c in changes] == [("k1", "moved", 1, 6)]


def test_editing_a_moved_row_is_one_move_and_one_edit(data):
    new = moved(data, 2, 0)
    new.indicators[0].weight = Decimal("5")
    assert diff(data, new) == [
        {
            "section": "indicator",
            "row": "k3",
            "change": "moved",
            "from": 3,
            "to": 1,
            "name": "工程质量达标率",
        },
        {
            "section": "indicator",
            "row": "k3",
            "position": 1,
            "field": "weight",
            "old": "10",
            "new": "5",
        },
    ]


def test_editing_one_row_while_others_shift_names_that_row_only(data):
    new = dataclasses.replace(data, indicators=[dataclasses.replace(i) for i in data.indicators])
    del new.indicators[0]  # every row below moves up one place
    new.indicators[3].actual = "22万元"  # 检查费用, now row 4
    changes = diff(data, new)
    assert changes == [
        {
            "section": "indicator",
            "row": "k5",
            "position": 4,
            "field": "actual",
            "old": "21.50万元",
            "new": "22万元",
        },
        {
            "section": "indicator",
            "row": "k1",
            "change": "removed",
            "from": 1,
            "name": "改造农村住房户数",
        },
    ]


def test_added_rows_are_one_change_each(data):
    new = dataclasses.replace(data, indicators=[dataclasses.replace(i) for i in data.indicators])
    extra = dataclasses.replace(data.indicators[1], key="k9", name="新增指标")
    new.indicators.insert(1, extra)
    assert diff(data, new) == [
        {"section": "indicator", "row": "k9", "change": "added", "to": 2, "name": "新增指标"}
    ]


def test_an_old_version_without_keys_is_matched_by_names(data):
    old = snapshot(data)  # as versions were stored before rows had keys
    new = moved(data, 2, 0)
    new.indicators[0].score = Decimal("9")
    changes = diff_snapshots(old, snapshot(new, with_keys=True))
    assert [(c["row"], c.get("change"), c.get("field")) for c in changes] == [
        ("k3", "moved", None),
        ("k3", None, "score"),
    ]


def test_an_old_version_without_keys_falls_back_to_the_position_for_a_renamed_row(data):
    old = snapshot(data)
    new = dataclasses.replace(data, indicators=[dataclasses.replace(i) for i in data.indicators])
    new.indicators[1].name = "监督检查次数（次）"
    changes = diff_snapshots(old, snapshot(new, with_keys=True))
    assert changes == [
        {
            "section": "indicator",
            "row": "k2",
            "position": 2,
            "field": "name",
            "old": "监督检查次数",
            "new": "监督检查次数（次）",
        }
    ]


# --- showing a change ---------------------------------------------------------------------


def test_changes_are_shown_with_labels_from_the_catalogue(data):
    new = moved(data, 2, 0)
    new.indicators[0].weight = Decimal("5")
    new.stated_total = Decimal("95")
    new.funding[1].executed = Decimal("60")
    shown = [describe_change(c) for c in diff(data, new)]
    assert shown == [
        {"label": "总分", "old": "100", "new": "95"},
        {"label": "当年财政拨款·全年执行数", "old": "70", "new": "60"},
        {"label": "指标“工程质量达标率”（移动）", "old": "第3行", "new": "第1行"},
        {"label": "第1行指标·分值", "old": "10", "new": "5"},
    ]


@pytest.mark.parametrize(
    ("stored", "shown"),
    [
        (
            {"field": "stated_total", "label": "旧标签", "old": "100", "new": "99", "row": None},
            {"label": "总分", "old": "100", "new": "99"},
        ),
        (
            {"field": "funding.total.executed", "label": "旧标签", "old": "70", "new": "69"},
            {"label": "年度资金总额·全年执行数", "old": "70", "new": "69"},
        ),
        (
            {"field": "indicators.3.name", "label": "旧标签", "old": "甲", "new": "乙", "row": 3},
            {"label": "第3行指标·三级指标", "old": "甲", "new": "乙"},
        ),
        (
            {"field": "indicators.9", "label": "旧标签", "old": None, "new": "新指标", "row": 9},
            {"label": "第9行指标（新增）", "old": None, "new": "新指标"},
        ),
        (
            {"field": "indicators.2", "label": "旧标签", "old": "旧指标", "new": None, "row": 2},
            {"label": "第2行指标（删除）", "old": "旧指标", "new": None},
        ),
    ],
)
def test_old_shape_events_are_shown_from_their_field_keys(stored, shown):
    assert describe_change(stored) == shown


# --- through the services and pages -------------------------------------------------------


def edit_body(evaluation: Evaluation, data: FormData | None = None) -> dict[str, str]:
    """The edit page's POST for ``data`` (default: as stored), keys in hidden fields."""
    data = data or evaluation.as_form_data()
    initial = initial_from_form_data(
        data, department_id=evaluation.department_id, revision=evaluation.revision
    )
    body = {"next": "edit"}
    body.update({k: "" if v is None else str(v) for k, v in initial["header"].items()})
    for kind, values in initial["funding"].items():
        body.update({f"funding-{kind}-{k}": v for k, v in values.items()})
    rows = initial["indicators"]
    body.update({"ind-TOTAL_FORMS": str(len(rows)), "ind-INITIAL_FORMS": str(len(rows))})
    for i, row in enumerate(rows):
        body.update({f"ind-{i}-{k}": "" if v is None else str(v) for k, v in row.items()})
        body[f"ind-{i}-ORDER"] = str(i + 1)
    return body


def last_edit(evaluation: Evaluation) -> EvaluationEvent:
    return evaluation.events.order_by("-id").first()


@pytest.mark.django_db
def test_the_edit_page_carries_each_rows_key_and_a_new_row_posts_none(client_a, dept_a, staff_a):
    evaluation = make_evaluation(dept_a, staff_a)
    keys = list(evaluation.indicators.values_list("key", flat=True))
    assert all(re.fullmatch(r"[0-9a-f]{32}", k) for k in keys) and len(set(keys)) == 8
    page = client_a.get(f"/evaluations/{evaluation.pk}/edit/").content.decode()
    assert f'name="ind-0-key" value="{keys[0]}"' in page
    # The row template the page's script clones: its key is empty.
    template = page[page.index('id="indicator-template"') :]
    assert re.search(r'<input type="hidden" name="ind-__prefix__-key" id="[^"]+">', template)


@pytest.mark.django_db
def test_moving_a_row_on_the_page_records_one_change_and_keeps_the_keys(client_a, dept_a, staff_a):
    evaluation = make_evaluation(dept_a, staff_a)
    keys = list(evaluation.indicators.values_list("key", flat=True))
    body = edit_body(evaluation)
    body.update({"ind-2-ORDER": "1", "ind-0-ORDER": "2", "ind-1-ORDER": "3"})
    body["ind-2-weight"] = "9"
    body["ind-3-weight"] = "11"
    response = client_a.post(f"/evaluations/{evaluation.pk}/edit/", body)
    assert response.status_code == 302
    assert list(evaluation.indicators.values_list("key", flat=True)) == [
        keys[2],
        keys[0],
        keys[1],
        *keys[3:],
    ]
    changes = last_edit(evaluation).changes
    assert [(c["row"], c.get("change"), c.get("field")) for c in changes] == [
        (keys[2], "moved", None),
        (keys[2], None, "weight"),
        (keys[3], None, "weight"),
    ]
    # Nothing a person reads is stored: keys and values only (values are the form's text).
    for change in changes:
        assert "label" not in change
        described = json.dumps({k: v for k, v in change.items() if k not in ("old", "new", "name")})
        assert not CJK.search(described), change
    page = client_a.get(f"/evaluations/{evaluation.pk}/history/").content.decode()
    assert "指标“工程质量达标率”（移动）" in page
    assert "第4行指标·分值" in page


@pytest.mark.django_db
def test_a_posted_key_of_another_form_is_ignored(client_a, dept_a, dept_b, staff_a, staff_b):
    evaluation = make_evaluation(dept_a, staff_a)
    other = make_evaluation(dept_b, staff_b, project_name="民政救助资金")
    foreign = other.indicators.get(position=1).key
    own = list(evaluation.indicators.values_list("key", flat=True))
    body = edit_body(evaluation)
    body["ind-0-key"] = foreign
    body["ind-1-key"] = "not a key"
    body["ind-2-key"] = own[3]  # a key of this form, used twice: the second use is new
    response = client_a.post(f"/evaluations/{evaluation.pk}/edit/", body)
    assert response.status_code == 302
    stored = list(evaluation.indicators.values_list("key", flat=True))
    assert foreign not in stored and len(set(stored)) == 8
    assert stored[2] == own[3] and stored[3] != own[3]
    assert stored[4:] == own[4:]
    assert other.indicators.get(position=1).key == foreign
    kinds = [c.get("change") for c in last_edit(evaluation).changes]
    assert kinds.count("added") == 3 and kinds.count("removed") == 3


@pytest.mark.django_db
def test_the_history_page_shows_old_shape_events_from_their_keys(client_a, dept_a, staff_a):
    evaluation = make_evaluation(dept_a, staff_a)
    EvaluationEvent.objects.create(
        evaluation=evaluation,
        action=EventAction.EDITED,
        revision=1,
        changes=[
            {
                "field": "indicators.3.weight",
                "label": "过时的标签",
                "old": "5",
                "new": "10",
                "row": 3,
            }
        ],
    )
    page = client_a.get(f"/evaluations/{evaluation.pk}/history/").content.decode()
    assert "第3行指标·分值" in page
    assert "过时的标签" not in page


@pytest.mark.django_db
def test_reimporting_a_form_keeps_the_keys_of_rows_with_the_same_names(dept_a, staff_a):
    text = sample_path("003").read_bytes()
    report = import_file(data=text, name="003.txt", department=dept_a, user=staff_a)
    evaluation = Evaluation.objects.get(pk=report.forms[0].evaluation_id)
    before = list(evaluation.indicators.order_by("position"))
    # Someone reorders and renames on the web; the file then replaces the form again.
    data = moved(evaluation.as_form_data(), 0, 2)
    data.indicators[0].name = "改过的名称"
    evaluation_write(evaluation=evaluation, data=data, user=staff_a)
    renamed = evaluation.indicators.get(position=1).key
    report = import_file(data=text, name="003.txt", department=dept_a, user=staff_a)
    assert report.forms[0].action == "updated"
    after = list(evaluation.indicators.order_by("position"))
    assert [i.name for i in after] == [i.name for i in before]
    assert after[0].key == before[0].key
    assert [i.key for i in after if i.name != before[1].name] == [
        i.key for i in before if i.name != before[1].name
    ]
    assert after[1].key not in (before[1].key, renamed)  # the renamed row came back as new
    changes = evaluation.events.filter(action=EventAction.IMPORTED).order_by("-id")[0].changes
    kinds = sorted(c.get("change", "edit") for c in changes)
    assert kinds == ["added", "moved", "removed"]
