/* Treatment pages: live hints only. Every rule is enforced again on the server. */
(function () {
  "use strict";
  var fmt = new Intl.NumberFormat("en-GB");

  // Harvest: hint when the volume is outside the typical 10-30 mL.
  var volume = document.getElementById("id_volume_ml");
  var hint = document.getElementById("volume-hint");
  if (volume && hint) {
    var showVolumeHint = function () {
      var v = parseFloat(volume.value);
      var outside = !isNaN(v) && (v < 10 || v > 30);
      hint.hidden = !outside;
      hint.textContent = outside ? v + " mL is outside the typical 10–30 mL: check the value." : "";
    };
    volume.addEventListener("input", showVolumeHint);
    // A value typed (or restored by the browser) before this deferred script ran counts too.
    showVolumeHint();
  }

  // Session: per-zone and overall totals, and the cells-per-point warning.
  var form = document.getElementById("session-form");
  if (!form) return;
  var limit = parseInt(form.dataset.warnCells, 10) || 150000;
  var rows = form.querySelectorAll("tr[data-zone]");
  function num(input) { var v = parseFloat(input.value); return isNaN(v) ? 0 : v; }
  function update() {
    var points = 0, volumeTotal = 0, cells = 0;
    rows.forEach(function (row) {
      var inputs = row.querySelectorAll("input");
      var p = num(inputs[0]), ml = num(inputs[1]), c = num(inputs[2]);
      var total = row.querySelector(".zone-total");
      var warn = row.querySelector("[data-warning]");
      total.textContent = p ? fmt.format(p * c) + " cells · " + (p * ml).toFixed(2) + " mL" : "—";
      if (c > limit) {
        warn.hidden = false;
        warn.textContent = "⚠ " + fmt.format(c) + " cells per point is above the usual " + fmt.format(limit) + ".";
      } else {
        warn.hidden = true;
      }
      points += p; volumeTotal += p * ml; cells += p * c;
    });
    document.getElementById("total-points").textContent = points ? fmt.format(points) : "—";
    document.getElementById("total-volume").textContent = points ? volumeTotal.toFixed(2) + " mL" : "—";
    document.getElementById("total-cells").textContent = points ? fmt.format(cells) + " cells" : "—";
  }
  form.addEventListener("input", update);
  update();
})();
