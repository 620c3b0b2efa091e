"""Accessibility checks in the browser tests: axe-core (vendored) and accessible names.

``axe_violations(driver)`` injects the committed copy of axe-core
(tests/vendor/axe-core/axe.min.js, see its README for the version and how to update it) into
the page the driver shows and runs it with the WCAG 2.0/2.1 A and AA rules and axe's best
practices. The page's Content-Security-Policy (script-src 'self') does not apply: WebDriver
runs the script through the DevTools protocol, not as a page script. Nothing is fetched.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

AXE_JS = Path(__file__).resolve().parent / "vendor" / "axe-core" / "axe.min.js"
AXE_TAGS = ("wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice")
# How long one axe run may take on the longest page (the review page of a long form).
SCRIPT_TIMEOUT = 60

_RUN_AXE = """
const options = arguments[0];
const done = arguments[arguments.length - 1];
window.axe.run(document, options).then(
  (results) => done({
    version: window.axe.version,
    violations: results.violations.map((v) => ({
      id: v.id,
      impact: v.impact,
      help: v.help,
      helpUrl: v.helpUrl,
      nodes: v.nodes.map((n) => ({
        impact: n.impact,
        target: n.target,
        html: n.html,
        summary: n.failureSummary,
      })),
    })),
  }),
  (error) => done({error: String(error)}),
);
"""

# Visible form controls a user types into or picks from (hidden inputs and the invisible
# twin of a field, such as the grid's comment field on a phone, do not count).
_VISIBLE_CONTROLS = """
const controls = document.querySelectorAll(
  'input:not([type=hidden]):not([type=submit]):not([type=button]):not([type=reset]), select, textarea'
);
return Array.from(controls).filter((el) => {
  const box = el.getBoundingClientRect();
  const style = getComputedStyle(el);
  return box.width > 0 && box.height > 0 && style.visibility !== 'hidden';
});
"""


@cache
def axe_source() -> str:
    """The vendored axe-core script (read once per test session)."""
    return AXE_JS.read_text(encoding="utf-8")


def axe_results(driver: Any, tags: tuple[str, ...] = AXE_TAGS) -> dict[str, Any]:
    """Inject axe into the current page (once) and run it; return its version and violations."""
    driver.set_script_timeout(SCRIPT_TIMEOUT)
    if not driver.execute_script("return typeof window.axe === 'object'"):
        driver.execute_script(axe_source())
    options = {"runOnly": {"type": "tag", "values": list(tags)}, "resultTypes": ["violations"]}
    results = driver.execute_async_script(_RUN_AXE, options)
    if "error" in results:
        raise AssertionError(f"axe-core failed on {driver.current_url}: {results['error']}")
    return results


def axe_violations(
    driver: Any, include_impacts: tuple[str, ...] = ("serious", "critical")
) -> list[dict[str, Any]]:
    """axe-core's violations on the current page at the given impacts (rule by rule)."""
    return [v for v in axe_results(driver)["violations"] if v["impact"] in include_impacts]


def format_violations(violations: list[dict[str, Any]], nodes_per_rule: int = 4) -> str:
    """One paragraph per rule: id, impact, help, then the first few nodes (target and html)."""
    lines = []
    for v in violations:
        lines.append(f"- {v['id']} ({v['impact']}): {v['help']} [{len(v['nodes'])} node(s)]")
        for node in v["nodes"][:nodes_per_rule]:
            target = " ".join(" > ".join(t) if isinstance(t, list) else t for t in node["target"])
            html = " ".join(node["html"].split())
            if len(html) > 200:
                html = html[:197] + "..."
            lines.append(f"    {target}\n      {html}")
            summary = " ".join((node.get("summary") or "").split())
            if summary:
                lines.append(f"      {summary[:240]}")
        if len(v["nodes"]) > nodes_per_rule:
            lines.append(f"    ... and {len(v['nodes']) - nodes_per_rule} more")
    return "\n".join(lines)


def unnamed_controls(driver: Any, attempts: int = 3) -> list[str]:
    """The visible inputs, selects and textareas whose computed accessible name is empty.

    The name is the browser's own (WebDriver's Get Computed Label: what a screen reader
    announces), independent of axe's ``label`` rule. A page that redraws part of itself
    meanwhile (a progress poll) is asked again.
    """
    from selenium.common.exceptions import WebDriverException

    for attempt in range(attempts):
        try:
            missing = []
            for element in driver.execute_script(_VISIBLE_CONTROLS):
                if not (element.accessible_name or "").strip():
                    missing.append(" ".join(element.get_attribute("outerHTML").split())[:200])
            return missing
        except WebDriverException:
            if attempt == attempts - 1:
                raise
    return []
