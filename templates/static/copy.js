// Copy-link buttons: progressive enhancement; without JavaScript the link stays selectable in its field.
document.addEventListener("click", function (event) {
  var button = event.target.closest("[data-copy-target]");
  if (!button) { return; }
  var field = document.getElementById(button.getAttribute("data-copy-target"));
  if (!field) { return; }
  field.select();
  var done = function () { button.textContent = "Copied"; };
  if (navigator.clipboard && navigator.clipboard.writeText) {
    navigator.clipboard.writeText(field.value).then(done, function () { document.execCommand("copy"); done(); });
  } else {
    document.execCommand("copy");
    done();
  }
});
