// Entry form of one self-evaluation: indicator rows (add / remove / move), second-level
// choices filtered by the first level, and live scoring by the server (no rules in here).
(function () {
  "use strict";

  const form = document.getElementById("evaluation-form");
  if (!form) return;

  const PREFIX = "ind";
  const table = document.getElementById("indicator-table");
  const template = document.getElementById("indicator-template");
  const totalForms = form.querySelector(`input[name="${PREFIX}-TOTAL_FORMS"]`);
  const level2Map = JSON.parse(form.dataset.level2Map || "{}");
  const texts = document.getElementById("preview-messages").dataset;
  const status = document.getElementById("preview-status");
  const maxRows = Number(
    (form.querySelector(`input[name="${PREFIX}-MAX_NUM_FORMS"]`) || {}).value || 0
  );
  const addButton = document.getElementById("add-indicator");
  const DEBOUNCE_MS = 300;
  // A counter turns to a warning from this share of the limit on.
  const COUNTER_NEAR = 0.9;

  // --- rows -------------------------------------------------------------------------------

  function rows() {
    return Array.from(table.querySelectorAll("tbody.indicator")).filter(
      (row) => !row.classList.contains("is-deleted")
    );
  }

  function field(row, name) {
    return row.querySelector(`[name$="-${name}"]`);
  }

  // ORDER carries the visible position to the server; the number column shows it.
  function renumber() {
    rows().forEach((row, i) => {
      field(row, "ORDER").value = String(i + 1);
      row.querySelector('[data-role="number"]').textContent = String(i + 1);
    });
  }

  // Offer only the second levels of the chosen first level; keep the current choice if it
  // belongs there.
  function fillLevel2(select, level1, keep) {
    const names = level2Map[level1] || [];
    const current = keep && names.includes(select.value) ? select.value : "";
    const blank = select.querySelector('option[value=""]');
    const blankText = blank ? blank.textContent : "";
    select.replaceChildren(new Option(blankText, ""));
    names.forEach((name) => select.add(new Option(name, name)));
    select.value = current;
  }

  // The server refuses more than maxRows rows (the printed form's limit): stop adding there.
  function updateAddButton() {
    if (!maxRows) return;
    const full = rows().length >= maxRows;
    addButton.disabled = full;
    addButton.title = full ? texts.maxRows.replace("{n}", String(maxRows)) : "";
  }

  function addRow() {
    if (maxRows && rows().length >= maxRows) return;
    const index = Number(totalForms.value);
    const parser = document.createElement("template");
    parser.innerHTML = template.innerHTML.replaceAll("__prefix__", String(index));
    const row = parser.content.querySelector("tbody.indicator");
    table.querySelector("tfoot").before(row);
    totalForms.value = String(index + 1);
    // A new row usually continues the category of the row above it.
    const visible = rows();
    const previous = visible.length > 1 ? visible[visible.length - 2] : null;
    if (previous) {
      const level1 = field(previous, "level1").value;
      field(row, "level1").value = level1;
      fillLevel2(field(row, "level2"), level1, false);
      field(row, "level2").value = field(previous, "level2").value;
    }
    renumber();
    updateAddButton();
    row.querySelectorAll("[data-maxlength]").forEach(updateCounter);
    field(row, "name").focus();
  }

  function removeRow(row) {
    field(row, "DELETE").value = "1";
    row.classList.add("is-deleted", "d-none");
    renumber();
    updateAddButton();
    schedulePreview();
  }

  function moveRow(row, direction) {
    const visible = rows();
    const i = visible.indexOf(row);
    const j = i + direction;
    if (j < 0 || j >= visible.length) return;
    if (direction < 0) visible[j].before(row);
    else visible[j].after(row);
    renumber();
    schedulePreview();
    row.querySelector(`[data-action="${direction < 0 ? "up" : "down"}"]`).focus();
  }

  table.addEventListener("click", (event) => {
    const button = event.target.closest("button[data-action]");
    if (!button) return;
    const row = button.closest("tbody.indicator");
    if (button.dataset.action === "remove") removeRow(row);
    if (button.dataset.action === "up") moveRow(row, -1);
    if (button.dataset.action === "down") moveRow(row, 1);
  });

  addButton.addEventListener("click", () => {
    addRow();
    schedulePreview();
  });

  table.addEventListener("change", (event) => {
    if (event.target.dataset.role === "level1") {
      const row = event.target.closest("tbody.indicator");
      fillLevel2(field(row, "level2"), event.target.value, true);
    }
  });

  // --- character counters -----------------------------------------------------------------

  // Every bounded text (data-maxlength) shows "123 / 2000" below it: the long texts always
  // (data-counter="always"), the short ones once near the limit. The counter turns to a
  // warning near the limit and to an error beyond it; the server checks the same limit.
  // Characters are counted as the server counts them: code points, a line break as one.
  function textLength(text) {
    return Array.from(text.replace(/\r\n/g, "\n")).length;
  }

  function counterFor(input) {
    const next = input.nextElementSibling;
    if (next && next.classList.contains("char-counter")) return next;
    const counter = document.createElement("div");
    counter.className = "char-counter form-text text-end mt-0";
    input.after(counter);
    return counter;
  }

  function updateCounter(input) {
    const limit = Number(input.dataset.maxlength);
    if (!limit) return;
    const used = textLength(input.value);
    const near = used >= limit * COUNTER_NEAR;
    const over = used > limit;
    const shown = input.dataset.counter === "always" || near;
    const existing = input.nextElementSibling;
    if (!shown && !(existing && existing.classList.contains("char-counter"))) return;
    const counter = counterFor(input);
    let text = `${used} / ${limit}`;
    if (over) text += ` ${texts.counterOver.replace("{n}", String(used - limit))}`;
    counter.textContent = text;
    counter.classList.toggle("d-none", !shown);
    counter.classList.toggle("text-warning-emphasis", near && !over);
    counter.classList.toggle("text-danger", over);
    counter.classList.toggle("fw-semibold", near);
  }

  form.addEventListener("input", (event) => {
    if (event.target.dataset && event.target.dataset.maxlength) updateCounter(event.target);
  });

  // --- live scoring -----------------------------------------------------------------------

  let timer = null;
  let pending = null;

  function schedulePreview() {
    window.clearTimeout(timer);
    timer = window.setTimeout(preview, DEBOUNCE_MS);
  }

  function setText(name, value) {
    form.querySelectorAll(`[data-computed="${name}"]`).forEach((el) => {
      el.textContent = value;
    });
  }

  function findingItem(finding) {
    const li = document.createElement("li");
    li.className = `finding finding-${finding.severity}`;
    li.textContent = finding.message;
    return li;
  }

  function showFindings(list, findings) {
    const row = list.closest("tr.findings-row");
    list.replaceChildren(...findings.map(findingItem));
    if (row) row.classList.toggle("d-none", findings.length === 0);
  }

  // --- messages under a box ---------------------------------------------------------------

  // A message shown in the page under its box (never only in a tooltip): "error" says what
  // to type ("只填数字，例如 9.5"), "note" how a number was read ("已按 9.5 填写").
  function setFeedback(input, kind, text) {
    const selector = `[data-live-${kind}]`;
    let el = Array.from(input.parentElement.querySelectorAll(selector)).find(
      (candidate) => candidate.dataset[kind === "error" ? "liveError" : "liveNote"] === input.name
    );
    if (!text) {
      if (el) el.remove();
    } else {
      if (!el) {
        el = document.createElement("div");
        el.className = kind === "error" ? "invalid-feedback d-block" : "form-text number-note";
        el.dataset[kind === "error" ? "liveError" : "liveNote"] = input.name;
        el.id = `${input.id || input.name}-live-${kind}`;
        if (kind === "error") el.setAttribute("role", "alert");
        // Under the box and its counter, above other notes of the cell.
        const counter = input.nextElementSibling;
        (counter && counter.classList.contains("char-counter") ? counter : input).after(el);
      }
      el.textContent = text;
    }
    // Screen readers read the messages with the box; other descriptions stay.
    const own = ["error", "note"].map((k) => `${input.id || input.name}-live-${k}`);
    const ids = (input.getAttribute("aria-describedby") || "")
      .split(/\s+/)
      .filter((id) => id && !own.includes(id))
      .concat(own.filter((id) => document.getElementById(id)));
    if (ids.length) input.setAttribute("aria-describedby", ids.join(" "));
    else input.removeAttribute("aria-describedby");
  }

  // Number boxes are judged by the live check alone (the same reading as saving): its
  // verdict replaces a message left by a failed save. Other boxes keep the server's
  // messages and get the live one only while it lasts.
  function showFieldFeedback(errors, notes) {
    form.querySelectorAll('input[inputmode="decimal"]').forEach((input) => {
      input.parentElement
        .querySelectorAll(".invalid-feedback:not([data-live-error])")
        .forEach((el) => el.remove());
      const messages = errors[input.name];
      input.classList.toggle("is-invalid", Boolean(messages));
      if (messages) input.setAttribute("aria-invalid", "true");
      else input.removeAttribute("aria-invalid");
      setFeedback(input, "error", messages ? messages.join(" ") : "");
      setFeedback(input, "note", messages ? "" : notes[input.name] || "");
    });
    form.querySelectorAll("[data-live-error-box]").forEach((input) => {
      if (errors[input.name]) return;
      input.classList.remove("is-invalid");
      input.removeAttribute("data-live-error-box");
      setFeedback(input, "error", "");
    });
    Object.entries(errors).forEach(([name, messages]) => {
      const input = form.querySelector(`[name="${name}"]`);
      if (!input || input.matches('input[inputmode="decimal"]')) return;
      if (input.classList.contains("is-invalid") && !input.dataset.liveErrorBox) return;
      input.classList.add("is-invalid");
      input.dataset.liveErrorBox = "1";
      setFeedback(input, "error", messages.join(" "));
    });
  }

  function update(data) {
    [
      "execution_rate",
      "execution_score",
      "computed_total",
      "weight_sum",
    ].forEach((name) => setText(name, data[name]));
    form.querySelector('[data-count="error"]').textContent = `${texts.errorLabel} ${data.error_count}`;
    form.querySelector('[data-count="warning"]').textContent = `${texts.warningLabel} ${data.warning_count}`;

    const byRow = new Map();
    const funding = [];
    const general = [];
    data.findings.forEach((f) => {
      if (f.row !== null && f.row !== undefined) {
        if (!byRow.has(f.row)) byRow.set(f.row, []);
        byRow.get(f.row).push(f);
      } else if (f.funding) {
        funding.push(f);
      } else {
        general.push(f);
      }
    });
    table.querySelectorAll("tbody.indicator").forEach((row) => {
      const list = row.querySelector(".row-findings");
      showFindings(list, byRow.get(Number(row.dataset.formIndex)) || []);
    });
    showFindings(document.getElementById("funding-findings"), funding);
    showFindings(document.getElementById("form-findings"), general);
    document.getElementById("no-findings").classList.toggle("d-none", data.findings.length > 0);
    showFieldFeedback(data.field_errors || {}, data.field_notes || {});
  }

  async function preview() {
    if (pending) pending.abort();
    pending = new AbortController();
    const body = new FormData(form);
    status.textContent = status.dataset.busy || status.textContent;
    status.classList.remove("d-none");
    try {
      const response = await fetch(form.dataset.previewUrl, {
        method: "POST",
        body: body,
        headers: { "X-CSRFToken": body.get("csrfmiddlewaretoken"), Accept: "application/json" },
        credentials: "same-origin",
        signal: pending.signal,
      });
      if (!response.ok) throw new Error(String(response.status));
      update(await response.json());
      status.classList.add("d-none");
    } catch (error) {
      if (error.name === "AbortError") return;
      status.textContent = texts.failed;
    }
  }

  form.addEventListener("input", schedulePreview);
  form.addEventListener("change", schedulePreview);

  // Warn before leaving with unsaved changes.
  let dirty = false;
  form.addEventListener("input", () => {
    dirty = true;
  });
  form.addEventListener("submit", () => {
    dirty = false;
  });
  window.addEventListener("beforeunload", (event) => {
    if (dirty) event.preventDefault();
  });

  // Indicator names are one line of text that wraps: Enter does not start a new line.
  table.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && event.target.dataset.singleLine) event.preventDefault();
  });

  // Text cells grow with their text; CSS does it where field-sizing is supported.
  if (!(window.CSS && CSS.supports("field-sizing", "content"))) {
    const growing = ".cell-deviation textarea, .cell-name textarea";
    const grow = (el) => {
      el.style.height = "auto";
      el.style.height = `${el.scrollHeight + 2}px`;
    };
    form.querySelectorAll(growing).forEach(grow);
    table.addEventListener("input", (event) => {
      if (event.target.matches(growing)) grow(event.target);
    });
  }

  // A page shown again after a failed save: how its numbers were read.
  form.querySelectorAll("[data-understood]").forEach((input) => {
    setFeedback(input, "note", input.dataset.understood);
  });
  status.dataset.busy = status.textContent;
  form.querySelectorAll("[data-maxlength]").forEach(updateCounter);
  updateAddButton();
  renumber();
  if (form.dataset.computedReady !== "1") preview();
})();
