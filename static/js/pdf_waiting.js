// The page of a PDF the task worker is printing (/evaluations/<id>/pdf/ when it answers
// 202): ask about every two seconds whether the PDF is ready, then download it. Without
// this script the page's button downloads it (or shows this page again until it is ready).
(function () {
  "use strict";
  var box = document.getElementById("pdf-waiting");
  if (!box || !window.fetch) { return; }
  var delay = 2000;
  var failures = 0;

  function byId(id) { return document.getElementById(id); }
  function show(element, visible) {
    if (element) { element.classList.toggle("d-none", !visible); }
  }

  var button = byId("pdf-waiting-download");
  var buttonText = button ? button.textContent : "";
  if (button) { button.textContent = box.dataset.busyText; button.classList.add("disabled"); button.setAttribute("aria-disabled", "true"); }

  function ready() {
    byId("pdf-waiting-text").textContent = box.dataset.readyText;
    if (button) { button.textContent = buttonText; button.classList.remove("disabled"); button.removeAttribute("aria-disabled"); }
    window.location.href = box.dataset.downloadUrl;
  }

  function failed() {
    show(byId("pdf-waiting-failed"), true);
    if (button) { button.textContent = box.dataset.retryText; button.classList.remove("disabled"); button.removeAttribute("aria-disabled"); }
  }

  function poll() {
    fetch(box.dataset.statusUrl, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) {
        // Signed out meanwhile (sent to the login page): reload to show it.
        if (response.redirected) { window.location.reload(); return new Promise(function () {}); }
        if (!response.ok) { throw new Error(String(response.status)); }
        return response.json();
      })
      .then(function (data) {
        failures = 0;
        show(byId("pdf-waiting-poll-failed"), false);
        if (data.ready) { ready(); } else if (!data.queued) { failed(); } else { window.setTimeout(poll, delay); }
      })
      .catch(function () {
        failures += 1;
        show(byId("pdf-waiting-poll-failed"), failures > 1);
        window.setTimeout(poll, Math.min(delay * (failures + 1), 10000));
      });
  }

  window.setTimeout(poll, delay);
})();
