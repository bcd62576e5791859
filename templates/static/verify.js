// Progressive enhancement for the verify form: drag and drop a badge onto the file field.
// Without this script the plain file input works the same; nothing here is needed for the verdict.
(function () {
  "use strict";
  var zone = document.querySelector("[data-dropzone]");
  if (!zone || !window.DataTransfer) { return; }
  var input = zone.querySelector('input[type="file"]');
  var chosen = zone.querySelector("[data-chosen]");
  var hint = zone.querySelector(".dropzone__drop-hint");
  if (hint) { hint.hidden = false; }

  function showChosen() {
    // textContent, never innerHTML: a file name is text chosen by whoever made the file.
    chosen.textContent = input.files && input.files.length ? "Selected: " + input.files[0].name : "";
  }

  ["dragenter", "dragover"].forEach(function (name) {
    zone.addEventListener(name, function (event) {
      event.preventDefault();
      zone.classList.add("is-dragover");
    });
  });
  ["dragleave", "drop"].forEach(function (name) {
    zone.addEventListener(name, function () { zone.classList.remove("is-dragover"); });
  });
  zone.addEventListener("drop", function (event) {
    event.preventDefault();
    var files = event.dataTransfer && event.dataTransfer.files;
    if (!files || !files.length) { return; }
    var transfer = new DataTransfer();
    transfer.items.add(files[0]);
    input.files = transfer.files;
    showChosen();
  });
  input.addEventListener("change", showChosen);
}());
