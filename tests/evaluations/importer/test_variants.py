"""Forms of other places' templates (tests/data/variant-*), read figure for figure.

Indicator tables with a split target (指标性质 / 指标值 / 度量单位), weights written into
the first-level label, (A)/(B) columns, hint rows; the rows around the table; titles of
other templates; the department-wide form, refused with its reason.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from evaluations.core.evaluation_data import FormData
from evaluations.core.scoring import evaluate
from evaluations.core.values import parse_value
from evaluations.importer.indicator_columns import combined_target
from evaluations.importer.results import ParseResult
from evaluations.importer.service import import_file, parse_file
from evaluations.models import Evaluation
from tests.conftest import PROJECT_DIR, sample_path

DATA = PROJECT_DIR / "tests" / "data"


def read(name: str) -> ParseResult:
    path = DATA / name
    return parse_file(path.read_bytes(), path.name)


def rows(form: FormData) -> list[tuple]:
    """Each indicator as (一级, 二级, 三级, 指标值, 完成值, 分值, 得分)."""
    return [
        (i.level1, i.level2, i.name, i.target, i.actual, i.weight, i.score) for i in form.indicators
    ]


def problems(result: ParseResult) -> list[tuple[int | None, str]]:
    return [(p.line, p.message) for p in result.problems]


def codes(form: FormData) -> list[str]:
    return [finding.code for finding in evaluate(form).findings]


D = Decimal


# ---------------------------------------------------------------- indicator columns


def test_it_combines_a_split_target_into_comparator_value_and_unit() -> None:
    result = read("variant-indicators-split-target.txt")
    (form,) = result.forms
    assert problems(result) == []
    assert (form.year, form.project_name, form.stated_total) == (
        2023,
        "乡村公路日常养护",
        D("97.00"),
    )
    assert rows(form) == [
        ("产出指标", "数量指标", "养护里程", "≥120公里", "125", D(20), D(20)),
        ("产出指标", "质量指标", "路面完好率", ">90%", "92", D(15), D(15)),
        ("产出指标", "时效指标", "养护完成时间", "2023年12月31日前", "2023年12月", D(5), D(5)),
        ("产出指标", "成本指标", "每公里养护成本", "≤0.8万元/公里", "0.72", D(10), D(10)),
        ("效益指标", "社会效益指标", "群众出行条件", "有效改善", "有效改善", D(15), D(13)),
        ("效益指标", "可持续影响指标", "长效养护机制", "=1套", "1", D(15), D(15)),
        ("满意度指标", "服务对象满意度指标", "沿线群众满意度", "≥95%", "96", D(10), D(10)),
    ]
    assert form.indicators[4].deviation == "部分路段雨季积水，下年度加强排水设施维护。"
    # Scoring reads them as it reads a one-column target: comparator, number, unit.
    parsed = [parse_value(i.target) for i in form.indicators]
    assert [(p.comparator, p.number, p.unit) for p in parsed if p.is_number] == [
        (">=", D(120), "公里"),
        (">", D(90), "%"),
        ("<=", D("0.8"), "万元/公里"),
        ("=", D(1), "套"),
        (">=", D(95), "%"),
    ]
    assert codes(form) == []


def test_a_split_target_keeps_a_nature_it_does_not_know_and_says_where() -> None:
    text = (DATA / "variant-indicators-split-target.txt").read_text(encoding="utf-8")
    # 养护里程: 指标性质 "约"; 路面完好率: the value already carries comparator and unit.
    text = text.replace("\t≥\n\t120\n", "\t约\n\t120\n", 1)
    text = text.replace("\t＞\n\t90\n\t%\n", "\t＞\n\t>90%\n\t%\n", 1)
    result = parse_file(text.encode(), "variant.txt")
    (form,) = result.forms
    assert [i.target for i in form.indicators[:2]] == ["约120公里", ">90%"]
    assert problems(result) == [(88, "指标性质“约”无法识别，按原文写在指标值前。")]


def test_a_split_header_repeated_after_a_page_break_changes_nothing() -> None:
    text = (DATA / "variant-indicators-split-target.txt").read_text(encoding="utf-8")
    blocks = text.split("\n\n")
    header = [i for i, b in enumerate(blocks) if "\t一级指标" in b][0]
    # Both header rows again before the fourth indicator, as Word repeats them on a new page.
    blocks[header + 5 : header + 5] = blocks[header : header + 2]
    result = parse_file("\n\n".join(blocks).encode(), "variant.txt")
    (form,) = result.forms
    assert problems(result) == []
    expected = read("variant-indicators-split-target.txt").forms[0]
    assert rows(form) == rows(expected)


def test_it_reads_a_split_target_under_a_one_row_header() -> None:
    text = (DATA / "variant-indicators-split-target.txt").read_text(encoding="utf-8")
    one_row = text.replace("\t年度指标值\n", "\t指标性质\n\t指标值\n\t度量单位\n", 1)
    one_row = one_row.replace(
        "\t\n\t\n\t\n\t\n\t指标性质\n\t指标值\n\t度量单位\n\t\n\t\n\t\n\t\n\n", "", 1
    )
    # A project title that speaks of a unit's move (单位整体搬迁) is not a department-wide form.
    one_row = one_row.replace(
        "\t项目支出绩效自评表\n", "\t示例县单位整体搬迁项目支出绩效自评表\n", 1
    )
    result = parse_file(one_row.encode(), "variant.txt")
    (form,) = result.forms
    assert problems(result) == []
    assert [i.target for i in form.indicators] == [
        "≥120公里",
        ">90%",
        "2023年12月31日前",
        "≤0.8万元/公里",
        "有效改善",
        "=1套",
        "≥95%",
    ]


@pytest.mark.parametrize(
    ("nature", "value", "unit", "target", "unknown"),
    [
        ("≧", "95", "%", "≥95%", None),
        ("═", "1", "套", "=1套", None),
        ("＜", "3", "天", "<3天", None),
        ("定性", "有效改善", "", "有效改善", None),
        ("≤", "5%", "%", "≤5%", None),  # the value carries its unit already
        ("≥", "", "%", "", None),  # nothing to compare against: no target
        ("有效提升", "", "", "有效提升", "有效提升"),  # the target, one cell too far left
    ],
)
def test_a_split_target_is_combined_as_a_one_column_target_reads(
    nature: str, value: str, unit: str, target: str, unknown: str | None
) -> None:
    assert combined_target(nature, value, unit) == (target, unknown)


def test_it_reads_a_split_target_under_merged_header_cells_of_a_workbook() -> None:
    result = read("variant-indicators-split-target.xlsx")
    (form,) = result.forms
    assert problems(result) == []
    assert (form.year, form.stated_total, form.execution_score) == (2023, D("98.79"), D(9))
    assert rows(form) == [
        ("产出指标", "数量指标", "绿地养护面积", "≥40万平方米", "42", D(30), D(30)),
        ("产出指标", "质量指标", "苗木成活率", "≥95%", "93", D(10), D("9.79")),
        ("产出指标", "成本指标", "每平方米养护成本", "≤1.5元", "1.29", D(10), D(10)),
        ("效益指标", "生态效益指标", "城区绿化覆盖率", "稳步提高", "稳步提高", D(30), D(30)),
        ("满意度指标", "服务对象满意度指标", "市民满意度", ">90%", "94", D(10), D(10)),
    ]
    # 10 × 93 / 95 = 9.79: the rule gives the department's own score.
    assert codes(form) == []


def test_it_reads_weights_in_the_first_level_label_and_checks_them_against_the_rows() -> None:
    result = read("variant-indicators-weights-in-label.txt")
    (form,) = result.forms
    # 分值 before 年度指标值, 全年实际值, 未完成原因及拟采取的改进措施; blank 一级/二级 inherit;
    # the "……" row is not an indicator; "指标1：" stays as written (the samples store it so).
    assert rows(form) == [
        ("产出指标", "数量指标", "指标1：培训农民人次", "≥500人次", "520人次", D(20), D(20)),
        ("产出指标", "数量指标", "指标2：发放技术资料", "≥1000份", "1000份", D(10), D(10)),
        ("产出指标", "质量指标", "指标3：培训合格率", "≥90%", "81%", D(10), D(9)),
        (
            "产出指标",
            "时效指标",
            "指标4：培训完成时间",
            "2023年10月底前",
            "2023年10月",
            D(10),
            D(10),
        ),
        (
            "效益指标",
            "社会效益指标",
            "指标1：农民科学种植水平",
            "明显提高",
            "明显提高",
            D(15),
            D(15),
        ),
        ("效益指标", "可持续影响指标", "指标2：培训长效机制", "≥1项", "0.8项", D(10), D(8)),
        ("满意度指标", "服务对象满意度指标", "指标1：参训农民满意度", "≥90%", "95%", D(10), D(10)),
    ]
    assert form.indicators[2].deviation == "部分学员缺课，下年度增加补课。"
    assert form.stated_total == D("92.00")
    # 效益指标（30分） heads rows of 15 + 10: the reviewer sees both the line and the error.
    assert problems(result) == [
        (116, "一级指标“效益指标”标明30分，其下各指标分值之和为25分，两者不一致：请核对分值。")
    ]
    assert codes(form) == ["WEIGHTS_NOT_100", "CATEGORY_WEIGHTS_NOT_STANDARD"]


def test_it_reads_lettered_columns_and_reports_the_template_hint_rows() -> None:
    result = read("variant-indicators-ab-columns.txt")
    (form,) = result.forms
    assert rows(form) == [
        ("产出指标", "数量指标", "维修供水工程", "=30处", "30处", D(30), D(30)),
        ("产出指标", "质量指标", "工程验收合格率", "100%", "100%", D(10), D(10)),
        ("产出指标", "时效指标", "完工时间", "2023年11月底前", "2023年11月", D(10), D(10)),
        ("效益指标", "社会效益指标", "受益人口", "≥12000人", "12500人", D(30), D(30)),
        ("满意度指标", "服务对象满意度指标", "受益群众满意度", "≥90%", "93%", D(10), D(10)),
    ]
    assert problems(result) == [
        (
            76,
            "本行是表样的填写说明或示例，未作为指标读取：产出指标 | 数量指标 | "
            "（填写说明：三级指标应细化、量化，可增加行）",
        ),
        (
            86,
            "本行是表样的填写说明或示例，未作为指标读取：例：新建校舍面积 | ≥1000平方米 | 1000平方米",
        ),
    ]
    assert codes(form) == []


# ---------------------------------------------------------------- around the table

NOT_READ = "在本系统的自评表中没有对应栏目，未读取。"


def test_it_reads_the_signature_row_and_reports_what_has_no_place() -> None:
    result = read("variant-around-table.txt")
    (form,) = result.forms
    assert (form.line, form.year, form.project_name) == (7, 2023, "家庭医生签约服务")
    assert (form.department, form.implementing_unit) == (
        "示例县卫生健康委员会",
        "示例县疾病预防控制中心",
    )
    assert (form.filler_name, form.filler_phone, form.unit_head) == ("李四", "0994-7654321", "赵六")
    # Nothing of it is mixed into the goals or the indicators; the 联系电话 above the table
    # may be the project lead's, so only the one in the signature row is the filler's.
    assert (form.goal_target, form.goal_actual) == ("签约5000人。", "签约5200人。")
    assert len(form.indicators) == 4
    assert form.stated_total == D("100.00")
    assert problems(result) == [
        (1, f"“公开14表”{NOT_READ}"),
        (3, f"“报表编号：KJ14-2023”{NOT_READ}"),
        (5, f"“部门：示例县卫生健康委员会”{NOT_READ}"),
        (19, f"“项目负责人及电话：王五 0994-1234567”{NOT_READ}"),
        (22, "“联系电话：0994-1111111”不在表格下方的签字栏中，无法确定是谁的，未读取。"),
        (25, f"“项目基本情况：为全县居民提供家庭医生签约服务。”{NOT_READ}"),
        (136, f"“评价结论：项目完成良好。”{NOT_READ}"),
        (139, f"“存在问题：部分偏远村组签约率偏低。”{NOT_READ}"),
        (142, f"“改进措施：增加巡回签约次数。”{NOT_READ}"),
        (145, f"“其他需要说明事项：无”{NOT_READ}"),
        (148, f"“填报日期：2024年3月1日”{NOT_READ}"),
        (150, f"“注：预算执行率权重10分，产出指标50分，效益指标30分，满意度指标10分。”{NOT_READ}"),
    ]
    assert codes(form) == []


def test_it_reads_a_signature_row_written_with_spaces_and_a_conclusion_in_one_cell() -> None:
    text = (DATA / "variant-around-table.txt").read_text(encoding="utf-8")
    text = text.replace(
        "\t填报人：李四　　联系电话：0994-7654321　　单位负责人（签字）：赵六　　填报日期：2024年3月1日",
        "\t填报人　李四　　联系电话　0994-7654321　　单位负责人（签字）　赵六",
    )
    text = text.replace("\t评价结论\n\t项目完成良好。", "\t评价结论：项目完成良好。")
    result = parse_file(text.encode(), "variant.txt")
    (form,) = result.forms
    assert (form.filler_name, form.filler_phone, form.unit_head) == ("李四", "0994-7654321", "赵六")
    assert (136, f"“评价结论：项目完成良好。”{NOT_READ}") in problems(result)
    assert not any("填报日期" in message for _line, message in problems(result))


@pytest.mark.django_db
def test_an_imported_signature_row_is_stored_with_the_form() -> None:
    path = DATA / "variant-around-table.txt"
    report = import_file(data=path.read_bytes(), name=path.name)
    assert [f.action for f in report.forms] == ["created"]
    stored = Evaluation.objects.get(project_name="家庭医生签约服务")
    assert (stored.filler_name, stored.filler_phone, stored.unit_head) == (
        "李四",
        "0994-7654321",
        "赵六",
    )


def test_it_recognises_titles_of_other_templates_with_the_year_inside() -> None:
    result = read("variant-around-titles.txt")
    assert [(f.line, f.year, f.project_name) for f in result.forms] == [
        (1, 2022, "健康教育宣传"),
        (128, 2023, "家庭医生签约服务"),
    ]
    # A project lead and the phone after the name are the lead's: never the filler's.
    assert [(f.filler_name, f.filler_phone) for f in result.forms] == [("", ""), ("", "")]
    assert problems(result) == [
        (7, f"“项目负责人及电话：王五 0994-1234567”{NOT_READ}"),
        (123, f"“项目负责人：钱七”{NOT_READ}"),
        (125, f"“项目负责人的联系电话：0994-5555555”{NOT_READ}"),
    ]


# ---------------------------------------------------------------- department-wide forms


def test_it_refuses_a_department_wide_form_with_its_reason() -> None:
    result = read("variant-department-wide.txt")
    assert result.forms == []
    assert problems(result) == [
        (
            3,
            "“部门（单位）整体支出绩效自评表”是部门整体支出绩效自评表，不是项目支出绩效自评表："
            "本系统只收项目支出绩效自评表，已跳过。",
        )
    ]


def test_it_knows_a_department_wide_form_without_its_title_by_its_weighted_goals() -> None:
    result = read("variant-department-wide-untitled.txt")
    assert result.forms == []
    assert problems(result)[-1] == (
        4,
        "这是部门整体支出绩效自评表（有“年度目标1”这样带分值的年度目标），不是项目支出绩效自评表："
        "本系统只收项目支出绩效自评表，未导入。",
    )
    assert not any("没有找到项目支出绩效自评表" in message for _line, message in problems(result))


# ---------------------------------------------------------------- the samples stay as they are


@pytest.mark.parametrize("prefix", ["000", "001", "003"])
def test_the_samples_meet_none_of_the_variant_readers(prefix: str) -> None:
    path = sample_path(prefix)
    result = parse_file(path.read_bytes(), path.name)
    assert problems(result) == []
    names = [i.name for form in result.forms for i in form.indicators]
    levels = {i.level1 for form in result.forms for i in form.indicators}
    assert levels <= {"产出指标", "效益指标", "满意度指标"}
    if prefix == "003":
        # A name numbered "指标1：" is stored as written, so a re-import matches its row.
        assert "指标1：党务工作者、入党积极分及重点培养对象教育培训" in names
