// Before/after slider: the range input reveals the later photo over the baseline.
// Keyboard: the native range input (arrows, Page Up/Down, Home/End). No library.
(function () {
  document.querySelectorAll("[data-compare-range]").forEach(function (range) {
    var box = range.closest(".card, body").querySelector("[data-compare]");
    if (!box) return;
    function show() {
      box.style.setProperty("--reveal", range.value + "%");
      range.setAttribute("aria-valuetext", range.value + " % of the later photo shown");
    }
    range.addEventListener("input", show);
    show();
  });
})();
