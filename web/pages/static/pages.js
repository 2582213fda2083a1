// Progressive enhancement only: every page works without it.
"use strict";
document.addEventListener("DOMContentLoaded", function () {
  // A filter applies as soon as it is chosen.
  document.querySelectorAll("select[data-autosubmit]").forEach(function (s) {
    s.addEventListener("change", function () { s.form.submit(); });
  });
  // Deleting the profile is enabled once the address is typed; the server checks it too.
  document.querySelectorAll("input[data-must-match]").forEach(function (input) {
    var button = input.form.querySelector("button[type=submit]");
    var want = input.getAttribute("data-must-match").toLowerCase();
    var sync = function () { button.disabled = input.value.trim().toLowerCase() !== want; };
    input.addEventListener("input", sync);
    sync();
  });
});
