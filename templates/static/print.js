// Print buttons: progressive enhancement (the browser's own Print works the same; see the print CSS).
document.addEventListener("click", function (event) {
  if (event.target.closest("[data-print]")) { window.print(); }
});
