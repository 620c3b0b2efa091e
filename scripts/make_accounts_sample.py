"""Write sample_data/accounts_template.xlsx: the empty accounts workbook (sheet 账号).

The same workbook the page /people/import/ offers (``departments.accounts_import``):

    .venv/bin/python scripts/make_accounts_sample.py [OUTPUT]
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE_DIR))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("DJANGO_DEBUG", "1")


def main() -> None:
    import django

    django.setup()
    from departments.accounts_import import accounts_workbook

    target = (
        Path(sys.argv[1])
        if len(sys.argv) > 1
        else BASE_DIR / "sample_data" / "accounts_template.xlsx"
    )
    target.write_bytes(accounts_workbook())
    print(target)


if __name__ == "__main__":
    main()
