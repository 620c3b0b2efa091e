"""Write sample_data/due_list_2021.xlsx: the 2021 projects of the three sample departments.

The projects and their approved targets come from the sample forms (sample_data/*.txt),
read with the form importer: department, implementing unit, project name, the budget
figures of the total funding row, and each indicator's target and weight. Project codes
are made up (a stable number per department and project), as a budget system would give.
A sample department without 2021 forms (昌吉州民政局: its file is of 2020) runs the same
projects again in 2021: its latest forms give them.

    .venv/bin/python scripts/make_due_list_sample.py [OUTPUT]
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE_DIR))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("DJANGO_DEBUG", "1")

YEAR = 2021


def main() -> None:
    import django

    django.setup()
    from campaigns.due_list import ProjectRow, TargetRow, due_list_workbook
    from evaluations.importer.service import parse_file

    projects: list[ProjectRow] = []
    seen: set[tuple[str, str]] = set()
    for number, path in enumerate(sorted((BASE_DIR / "sample_data").glob("*.txt")), start=1):
        parsed = parse_file(path.read_bytes(), path.name)
        years = [form.year for form in parsed.forms if form.year and form.year <= YEAR]
        latest = max(years, default=YEAR)
        index = 0
        for form in parsed.forms:
            department = form.department.strip()
            name = form.project_name.strip()
            if form.year != latest or not department or not name or (department, name) in seen:
                continue
            seen.add((department, name))
            index += 1
            total = next((f for f in form.funding if f.kind == "total"), None)
            projects.append(
                ProjectRow(
                    row=0,
                    department=department,
                    implementing_unit=(form.implementing_unit or "").strip(),
                    project_name=name,
                    project_code=f"6523{number:02d}{YEAR}{index:04d}",
                    initial_budget=total.initial_budget if total else None,
                    annual_budget=total.annual_budget if total else None,
                    targets=[
                        TargetRow(
                            row=0,
                            level1=i.level1,
                            level2=i.level2,
                            name=i.name,
                            target=i.target,
                            weight=i.weight,
                        )
                        for i in form.indicators
                        if i.level1 and i.name
                    ],
                )
            )
    output = (
        Path(sys.argv[1]) if len(sys.argv) > 1 else BASE_DIR / "sample_data" / "due_list_2021.xlsx"
    )
    output.write_bytes(due_list_workbook(projects))
    departments = sorted({p.department for p in projects})
    print(f"{output}: {len(projects)} projects of {len(departments)} departments")
    for department in departments:
        print(f"  {department}: {sum(1 for p in projects if p.department == department)}")


if __name__ == "__main__":
    main()
