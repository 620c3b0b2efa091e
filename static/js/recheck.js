// The re-check page (/rechecks/<id>/): the re-check total and its difference follow the
// scores as they are typed (computed by the server's scoring engine, so the local rules
// count as they will when saved), and leaving the page with unsaved changes asks first.
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

  form.addEventListener("input", (event) => {
    dirty = true;
    if (event.target.name === "execution_score" || event.target.name.startsWith("score_")) {
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
