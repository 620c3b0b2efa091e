"""Bounded, clean text where input enters: the web form and the importers.

Texts are bounded by ``evaluations.core.limits`` (a counter on the page, a refusal naming the
row at import), invisible control characters are removed with a message, a form has
at most ``MAX_INDICATORS`` rows, and money and weights are never negative. The longest
form the limits allow prints, last row included.
"""

from __future__ import annotations

import re
import subprocess
from decimal import Decimal

import pytest
from django.conf import settings
from django.contrib.staticfiles import finders
from django.urls import reverse

from evaluations.core.evaluation_data import FormData, FundingData, IndicatorData
from evaluations.core.limits import MAX_INDICATORS, TEXT_LIMITS
from evaluations.forms.entry import FormTextField, evaluation_forms, initial_from
from evaluations.importer.checks import check_forms
from evaluations.importer.service import import_file
from evaluations.models import Evaluation, FundingRow, Indicator
from scripts.bench_pdf import FILLERS, longest_form
from tests.factories import clean_form_data, make_evaluation

pytestmark = pytest.mark.django_db

D = Decimal
FUNDING_LABELS = {
    "total": "年度资金总额",
    "current_year": "其中：当年财政拨款",
    "carryover": "上年结转资金",
    "other": "其他资金",
}


# --------------------------------------------------------------------------- helpers


def _cell(value: object) -> str:
    return "" if value is None else str(value)


def text_dump(form: FormData) -> bytes:
    """A form as the Word-to-text dumps of the seed files write it (one cell per line)."""
    rows: list[list[str]] = [
        ["项目支出绩效自评表"],
        [f"({form.year}年度)"],
        ["项目名称", form.project_name],
        ["主管部门", form.department, "实施单位", form.implementing_unit],
        [
            "项目资金（万元）",
            "",
            "年初预算数",
            "全年预算数",
            "全年执行数",
            "分值",
            "执行率",
            "得分",
        ],
    ]
    for row in form.funding:
        amounts = [_cell(row.initial_budget), _cell(row.annual_budget), _cell(row.executed)]
        tail = (
            [_cell(form.execution_weight), "", _cell(form.execution_score)]
            if row.kind == "total"
            else ["—", "—", "—"]
        )
        rows.append(["", FUNDING_LABELS[row.kind], *amounts, *tail])
    rows.append(["年度总体目标", "预期目标", "实际完成情况"])
    rows.append(["", form.goal_target, form.goal_actual])
    header = ["一级指标", "二级指标", "三级指标", "年度指标值", "实际完成值", "分值", "得分"]
    rows.append(["", *header, "偏差原因分析及改进措施"])
    for number, ind in enumerate(form.indicators):
        rows.append(
            [
                "年度绩效指标完成情况" if number == 0 else "",
                ind.level1,
                ind.level2,
                ind.name,
                ind.target,
                ind.actual,
                _cell(ind.weight),
                _cell(ind.score),
                ind.deviation,
            ]
        )
    rows.append(["总分", "100", _cell(form.stated_total), ""])
    blocks = ["\n".join(f"\t{cell}" for cell in row) for row in rows]
    return ("\n" + "\n\n".join(blocks) + "\n").encode("utf-8")


def imported_form(**overrides: object) -> FormData:
    """A clean form of department A's name, ready for text_dump()."""
    form = clean_form_data(**overrides)
    form.department = "昌吉回族自治州住房和城乡建设局"
    form.implementing_unit = "住建局本级"  # "实施单位甲" would read as a label
    return form


def post_data(evaluation: Evaluation, **changes: str) -> dict[str, str]:
    """The edit page's POST for a stored evaluation, with some fields changed."""
    initial = initial_from(evaluation)
    data: dict[str, str] = {"next": "edit"}
    for name, value in initial["header"].items():
        data[name] = "" if value is None else str(value)
    for kind, values in initial["funding"].items():
        for name, value in values.items():
            data[f"funding-{kind}-{name}"] = value
    rows = initial["indicators"]
    data.update({"ind-TOTAL_FORMS": str(len(rows)), "ind-INITIAL_FORMS": str(len(rows))})
    for i, row in enumerate(rows):
        for name, value in row.items():
            data[f"ind-{i}-{name}"] = "" if value is None else str(value)
        data[f"ind-{i}-ORDER"] = str(i + 1)
    data.update(changes)
    return data


def only_messages(report) -> list[str]:
    return [p.message for p in report.problems]


# --------------------------------------------------------------------------- lengths


def test_it_gives_every_text_field_of_the_web_form_the_limit_of_the_model():
    forms = evaluation_forms()
    fields = {**forms.header.fields, **forms.indicators.empty_form.fields}
    limits = {
        name: field.max_length for name, field in fields.items() if isinstance(field, FormTextField)
    }
    assert limits == {k: v for k, v in TEXT_LIMITS.items() if k != "department"}
    assert Evaluation._meta.get_field("goal_target").max_length == TEXT_LIMITS["goal_target"]
    assert Indicator._meta.get_field("name").max_length == TEXT_LIMITS["name"]


def test_it_refuses_an_over_long_goal_on_the_web_form_and_keeps_the_input(client_a, dept_a):
    evaluation = make_evaluation(dept_a)
    goal = "目" * (TEXT_LIMITS["goal_target"] + 1)
    response = client_a.post(
        reverse("evaluations:edit", args=[evaluation.pk]), post_data(evaluation, goal_target=goal)
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert "最多 2000 字（现有 2001 字），请删减后再保存。" in page
    assert goal in page
    evaluation.refresh_from_db()
    assert evaluation.goal_target == "保障居民住房质量安全。"
    assert evaluation.revision == 1


def test_it_saves_a_goal_at_its_limit_counting_a_line_break_as_one(client_a, dept_a):
    evaluation = make_evaluation(dept_a)
    # Browsers post a textarea's breaks as CRLF and count them as one character.
    goal = "目" * 999 + "\r\n" + "标" * 1000
    response = client_a.post(
        reverse("evaluations:edit", args=[evaluation.pk]), post_data(evaluation, goal_target=goal)
    )
    assert response.status_code == 302
    evaluation.refresh_from_db()
    assert evaluation.goal_target == "目" * 999 + "\n" + "标" * 1000
    assert len(evaluation.goal_target) == TEXT_LIMITS["goal_target"]


def test_it_refuses_an_over_long_indicator_name_on_the_web_form(client_a, dept_a):
    evaluation = make_evaluation(dept_a)
    name = "指" * 257
    response = client_a.post(
        reverse("evaluations:edit", args=[evaluation.pk]),
        post_data(evaluation, **{"ind-2-name": name}),
    )
    assert response.status_code == 200
    assert "最多 200 字（现有 257 字），请删减后再保存。" in response.content.decode()
    assert Indicator.objects.get(evaluation=evaluation, position=3).name == "工程质量达标率"


def test_it_shows_a_character_counter_served_from_static(client_a, dept_a):
    evaluation = make_evaluation(dept_a)
    page = client_a.get(reverse("evaluations:edit", args=[evaluation.pk])).content.decode()
    goal = re.search(r'<textarea name="goal_target"[^>]*>', page).group(0)
    assert 'data-maxlength="2000"' in goal and 'data-counter="always"' in goal
    # No maxlength attribute: a browser would cut pasted text silently.
    assert "maxlength=" not in goal.replace("data-maxlength=", "")
    for name, limit in (("ind-0-name", 200), ("ind-0-deviation", 300), ("goal_actual", 2000)):
        tag = re.search(rf'<textarea name="{name}"[^>]*>', page).group(0)
        assert f'data-maxlength="{limit}"' in tag and 'data-counter="always"' in tag
    target = re.search(r'<input type="text" name="ind-0-target"[^>]*>', page).group(0)
    assert 'data-maxlength="100"' in target and 'data-counter="near"' in target
    # The rows added in the browser come from the template row: counted the same way.
    assert 'name="ind-__prefix__-deviation"' in page
    assert re.search(r'name="ind-__prefix__-deviation"[^>]*data-maxlength="300"', page)
    assert 'data-counter-over="（超出 {n} 字，请删减）"' in page
    assert '<script src="/static/js/evaluation-form.js"></script>' in page
    script = open(finders.find("js/evaluation-form.js"), encoding="utf-8").read()
    assert "char-counter" in script and "dataset.maxlength" in script


# --------------------------------------------------------------------------- lengths at import


def test_it_refuses_an_imported_form_with_an_over_long_cell_naming_the_row():
    long_form = imported_form(project_name="超长指标的项目")
    long_form.indicators[2].name = "指" * 257
    other = imported_form(project_name="正常的项目")
    data = text_dump(long_form) + text_dump(other)
    report = import_file(data=data, name="long.txt")
    assert not report.failed
    assert only_messages(report) == [
        "《超长指标的项目》第3行指标的“三级指标”超过200字（共257字），该表未导入。"
    ]
    # The problem points at the row: its first cell, three lines above the name.
    name_line = data.decode().splitlines().index("\t" + "指" * 257) + 1
    assert report.problems[0].line == name_line - 3
    assert [(f.form.project_name, f.action) for f in report.forms] == [
        ("超长指标的项目", "skipped"),
        ("正常的项目", "created"),
    ]
    assert list(Evaluation.objects.values_list("project_name", flat=True)) == ["正常的项目"]


def test_it_refuses_an_imported_goal_over_its_limit_and_writes_nothing_when_alone():
    form = imported_form()
    form.goal_target = "目" * 2100
    report = import_file(data=text_dump(form), name="goal.txt")
    assert report.failed
    assert only_messages(report) == [
        "《农村住房质量监督》的“预期目标”超过2000字（共2100字），该表未导入。"
    ]
    assert [f.action for f in report.forms] == ["skipped"]
    assert Evaluation.objects.count() == 0


def test_it_refuses_an_imported_form_over_the_row_limit():
    form = imported_form()
    row = form.indicators[0]
    form.indicators = [
        IndicatorData(row.level1, row.level2, f"指标{i}", row.target, row.actual, D("1"), D("1"))
        for i in range(MAX_INDICATORS + 1)
    ]
    report = import_file(data=text_dump(form), name="rows.txt")
    assert report.failed
    assert only_messages(report) == [
        "《农村住房质量监督》有 61 行指标，超过每张表最多 60 行的限制，该表未导入。"
    ]
    assert Evaluation.objects.count() == 0


def test_it_imports_a_form_of_exactly_the_row_limit():
    form = imported_form()
    row = form.indicators[0]
    form.indicators = [
        IndicatorData(row.level1, row.level2, f"指标{i}", row.target, row.actual, D("1"), D("1"))
        for i in range(MAX_INDICATORS)
    ]
    report = import_file(data=text_dump(form), name="rows.txt")
    assert [f.action for f in report.forms] == ["created"]
    assert Indicator.objects.count() == MAX_INDICATORS


def test_it_lists_at_most_ten_refusals_of_one_form():
    form = imported_form()
    for ind in form.indicators:
        ind.name, ind.deviation = "指" * 201, "偏" * 301
    problems = check_forms(forms := [form])
    assert forms == []
    assert len(problems) == 11
    assert problems[-1].message == "《农村住房质量监督》另有 6 处超出限制，该表未导入。"


def test_the_web_formset_stops_at_the_row_limit(client_a, dept_a):
    evaluation = make_evaluation(dept_a)
    data = post_data(evaluation)
    for i in range(8, MAX_INDICATORS + 1):
        data.update({f"ind-{i}-level1": "产出指标", f"ind-{i}-name": f"指标{i}"})
        data.update({f"ind-{i}-weight": "0", f"ind-{i}-ORDER": str(i + 1)})
    data["ind-TOTAL_FORMS"] = str(MAX_INDICATORS + 1)
    response = client_a.post(reverse("evaluations:edit", args=[evaluation.pk]), data)
    assert response.status_code == 200
    assert "每张表最多 60 行指标，请删去多余的行后再保存。" in response.content.decode()
    assert evaluation.indicators.count() == 8
    forms = evaluation_forms()
    assert forms.indicators.max_num == MAX_INDICATORS and forms.indicators.validate_max
    # 60 rows stay well below Django's limit of posted fields (TooManyFieldsSent).
    assert len(data) < settings.DATA_UPLOAD_MAX_NUMBER_FIELDS


# --------------------------------------------------------------------------- the longest form printed


@pytest.mark.slow
def test_it_prints_the_longest_allowed_form_to_its_last_row(dept_a, tmp_path):
    from evaluations.services import evaluation_create
    from exports import compose

    form = longest_form(FILLERS["prose"])
    form.department = dept_a.name
    evaluation, _result = evaluation_create(department=dept_a, data=form, user=None)
    assert evaluation.indicators.count() == MAX_INDICATORS
    path = tmp_path / "longest.pdf"
    path.write_bytes(compose.evaluation_pdf(evaluation))
    text = subprocess.run(
        ["pdftotext", "-enc", "UTF-8", str(path), "-"], capture_output=True, check=True, text=True
    ).stdout
    pages = ["".join(page.split()) for page in text.split("\f") if page.strip()]
    # The last row ("…末行" ends its 三级指标) is printed, on the page of the total.
    assert "末行" in pages[-1] and "总分" in pages[-1].rsplit("末行", 1)[1]
    assert sum(page.count("末行") for page in pages) == 1
    assert f"第{len(pages)}页，共{len(pages)}页" in pages[-1]


def test_it_prints_a_text_of_one_character_per_line_with_bounded_breaks():
    from exports.pdf import printed_text

    assert printed_text("一\n" * 3, "deviation") == "一\n一\n一\n"
    text = printed_text("一\n" * 1000, "goal_target")
    assert text.count("\n") == 40
    assert text.count("一") == 1000
    assert printed_text("a\x00b\ufffe\nc\x01", "name") == "ab\nc"


# --------------------------------------------------------------------------- control characters in the web form


def test_it_strips_control_characters_from_the_web_form_and_says_how_many(client_a, dept_a):
    evaluation = make_evaluation(dept_a)
    data = post_data(
        evaluation,
        project_name="P\x01Q",
        goal_target="目标\x00一\ufffe",
        **{"ind-0-deviation": "偏差\x1f\x7f说明"},
    )
    forms = evaluation_forms(data)
    assert forms.is_valid()
    assert forms.removed_characters() == 5
    assert forms.cleaning_note() == "已删除 5 个不可见的控制字符。"
    assert forms.header.cleaned_data["project_name"] == "PQ"

    response = client_a.post(reverse("evaluations:edit", args=[evaluation.pk]), data)
    assert response.status_code == 302
    evaluation.refresh_from_db()
    assert evaluation.project_name == "PQ"
    assert evaluation.goal_target == "目标一"
    assert evaluation.indicators.get(position=1).deviation == "偏差说明"


def test_it_tells_the_user_after_saving_that_characters_were_removed(client_a, dept_a):
    evaluation = make_evaluation(dept_a)
    data = post_data(evaluation, project_name="P\x01\x02Q")
    response = client_a.post(reverse("evaluations:edit", args=[evaluation.pk]), data, follow=True)
    assert "已删除 2 个不可见的控制字符。" in [str(m) for m in response.context["messages"]]


def test_it_refuses_a_service_write_over_the_row_limit(dept_a):
    from django.core.exceptions import ValidationError

    from evaluations.services import evaluation_write

    evaluation = make_evaluation(dept_a)
    data = clean_form_data()
    data.indicators = data.indicators * (MAX_INDICATORS // len(data.indicators) + 1)
    assert len(data.indicators) > MAX_INDICATORS
    with pytest.raises(ValidationError) as refused:
        evaluation_write(evaluation=evaluation, data=data, user=None)
    assert refused.value.messages == [
        f"每张表最多 {MAX_INDICATORS} 行指标，此表有 {len(data.indicators)} 行。"
    ]
    assert evaluation.indicators.count() == 8


def test_it_shows_the_cleaning_note_when_the_page_comes_back(client_a, dept_a):
    evaluation = make_evaluation(dept_a)
    data = post_data(evaluation, project_name="P\x01Q", **{"funding-total-executed": "-1"})
    response = client_a.post(reverse("evaluations:edit", args=[evaluation.pk]), data)
    assert response.status_code == 200
    page = response.content.decode()
    assert "已删除 1 个不可见的控制字符。" in page
    # The page shows the text as it will be stored.
    assert 'value="PQ"' in page and "\x01" not in page


def test_it_strips_control_characters_at_import_naming_form_and_row():
    form = imported_form(project_name="控\x01制字符")
    form.goal_actual = "完成\x00任务\uffff"
    form.indicators[1].deviation = "说\x02明"
    # A text dump is cleaned before its rows are read (a NUL inside a label would hide the
    # label): the problems name the lines of the file.
    report = import_file(data=text_dump(form), name="nul.txt")
    assert [(p.line, p.message) for p in report.problems] == [
        (7, "第7行含有 1 个不可见的控制字符（U+0001），已删除。"),
        (65, "第65行含有 2 个不可见的控制字符（U+0000、U+FFFF），已删除。"),
        (95, "第95行含有 1 个不可见的控制字符（U+0002），已删除。"),
    ]
    # Forms from any other reader are cleaned by check_forms, naming form, field and row.
    assert [p.message for p in check_forms([form])] == [
        "《控制字符》的“项目名称”、“实际完成情况”含有 3 个不可见的控制字符"
        "（U+0001、U+0000、U+FFFF），已删除。",
        "《控制字符》第2行指标的“偏差原因分析及改进措施”含有 1 个不可见的控制字符（U+0002），已删除。",
    ]
    evaluation = Evaluation.objects.get()
    assert evaluation.project_name == "控制字符"
    assert evaluation.goal_actual == "完成任务"
    assert evaluation.indicators.get(position=2).deviation == "说明"


def test_it_imports_a_nul_in_a_text_file_and_the_form_stays_savable_and_exportable(
    client_a, dept_a
):
    # A NUL passed the junk check, imported on SQLite, then broke saves and exports (and
    # on PostgreSQL gave a raw database error).
    form = imported_form()
    form.goal_target = "保障\x00居民住房质量安全。"
    report = import_file(data=text_dump(form), name="nul.txt", department=dept_a)
    assert [f.action for f in report.forms] == ["created"]
    evaluation = Evaluation.objects.get()
    assert evaluation.goal_target == "保障居民住房质量安全。"
    response = client_a.post(
        reverse("evaluations:edit", args=[evaluation.pk]), post_data(evaluation)
    )
    assert response.status_code == 302
    response = client_a.get(reverse("evaluations:xlsx", args=[evaluation.pk]))
    assert response.status_code == 200


# --------------------------------------------------------------------------- no negative money or weights


def test_it_refuses_negative_money_and_weights_on_the_web_form(client_a, dept_a):
    evaluation = make_evaluation(dept_a)
    changes = {
        f"funding-{kind}-{name}": "-10"
        for kind in ("total", "current_year", "carryover", "other")
        for name in ("initial_budget", "annual_budget", "executed")
    }
    changes.update({"execution_weight": "-10", "ind-0-weight": "-5"})
    response = client_a.post(
        reverse("evaluations:edit", args=[evaluation.pk]), post_data(evaluation, **changes)
    )
    assert response.status_code == 200
    page = response.content.decode()
    # Under each box, and once more in the summary at the top, linked to the box.
    assert page.count("<div>金额不能为负数。</div>") == 12
    assert page.count("<div>分值不能为负数。</div>") == 2
    assert page.count("金额不能为负数。</li>") == 12
    assert '<a href="#id_ind-0-weight" data-field-id="id_ind-0-weight">第 1 行 分值</a>' in page
    assert '<a href="#id_execution_weight" data-field-id="id_execution_weight">' in page
    evaluation.refresh_from_db()
    assert evaluation.revision == 1
    assert not FundingRow.objects.filter(evaluation=evaluation, annual_budget__lt=0).exists()


def test_it_refuses_a_new_form_with_all_negative_funding(client_a, dept_a):
    data = post_data(make_evaluation(dept_a), project_name="新项目")
    del data["revision"]
    for kind in ("total", "current_year", "carryover", "other"):
        for name in ("initial_budget", "annual_budget", "executed"):
            data[f"funding-{kind}-{name}"] = "-1"
    response = client_a.post(reverse("evaluations:new"), data)
    assert response.status_code == 200
    assert "金额不能为负数。" in response.content.decode()
    assert not Evaluation.objects.filter(project_name="新项目").exists()


def test_it_refuses_an_imported_form_with_all_negative_funding():
    form = imported_form()
    form.funding = [FundingData(kind, D("-70"), D("-70"), D("-60")) for kind in FUNDING_LABELS]
    report = import_file(data=text_dump(form), name="negative.txt")
    assert report.failed
    messages = only_messages(report)
    assert len(messages) == 11  # ten listed, the rest counted
    assert messages[0] == (
        "《农村住房质量监督》资金“年度资金总额”的“年初预算数”为 -70，不能为负数，该表未导入。"
    )
    assert messages[2] == (
        "《农村住房质量监督》资金“年度资金总额”的“全年执行数”为 -60，不能为负数，该表未导入。"
    )
    assert messages[-1] == "《农村住房质量监督》另有 2 处超出限制，该表未导入。"
    assert Evaluation.objects.count() == 0


def test_it_refuses_an_imported_negative_weight_and_a_number_too_long_for_its_column():
    form = imported_form()
    form.indicators[6].weight = D("-15")
    form.stated_total = D("100.125")
    problems = check_forms(forms := [form])
    assert forms == []
    assert [p.message for p in problems] == [
        "《农村住房质量监督》的“总分”为 100.125，位数超出表格所能容纳的范围"
        "（整数最多5位，小数最多2位），该表未导入。",
        "《农村住房质量监督》第7行指标的“分值”为 -15，不能为负数，该表未导入。",
    ]


def test_it_leaves_clean_forms_alone():
    form = imported_form()
    before = repr(form)
    assert check_forms(forms := [form]) == []
    assert forms == [form] and repr(form) == before


def test_the_error_summary_numbers_rows_as_the_page_shows_them(client_a, dept_a):
    evaluation = make_evaluation(dept_a)
    # Row 1 deleted on the page: the third stored row is the second one shown.
    changes = {"ind-0-DELETE": "1", "ind-2-weight": "十分", "funding-other-executed": "-1"}
    response = client_a.post(
        reverse("evaluations:edit", args=[evaluation.pk]), post_data(evaluation, **changes)
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert '<a href="#id_ind-2-weight" data-field-id="id_ind-2-weight">第 2 行 分值</a>' in page
    assert ">其他资金·全年执行数</a>：金额不能为负数。" in page
    evaluation.refresh_from_db()
    assert evaluation.revision == 1
