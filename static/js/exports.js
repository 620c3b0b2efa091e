// An export's page (/exports/<id>/): poll its status about once a second while it runs and
// update the progress, the state and the buttons in place. Without this script the page
// shows the state it was loaded with; reloading it shows the current one.
(function () {
  "use strict";
  var box = document.getElementById("export-job");
  if (!box || !window.fetch) { return; }
  var url = box.dataset.statusUrl;
  var delay = 1000;
  var failures = 0;

  function byId(id) { return document.getElementById(id); }
  function show(element, visible) {
    if (element) { element.classList.toggle("d-none", !visible); }
  }
  function setText(id, text) {
    var element = byId(id);
    if (element && element.textContent !== text) { element.textContent = text; }
  }

  function render(data) {
    var progress = byId("export-progress");
    if (progress) { progress.value = data.percent; }
    setText("export-progress-text", data.progress_text);
    setText("export-percent", data.percent + "%");
    var badge = document.querySelector("#export-state .export-state");
    if (badge && badge.dataset.state !== data.state) {
      badge.dataset.state = data.state;
      badge.textContent = data.state_label;
      badge.className = "badge export-state export-state-" + data.state + " " + ({
        done: "text-bg-success",
        failed: "text-bg-danger",
        running: "text-bg-primary",
        queued: "text-bg-secondary"
      }[data.state] || "text-bg-light border");
    }
    if (data.finished_at) { setText("export-finished", data.finished_at); }
    if (data.expires_at) { setText("export-expires", data.expires_at); }
    document.querySelectorAll(".export-expires").forEach(function (element) {
      show(element, Boolean(data.expires_at));
    });
    var message = byId("export-message");
    if (message) {
      message.textContent = data.message || "";
      message.classList.toggle("alert-danger", data.state === "failed");
      message.classList.toggle("alert-info", data.state !== "failed");
      show(message, Boolean(data.message));
    }
    show(byId("export-stalled"), data.stalled);
    var silent = byId("export-worker-silent");
    if (silent) {
      silent.textContent = data.worker_warning || "";
      show(silent, Boolean(data.worker_warning));
    }
    show(byId("export-unqueued"), data.waiting_for_queue);
    var download = byId("export-download");
    if (download) {
      if (data.download_url) { download.setAttribute("href", data.download_url); }
      show(download, Boolean(data.download_url));
    }
    show(byId("export-cancel"), !data.finished);
    show(byId("export-retry"), data.retryable);
    show(byId("export-leave-hint"), !data.finished);
    box.dataset.active = data.finished ? "0" : "1";
  }

  function poll() {
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) {
        // Signed out meanwhile (sent to the login page): reload to show it.
        if (response.redirected) { window.location.reload(); return new Promise(function () {}); }
        if (!response.ok) { throw new Error(String(response.status)); }
        return response.json();
      })
      .then(function (data) {
        failures = 0;
        show(byId("export-poll-failed"), false);
        render(data);
        if (!data.finished) { window.setTimeout(poll, delay); }
      })
      .catch(function () {
        // A restarting server or a dropped connection: try again more slowly, and say so
        // when it lasts (one miss is not worth a flicker).
        failures += 1;
        show(byId("export-poll-failed"), failures > 1);
        window.setTimeout(poll, Math.min(delay * (failures + 1), 10000));
      });
  }

  if (box.dataset.active === "1") { window.setTimeout(poll, delay); }
})();
