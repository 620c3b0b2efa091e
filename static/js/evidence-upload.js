// Evidence upload (佐证材料): drop files on the form, and a progress bar while it uploads.
// Without this script the form works as a plain multipart POST.
(function () {
  "use strict";
  document.querySelectorAll("form.evidence-upload").forEach(function (form) {
    var inputs = Array.prototype.slice.call(form.querySelectorAll('input[type="file"]'));
    var progress = form.querySelector("progress");
    var status = form.querySelector(".evidence-upload-status");

    function place(files) {
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
      form.addEventListener(name, function (event) {
        event.preventDefault();
        form.classList.add("border-primary");
      });
    });
    ["dragleave", "drop"].forEach(function (name) {
      form.addEventListener(name, function () { form.classList.remove("border-primary"); });
    });
    form.addEventListener("drop", function (event) {
      event.preventDefault();
      if (event.dataTransfer && event.dataTransfer.files) { place(event.dataTransfer.files); }
    });

    form.addEventListener("submit", function (event) {
      if (!window.FormData || !progress) { return; }
      event.preventDefault();
      var request = new XMLHttpRequest();
      request.open("POST", form.action);
      request.setRequestHeader("X-Requested-With", "XMLHttpRequest");
      request.upload.addEventListener("progress", function (e) {
        if (e.lengthComputable) { progress.value = Math.round((e.loaded / e.total) * 100); }
      });
      request.addEventListener("load", function () {
        // The view answers {"location": page} to this script; any other answer (a refusal
        // page, a sign-in page) is shown as the browser would have shown it.
        var location = null;
        try { location = JSON.parse(request.responseText).location; } catch (e) { location = null; }
        window.location.assign(location || request.responseURL || window.location.href);
      });
      request.addEventListener("error", function () {
        progress.classList.add("d-none");
        if (status) { status.textContent = form.dataset.failed || ""; }
      });
      progress.classList.remove("d-none");
      progress.value = 0;
      form.querySelectorAll("button").forEach(function (b) { b.disabled = true; });
      request.send(new FormData(form));
    });
  });
})();
