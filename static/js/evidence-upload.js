// Evidence (佐证材料): upload and delete without leaving the page, so an edit page keeps what
// was typed and not yet saved; drop files on the upload form; a progress bar while it uploads.
// The server answers this script with the section as it now stands, which replaces the
// page's. Without this script the forms work as plain POSTs (and the page reloads).
(function () {
  "use strict";
  // The section is rendered again after each change: its handlers sit on the document.
  if (window.evidenceScriptBound) { return; }
  window.evidenceScriptBound = true;

  function uploadForm(target) {
    return target && target.closest ? target.closest("#evidence form.evidence-upload") : null;
  }

  function place(form, files) {
    var inputs = Array.prototype.slice.call(form.querySelectorAll('input[type="file"]'));
    var status = form.querySelector(".evidence-upload-status");
    var free = inputs.filter(function (input) { return !input.files.length; });
    Array.prototype.forEach.call(files, function (file, i) {
      if (!free[i] || typeof DataTransfer === "undefined") { return; }
      var transfer = new DataTransfer();
      transfer.items.add(file);
      free[i].files = transfer.files;
    });
    if (files.length > free.length && status) {
      status.textContent = form.dataset.tooMany || "";
    }
  }

  ["dragenter", "dragover"].forEach(function (name) {
    document.addEventListener(name, function (event) {
      var form = uploadForm(event.target);
      if (!form) { return; }
      event.preventDefault();
      form.classList.add("border-primary");
    });
  });
  ["dragleave", "drop"].forEach(function (name) {
    document.addEventListener(name, function (event) {
      var form = uploadForm(event.target);
      if (form) { form.classList.remove("border-primary"); }
    });
  });
  document.addEventListener("drop", function (event) {
    var form = uploadForm(event.target);
    if (!form) { return; }
    event.preventDefault();
    if (event.dataTransfer && event.dataTransfer.files) { place(form, event.dataTransfer.files); }
  });

  // The new section in place of the old one, its messages read out and focused.
  function replaceSection(html, notes) {
    var old = document.getElementById("evidence");
    var holder = document.createElement("div");
    holder.innerHTML = html;
    var fresh = holder.querySelector("#evidence");
    if (!old || !fresh) { window.location.reload(); return; }
    old.replaceWith(fresh);
    showNotes(fresh.querySelector(".evidence-messages"), notes);
  }

  function showNotes(box, notes) {
    notes.forEach(function (note) {
      var alert = document.createElement("div");
      alert.className = "alert py-2 mb-2 alert-" + (note.level === "danger" ? "danger" : "success");
      alert.textContent = note.text;
      box.appendChild(alert);
    });
    // The button pressed is gone with the old section: the focus goes to what happened.
    if (notes.length) { box.focus(); }
  }

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.closest || !form.closest("#evidence") || !window.FormData) { return; }
    event.preventDefault();
    var progress = form.querySelector("progress");
    var texts = form.closest("#evidence").dataset;
    var buttons = form.querySelectorAll("button");
    var request = new XMLHttpRequest();
    request.open("POST", form.action);
    request.setRequestHeader("X-Requested-With", "XMLHttpRequest");
    if (progress) {
      request.upload.addEventListener("progress", function (e) {
        if (e.lengthComputable) { progress.value = Math.round((e.loaded / e.total) * 100); }
      });
    }
    function failed(text) {
      if (progress) { progress.classList.add("d-none"); }
      buttons.forEach(function (b) { b.disabled = false; });
      var box = document.querySelector("#evidence .evidence-messages");
      box.replaceChildren();
      showNotes(box, [{ level: "danger", text: text || "" }]);
    }
    request.addEventListener("load", function () {
      var answer = null;
      try { answer = JSON.parse(request.responseText); } catch (e) { answer = null; }
      if (answer && typeof answer.section === "string") {
        replaceSection(answer.section, answer.messages || []);
      } else if (request.responseURL && request.responseURL.indexOf(form.action) === -1) {
        // Sent elsewhere (the sign-in page after a session ended): go there.
        window.location.assign(request.responseURL);
      } else {
        failed(texts.refused);
      }
    });
    request.addEventListener("error", function () { failed(texts.failed); });
    if (progress) {
      progress.classList.remove("d-none");
      progress.value = 0;
    }
    buttons.forEach(function (b) { b.disabled = true; });
    request.send(new FormData(form));
  });
})();
