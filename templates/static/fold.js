// On a phone, fold sections marked data-fold-on-phone (unverified claims): the verdict and the
// failed checks come first. Without this script the section simply stays open.
(function () {
  "use strict";
  if (!window.matchMedia || !window.matchMedia("(max-width: 40rem)").matches) { return; }
  document.querySelectorAll("details[data-fold-on-phone]").forEach(function (section) {
    section.open = false;
  });
}());
