"""Write the money-block variant files of tests/data (run once; the files are committed).

Usage: .venv/bin/python tests/data/make_money_variants.py

Each variant is one form as another province's template writes its money block, as a text
dump of a Word table (a row is a block of lines, each cell starts with a TAB) and, for
the amounts in 元, as a workbook with the label cell merged down the block.
"""

from __future__ import annotations

from pathlib import Path

from openpyxl import Workbook

HERE = Path(__file__).resolve().parent

Table = list[list[str]]


def head(name: str, year: int = 2022) -> Table:
    return [
        ["项目支出绩效自评表"],
        [f"（{year}年度）"],
        ["项目名称", name],
        ["主管部门", "某县交通运输局", "实施单位", "某县公路养护中心"],
    ]


GOAL: Table = [
    ["年度总体目标", "预期目标", "实际完成情况"],
    ["", "完成农村公路养护10公里。", "完成农村公路养护10公里。"],
]


def indicators(deviation: str = "") -> Table:
    return [
        [
            "年度绩效指标完成情况",
            "一级指标",
            "二级指标",
            "三级指标",
            "年度指标值",
            "实际完成值",
            "分值",
            "得分",
            "偏差原因分析及改进措施",
        ],
        ["", "产出指标", "数量指标", "养护道路长度", ">=10公里", "10公里", "50", "50", ""],
        ["", "效益指标", "社会效益指标", "群众出行条件", "有效改善", "有效改善", "30", "30", ""],
        [
            "",
            "满意度指标",
            "服务对象满意度指标",
            "群众满意度",
            ">=90%",
            "95%",
            "10",
            "10",
            deviation,
        ],
    ]


def total(stated: str) -> Table:
    return [["总分", "100", stated, ""]]


SAVED = "通过比价采购节约了资金，执行率未达100%。"

VARIANTS: dict[str, Table] = {
    # 项目资金（元）: amounts in 元, converted to 万元.
    "variant-money-yuan": [
        *head("农村公路养护（元）"),
        [
            "项目资金\n（元）",
            "",
            "年初预算数",
            "全年预算数",
            "全年执行数",
            "分值",
            "执行率",
            "得分",
        ],
        ["", "年度资金总额", "400,000.00", "387,664.62", "350,000.00", "10", "90.28%", "9.03"],
        ["", "其中：当年财政拨款", "387,664.62", "387,664.62", "350,000.00", "—", "90.28%", "—"],
        ["", "上年结转资金", "0.00", "0.00", "0.00", "—", "—", "—"],
        ["", "其他资金", "12,335.38", "0.00", "0.00", "—", "—", "—"],
        *GOAL,
        *indicators(SAVED),
        *total("99.03"),
    ],
    # 单位：元 on the line above the table; 全年预算数(A) / 全年执行数(B) / 执行率(B/A), no 年初预算数.
    "variant-money-ab": [
        *head("农村公路养护（A/B）")[:2],
        ["单位：元"],
        *head("农村公路养护（A/B）")[2:],
        ["项目资金", "", "全年预算数（A）", "全年执行数（B）", "分值", "执行率（B/A）", "得分"],
        ["", "年度资金总额", "1,250,000.00", "1,187,500.00", "10", "95.00%", "9.5"],
        ["", "其中：当年财政拨款", "1,250,000.00", "1,187,500.00", "—", "95.00%", "—"],
        ["", "上年结转资金", "0.00", "0.00", "—", "—", "—"],
        ["", "其他资金", "0.00", "0.00", "—", "—", "—"],
        *GOAL,
        *indicators(SAVED),
        *total("99.5"),
    ],
    # 年初预算 / 调整后预算数 / 预算执行数 / 预算执行率 / 权重 / 得分 / 原因, with the sources
    # 财政资金 (其中：本年财政拨款, 上年结转资金), 财政专户管理资金, 单位资金, 其他资金.
    "variant-money-adjusted": [
        *head("农村公路养护（调整后预算）"),
        [
            "项目资金（万元）",
            "",
            "年初预算",
            "调整后预算数",
            "预算执行数",
            "预算执行率",
            "权重",
            "得分",
            "原因",
        ],
        ["", "年度资金总额", "120", "100", "95", "95%", "10", "9.5", "部分采购节约"],
        ["", "财政资金", "100", "90", "85", "94.44%", "—", "—", ""],
        ["", "其中：本年财政拨款", "80", "70", "65", "92.86%", "—", "—", ""],
        ["", "上年结转资金", "20", "20", "20", "100%", "—", "—", ""],
        ["", "财政专户管理资金", "5", "0", "0", "—", "—", "—", ""],
        ["", "单位资金", "10", "5", "5", "100%", "—", "—", ""],
        ["", "其他资金", "5", "5", "5", "100%", "—", "—", ""],
        *GOAL,
        *indicators(),
        *total("99.5"),
    ],
    # 执行率 written on a row of its own under the total; the unit in the headings.
    "variant-money-rate-row": [
        *head("农村公路养护（执行率另起一行）"),
        [
            "项目资金",
            "",
            "年初预算数（万元）",
            "全年预算数（万元）",
            "全年执行数（万元）",
            "分值",
            "得分",
        ],
        ["", "年度资金总额", "60", "60", "45", "10", "7.5"],
        ["", "执行率", "75.00%"],
        ["", "其中：当年财政拨款", "60", "60", "45", "—", "—"],
        ["", "其他资金", "0", "0", "0", "—", "—"],
        *GOAL,
        *indicators(SAVED),
        *total("97.5"),
    ],
    # No unit anywhere and amounts that only make sense in 元: not imported.
    "variant-money-unit-missing": [
        *head("农村公路养护（未注明单位）"),
        ["项目资金", "", "年初预算数", "全年预算数", "全年执行数", "分值", "执行率", "得分"],
        ["", "年度资金总额", "400000", "387664.62", "350000", "10", "90.28%", "9.03"],
        ["", "其中：当年财政拨款", "400000", "387664.62", "350000", "—", "—", "—"],
        *GOAL,
        *indicators(SAVED),
        *total("99.03"),
    ],
    # The label says 元, a heading says 万元; and a row of a kind no form holds: not imported.
    "variant-money-conflict": [
        *head("农村公路养护（单位矛盾）"),
        [
            "项目资金（元）",
            "",
            "年初预算数",
            "全年预算数（万元）",
            "全年执行数",
            "分值",
            "执行率",
            "得分",
        ],
        ["", "年度资金总额", "40", "40", "36", "10", "90%", "9"],
        ["", "政府性基金", "40", "40", "36", "—", "—", "—"],
        *GOAL,
        *indicators(SAVED),
        *total("99"),
    ],
}


def as_text(table: Table) -> str:
    """The table as the seed files dump a Word table."""
    lines = [""]
    for row in table:
        for cell in row:
            first, *rest = cell.split("\n")
            lines.append("\t" + first)
            lines.extend(rest)
        lines.append("")
    return "\n".join(lines)


def as_workbook(table: Table, path: Path) -> None:
    """The table on one sheet, 项目资金（元） merged down the money block, amounts as numbers."""
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "自评表"
    money_rows = []
    for r, row in enumerate(table, start=1):
        for c, text in enumerate(row, start=1):
            if not text:
                continue
            plain = text.replace(",", "")
            if r > 5 and c > 2 and plain.replace(".", "", 1).isdigit():
                cell = sheet.cell(r, c, float(plain) if "." in plain else int(plain))
                cell.number_format = "#,##0.00"
            else:
                sheet.cell(r, c, text.replace("\n", ""))
        if row[0].startswith("项目资金") or (money_rows and row[0] == "" and len(row) == 8):
            money_rows.append(r)
    sheet.merge_cells(start_row=money_rows[0], start_column=1, end_row=money_rows[-1], end_column=1)
    workbook.save(path)


def main() -> None:
    for name, table in VARIANTS.items():
        (HERE / f"{name}.txt").write_text(as_text(table), encoding="utf-8")
    as_workbook(VARIANTS["variant-money-yuan"], HERE / "variant-money-yuan.xlsx")


if __name__ == "__main__":
    main()
