// Entry form of one self-evaluation: indicator rows (add / insert / remove / move), second-
// level choices filtered by the first level, keyboard entry (Enter moves on as in a
// spreadsheet, Alt+Insert/Alt+↑/Alt+↓/Alt+Delete work on the row, Ctrl+S saves), a warning
// before leaving unsaved changes, and live scoring by the server (no rules in here).
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

  // Offer the second levels under their first level (<optgroup label="产出指标">): only the
  // chosen first level's, or every group while none is chosen. Keep the current choice if it
  // is still offered.
  function fillLevel2(select, level1, keep) {
    const groups = level2Map[level1] ? [level1] : Object.keys(level2Map);
    const offered = groups.flatMap((name) => level2Map[name]);
    const current = keep && offered.includes(select.value) ? select.value : "";
    const blank = select.querySelector('option[value=""]');
    const blankText = blank ? blank.textContent : "";
    select.replaceChildren(new Option(blankText, ""));
    groups.forEach((name) => {
      const group = document.createElement("optgroup");
      group.label = name;
      level2Map[name].forEach((item) => group.append(new Option(item, item)));
      select.append(group);
    });
    select.value = current;
  }

  // The first level a second level belongs to ("" if none or several).
  function level1Of(level2) {
    const owners = Object.keys(level2Map).filter((name) => level2Map[name].includes(level2));
    return owners.length === 1 ? owners[0] : "";
  }

  // The server refuses more than maxRows rows (the printed form's limit): stop adding there.
  function updateAddButton() {
    if (!maxRows) return;
    const full = rows().length >= maxRows;
    addButton.disabled = full;
    addButton.title = full ? texts.maxRows.replace("{n}", String(maxRows)) : "";
  }

  // A new row below ``after`` (at the end without it), in the categories of the row above it.
  function addRow(after) {
    if (maxRows && rows().length >= maxRows) return null;
    const index = Number(totalForms.value);
    const parser = document.createElement("template");
    parser.innerHTML = template.innerHTML.replaceAll("__prefix__", String(index));
    const row = parser.content.querySelector("tbody.indicator");
    if (after) after.after(row);
    else table.querySelector("tfoot").before(row);
    totalForms.value = String(index + 1);
    // A new row usually continues the category of the row above it.
    const visible = rows();
    const previous = visible[visible.indexOf(row) - 1];
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
    markChanged();
    schedulePreview();
    return row;
  }

  function removeRow(row) {
    field(row, "DELETE").value = "1";
    row.classList.add("is-deleted", "d-none");
    renumber();
    updateAddButton();
    markChanged();
    schedulePreview();
  }

  function moveRow(row, direction) {
    const visible = rows();
    const i = visible.indexOf(row);
    const j = i + direction;
    if (j < 0 || j >= visible.length) return false;
    if (direction < 0) visible[j].before(row);
    else visible[j].after(row);
    renumber();
    markChanged();
    schedulePreview();
    return true;
  }

  table.addEventListener("click", (event) => {
    const button = event.target.closest("button[data-action]");
    if (!button) return;
    const row = button.closest("tbody.indicator");
    const action = button.dataset.action;
    if (action === "insert") addRow(row);
    if (action === "remove") removeRow(row);
    if (action === "up" || action === "down") {
      moveRow(row, action === "up" ? -1 : 1);
      button.focus();
    }
  });

  addButton.addEventListener("click", () => {
    addRow(null);
  });

  table.addEventListener("change", (event) => {
    const role = event.target.dataset.role;
    const row = event.target.closest("tbody.indicator");
    if (role === "level1") {
      fillLevel2(field(row, "level2"), event.target.value, true);
    } else if (role === "level2" && !field(row, "level1").value) {
      // A second level chosen first names its first level.
      const level1 = level1Of(event.target.value);
      if (level1) {
        field(row, "level1").value = level1;
        fillLevel2(event.target, level1, true);
      }
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

  // As _finding_item.html: the mark is drawn by CSS, a screen reader hears the kind.
  function findingItem(finding) {
    const li = document.createElement("li");
    li.className = `finding finding-${finding.severity}`;
    const kind = document.createElement("span");
    kind.className = "visually-hidden severity-label";
    kind.textContent = finding.severity === "error" ? texts.errorKind : texts.warningKind;
    li.append(kind, finding.message);
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
    // Screen readers read the messages with the box; other descriptions stay (those of
    // messages since removed, such as a failed save's, go).
    const own = ["error", "note"].map((k) => `${input.id || input.name}-live-${k}`);
    const ids = (input.getAttribute("aria-describedby") || "")
      .split(/\s+/)
      .filter((id) => id && !own.includes(id) && document.getElementById(id))
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

  // --- keyboard entry -----------------------------------------------------------------

  // The boxes Enter moves between, in page order (hidden and deleted rows' boxes skipped).
  const FIELDS = [
    'input:not([type="hidden"]):not([type="button"]):not([type="submit"]):not([type="reset"])',
    "select",
    "textarea",
  ].join(", ");

  function fields() {
    return Array.from(form.querySelectorAll(FIELDS)).filter(
      (el) => !el.disabled && el.getClientRects().length > 0
    );
  }

  function moveFocus(from, step) {
    const list = fields();
    const next = list[list.indexOf(from) + step];
    if (!next) return;
    next.focus();
    // As Tab does: typing replaces the box's content.
    if (next.tagName === "INPUT") next.select();
  }

  // Enter never submits the form: it moves to the next box (Shift+Enter to the previous), as
  // in a spreadsheet. In a text of several lines Enter starts a new line and Ctrl+Enter (or
  // Cmd+Enter) moves on; the indicator name is one line that wraps, so Enter moves on there.
  function onEnter(event) {
    const target = event.target;
    if (!target.matches(FIELDS)) return;
    const multiLine = target.tagName === "TEXTAREA" && !target.dataset.singleLine;
    if (multiLine && !(event.ctrlKey || event.metaKey)) return;
    event.preventDefault();
    moveFocus(target, event.shiftKey ? -1 : 1);
  }

  // Alt+Insert / Alt+↑ / Alt+↓ / Alt+Delete on the row the focus is in.
  const ROW_KEYS = { Insert: "insert", ArrowUp: "up", ArrowDown: "down", Delete: "remove" };

  function onRowKey(event) {
    const row = event.target.closest("tbody.indicator");
    const action = ROW_KEYS[event.key];
    if (!row || !action) return;
    event.preventDefault();
    const target = event.target;
    if (action === "insert") {
      addRow(row);
    } else if (action === "remove") {
      const visible = rows();
      const i = visible.indexOf(row);
      const neighbour = visible[i + 1] || visible[i - 1];
      removeRow(row);
      // The same box of the row that takes its place.
      const same = neighbour && target.name && field(neighbour, target.name.split("-").pop());
      (same || addButton).focus();
    } else {
      moveRow(row, action === "up" ? -1 : 1);
      // Moving the row in the page took the focus from it.
      target.focus();
    }
  }

  const saveButton = document.getElementById("save-draft");
  let saving = false;

  function save() {
    if (saving) return;
    if (form.requestSubmit) form.requestSubmit(saveButton);
    else saveButton.click();
  }

  document.addEventListener("keydown", (event) => {
    // An IME (pinyin) uses Enter to finish a word: leave it alone.
    if (event.isComposing || event.keyCode === 229) return;
    const command = event.ctrlKey || event.metaKey;
    if (command && !event.altKey && (event.code === "KeyS" || event.key.toLowerCase() === "s")) {
      // Ctrl+S / Cmd+S saves the draft (instead of saving the page as a file).
      event.preventDefault();
      save();
    } else if (!form.contains(event.target)) {
      return;
    } else if (event.key === "Enter" && !event.altKey) {
      onEnter(event);
    } else if (event.altKey && !command && !event.shiftKey) {
      onRowKey(event);
    }
  });

  // --- unsaved changes --------------------------------------------------------------------

  // Leaving the page with changes not saved asks first; saving does not. A page shown again
  // after a failed save (data-unsaved) holds what was typed but not saved.
  let dirty = form.dataset.unsaved === "1";

  function markChanged() {
    dirty = true;
    form.dataset.unsaved = "1";
  }

  form.addEventListener("input", markChanged);
  form.addEventListener("change", markChanged);
  form.addEventListener("submit", () => {
    saving = true;
    dirty = false;
    form.dataset.unsaved = "";
  });
  // Back to this page from the browser's history: the page is live again.
  window.addEventListener("pageshow", () => {
    saving = false;
  });
  window.addEventListener("beforeunload", (event) => {
    if (!dirty) return undefined;
    event.preventDefault();
    // Older browsers ask only when a value is returned (the text is the browser's own).
    event.returnValue = "";
    return "";
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
  // A page shown again after a failed save is the answer to a POST: make its history entry
  // an ordinary GET of the same address, so that Back (after a later successful save) or
  // Reload loads the form afresh instead of posting again or showing the old error page.
  if (form.dataset.unsaved === "1" && window.history.replaceState) {
    window.history.replaceState(window.history.state, "", window.location.href);
  }

  // After a failed save the summary of errors takes the focus (a screen reader reads it);
  // each of its links takes the focus to its box, clear of the sticky save bar.
  const errorSummary = document.getElementById("input-errors");
  if (errorSummary) {
    errorSummary.addEventListener("click", (event) => {
      const link = event.target.closest("a[data-field-id]");
      const box = link && document.getElementById(link.dataset.fieldId);
      if (!box) return;
      event.preventDefault();
      box.scrollIntoView({ block: "center" });
      box.focus({ preventScroll: true });
    });
    errorSummary.focus();
  }

  // A new blank form: the typing starts in its first empty box (the year is usually there).
  if (form.dataset.focusFirst === "1") {
    const first = fields().find((el) => !el.value);
    if (first) first.focus();
  }
  status.dataset.busy = status.textContent;
  form.querySelectorAll("[data-maxlength]").forEach(updateCounter);
  updateAddButton();
  renumber();
  if (form.dataset.computedReady !== "1") preview();
})();
