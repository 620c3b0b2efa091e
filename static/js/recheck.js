// The re-check page (/rechecks/<id>/): the re-check total and its difference follow the
// scores as they are typed (computed by the server's scoring engine, so the local rules
// count as they will when saved), and leaving the page with unsaved changes asks first.
// A row's score may be chosen by a re-check rule (复核口径): the rule's option carries the
// score it gives that row; typing a score instead makes the row typed again. A deduction
// without a reason is marked as it happens (completing it is refused by the server).
"use strict";

(() => {
  const form = document.querySelector("form[data-recheck-preview]");
  if (!form) return;

  // A page shown again after a refused save or completion holds what was typed, not what
  // is stored: it counts as changed from the start.
  let dirty = form.dataset.unsaved === "1";
  let submitting = false;
  let timer = null;
  let pending = null;

  function setText(name, text) {
    const cell = form.querySelector(`[data-recheck="${name}"]`);
    if (cell) cell.textContent = text;
  }

  function update(data) {
    setText("total", `${data.total} ${data.grade}`.trim());
    setText("difference", data.difference);
    setText("execution_difference", data.execution_difference);
    const badge = form.querySelector('[data-recheck="quality_poor"]');
    if (badge) badge.classList.toggle("d-none", !data.quality_poor);
    Object.entries(data.rows).forEach(([key, difference]) => {
      const cell = form.querySelector(`[data-row-difference="${key}"]`);
      if (cell) cell.textContent = difference;
      const percent = form.querySelector(`[data-row-percent="${key}"]`);
      if (percent) percent.textContent = data.percents[key] ? `（${data.percents[key]}%）` : "";
    });
    form.querySelectorAll("input[data-reason]").forEach((input) => {
      const missing = data.reasons_missing.includes(input.dataset.reason);
      input.classList.toggle("is-invalid", missing);
      input.placeholder = missing ? "请说明扣分理由" : "";
    });
    form.querySelectorAll('input[name^="score_"], input[name="execution_score"]').forEach((input) => {
      const wrong = data.invalid.includes(input.name);
      input.classList.toggle("is-invalid", wrong);
      if (wrong) input.setAttribute("aria-invalid", "true");
      else input.removeAttribute("aria-invalid");
    });
  }

  async function preview() {
    if (pending) pending.abort();
    pending = new AbortController();
    const body = new FormData(form);
    try {
      const response = await fetch(form.dataset.recheckPreview, {
        method: "POST",
        body: body,
        headers: { "X-CSRFToken": body.get("csrfmiddlewaretoken"), Accept: "application/json" },
        credentials: "same-origin",
        signal: pending.signal,
      });
      if (!response.ok) return;
      update(await response.json());
    } catch (error) {
      // Aborted by a newer keystroke, or offline: the figures update on the next one.
    }
  }

  function schedule() {
    clearTimeout(timer);
    timer = setTimeout(preview, 200);
  }

  function chooseRule(select) {
    const option = select.selectedOptions[0];
    const score = form.querySelector(`input[name="score_${select.dataset.row}"]`);
    if (score && option && option.dataset.score !== undefined) score.value = option.dataset.score;
  }

  form.addEventListener("input", (event) => {
    dirty = true;
    const name = event.target.name || "";
    if (name.startsWith("rule_")) {
      chooseRule(event.target);
      schedule();
    } else if (name.startsWith("score_")) {
      // A typed score is no longer the rule's: the row is scored by hand.
      const select = form.querySelector(`select[name="rule_${name.slice(6)}"]`);
      if (select) select.value = "";
      schedule();
    } else if (name === "execution_score" || name.startsWith("opinion_")) {
      schedule();
    }
  });
  form.addEventListener("change", (event) => {
    // Some browsers fire only "change" for a select chosen by keyboard.
    if ((event.target.name || "").startsWith("rule_")) {
      dirty = true;
      chooseRule(event.target);
      schedule();
    }
  });
  // Saving or completing leaves the page on purpose: no question then.
  form.addEventListener("submit", () => {
    submitting = true;
  });
  window.addEventListener("beforeunload", (event) => {
    if (!dirty || submitting) return;
    event.preventDefault();
    // Older browsers show the prompt only when returnValue is set.
    event.returnValue = "";
  });

  if (dirty) preview();
})();
