"""Lines of application code: Python of evaluations/, departments/, config/ (no migrations).

Usage: ``python scripts/count_lines.py [ROOT]`` (default: this checkout). Prints all
lines and code lines (no docstrings, comments or blank lines) of the Python, and the
lines of the templates: the figures to compare two trees before and after a restructuring
(``git archive REV | tar -x -C DIR`` gives an older tree to count).
"""

from __future__ import annotations

import ast
import io
import sys
import tokenize
from pathlib import Path

SKIP = {
    tokenize.COMMENT,
    tokenize.NL,
    tokenize.NEWLINE,
    tokenize.INDENT,
    tokenize.DEDENT,
    tokenize.ENDMARKER,
}


def code_lines(source: str) -> int:
    """Lines holding a token that is not a docstring, a comment or whitespace."""
    docstrings: set[int] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            first = node.body[0] if node.body else None
            if (
                isinstance(first, ast.Expr)
                and isinstance(first.value, ast.Constant)
                and isinstance(first.value.value, str)
            ):
                docstrings.update(range(first.lineno, (first.end_lineno or first.lineno) + 1))
    lines: set[int] = set()
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type in SKIP:
            continue
        lines.update(n for n in range(token.start[0], token.end[0] + 1) if n not in docstrings)
    return len(lines)


def main(root: Path) -> None:
    python = [
        path
        for top in ("evaluations", "departments", "config")
        for path in sorted((root / top).rglob("*.py"))
        if "migrations" not in path.parts
    ]
    sources = [path.read_text(encoding="utf-8") for path in python]
    templates = sorted((root / "templates").rglob("*.html"))
    print(f"python files     {len(python)}")
    print(f"python lines     {sum(s.count(chr(10)) for s in sources)}")
    print(f"python code      {sum(code_lines(s) for s in sources)}")
    print(
        f"template lines   {sum(p.read_text(encoding='utf-8').count(chr(10)) for p in templates)}"
    )


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else Path(__file__).resolve().parent.parent))
