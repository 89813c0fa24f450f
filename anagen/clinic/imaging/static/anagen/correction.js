/* Trichoscopy: click-to-correct viewer over the analysed image. No library, no inline script.
 *
 * It edits the correction form's own fields (the "not a hair" checkboxes, the hidden list of
 * placed hairs, the numbers) and shows the counts live; the server checks every value again.
 * Keyboard: the image takes focus (arrows pan, + and - zoom, 0 fits, Enter adds a hair at the
 * cross in add mode); each hair is a focusable checkbox (Space or Enter); an added hair is
 * removed with Delete, Backspace, Space or Enter.
 */
(function () {
  "use strict";
  var root = document.querySelector("[data-correction-viewer]");
  var dataNode = document.getElementById("correction-data");
  var form = document.getElementById("correction-form");
  if (!root || !dataNode || !form) return;

  var SVG = "http://www.w3.org/2000/svg";
  var data = JSON.parse(dataNode.textContent);
  var W = data.width, H = data.height;
  var MAX_ZOOM = 24, MARKER_PX = 7, STROKE_PX = 2;
  var stage = root.querySelector("[data-stage]");
  var addedInput = form.querySelector("input[name=added_hairs]");
  var unplaced = {
    terminal: form.querySelector("input[name=added_terminal]"),
    vellus: form.querySelector("input[name=added_vellus]"),
  };
  var boxes = {};
  form.querySelectorAll("input[name=removed_hair_ids]").forEach(function (box) {
    boxes[box.value] = box;
  });
  var hairs = data.hairs.slice().sort(function (a, b) { return a.y - b.y || a.x - b.x; });
  var removed = {};
  hairs.forEach(function (h) { removed[h.id] = !!(boxes[h.id] && boxes[h.id].checked); });
  var added = [];
  try {
    var saved = JSON.parse(addedInput.value || "[]");
    if (Array.isArray(saved)) {
      added = saved.filter(function (a) {
        return a && (a.kind === "terminal" || a.kind === "vellus") &&
          typeof a.x === "number" && typeof a.y === "number";
      });
    }
  } catch (e) { added = []; }
  var mode = "toggle";

  // ---- the drawing -------------------------------------------------------------------------
  function svgEl(name, attrs, parent) {
    var node = document.createElementNS(SVG, name);
    Object.keys(attrs).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    if (parent) parent.appendChild(node);
    return node;
  }
  var canvas = document.createElement("div");
  canvas.className = "tv-canvas";
  var img = document.createElement("img");
  img.src = root.dataset.imageUrl;
  img.alt = "";
  img.draggable = false;
  var svg = svgEl("svg", { viewBox: "0 0 " + W + " " + H, class: "tv-svg" });
  if (data.frame) {
    svgEl("rect", {
      class: "tv-frame", x: data.frame.x0, y: data.frame.y0,
      width: data.frame.x1 - data.frame.x0, height: data.frame.y1 - data.frame.y0,
    }, svg);
  }
  var hairLayer = svgEl("g", { class: "tv-hairs" }, svg);
  var addedLayer = svgEl("g", { class: "tv-added-layer" }, svg);
  canvas.appendChild(img);
  canvas.appendChild(svg);
  var cross = document.createElement("div");
  cross.className = "tv-cross";
  cross.setAttribute("aria-hidden", "true");
  stage.appendChild(canvas);
  stage.appendChild(cross);
  stage.style.aspectRatio = W + " / " + H;

  function hairLabel(h) {
    return "Not a hair: #" + h.id + ", " + h.kind + ", " + Math.round(h.diameter_um) + " µm";
  }
  var hairNodes = {};
  hairs.forEach(function (h) {
    var g = svgEl("g", {
      class: "tv-hair " + h.kind, tabindex: "0", role: "checkbox", "data-id": h.id,
      "aria-label": hairLabel(h),
    }, hairLayer);
    svgEl("polyline", {
      class: "tv-line", points: h.points.map(function (p) { return p[0] + "," + p[1]; }).join(" "),
    }, g);
    svgEl("circle", { class: "tv-dot", cx: h.x, cy: h.y, r: 3 }, g);
    hairNodes[h.id] = g;
  });

  function drawAdded() {
    while (addedLayer.firstChild) addedLayer.removeChild(addedLayer.firstChild);
    added.forEach(function (a, index) {
      var g = svgEl("g", {
        class: "tv-added " + a.kind, tabindex: "0", role: "button", "data-index": index,
        "aria-label": "Added " + a.kind + " hair at " + Math.round(a.x) + ", " + Math.round(a.y) +
          " px: press Delete to remove it",
      }, addedLayer);
      svgEl("circle", { class: "tv-dot", cx: a.x, cy: a.y, r: 3 }, g);
      svgEl("path", { class: "tv-plus", d: "" }, g);
    });
    sizeMarkers();
  }

  // ---- zoom and pan ------------------------------------------------------------------------
  var base = 1, z = 1, tx = 0, ty = 0;
  function clamp() {
    var sw = stage.clientWidth, sh = stage.clientHeight;
    var cw = W * base * z, ch = H * base * z;
    tx = cw <= sw ? (sw - cw) / 2 : Math.min(0, Math.max(sw - cw, tx));
    ty = ch <= sh ? (sh - ch) / 2 : Math.min(0, Math.max(sh - ch, ty));
  }
  function sizeMarkers() {
    var unit = 1 / (base * z);  // one screen pixel in image pixels
    var r = MARKER_PX * unit, s = STROKE_PX * unit;
    svg.querySelectorAll(".tv-dot").forEach(function (c) {
      c.setAttribute("r", r);
      c.setAttribute("stroke-width", s);
    });
    svg.querySelectorAll(".tv-line, .tv-frame").forEach(function (l) {
      l.setAttribute("stroke-width", s);
    });
    svg.querySelectorAll(".tv-added").forEach(function (g) {
      var c = g.querySelector("circle"), x = +c.getAttribute("cx"), y = +c.getAttribute("cy");
      var p = g.querySelector("path"), k = r * 0.6;
      p.setAttribute("d", "M" + (x - k) + " " + y + "H" + (x + k) + "M" + x + " " + (y - k) + "V" + (y + k));
      p.setAttribute("stroke-width", s);
    });
  }
  function apply() {
    clamp();
    canvas.style.transform = "translate(" + tx + "px," + ty + "px) scale(" + z + ")";
    root.querySelector("[data-zoom-level]").textContent = Math.round(z * 100) + " %";
    sizeMarkers();
  }
  function layout() {
    var sw = stage.clientWidth, sh = stage.clientHeight;
    if (!sw || !sh) return;
    base = Math.min(sw / W, sh / H);
    canvas.style.width = W * base + "px";
    canvas.style.height = H * base + "px";
    apply();
  }
  function zoomAt(nz, cx, cy) {
    nz = Math.max(1, Math.min(MAX_ZOOM, nz));
    var px = (cx - tx) / z, py = (cy - ty) / z;
    tx = cx - px * nz;
    ty = cy - py * nz;
    z = nz;
    apply();
  }
  function zoomCentre(factor) { zoomAt(z * factor, stage.clientWidth / 2, stage.clientHeight / 2); }
  function pan(dx, dy) { tx += dx; ty += dy; apply(); }
  function fit() { z = 1; apply(); }
  function toImage(clientX, clientY) {
    var box = svg.getBoundingClientRect();
    return { x: (clientX - box.left) / box.width * W, y: (clientY - box.top) / box.height * H };
  }
  function ensureVisible(x, y) {
    var sx = tx + x * base * z, sy = ty + y * base * z, m = 30;
    var sw = stage.clientWidth, sh = stage.clientHeight;
    if (sx < m || sx > sw - m || sy < m || sy > sh - m) {
      tx += sw / 2 - sx;
      ty += sh / 2 - sy;
      apply();
    }
  }

  // ---- the correction ----------------------------------------------------------------------
  function showHair(id) {
    var g = hairNodes[id];
    g.setAttribute("aria-checked", removed[id] ? "true" : "false");
    g.classList.toggle("is-removed", removed[id]);
  }
  function toggle(id) {
    removed[id] = !removed[id];
    if (boxes[id]) boxes[id].checked = removed[id];
    showHair(id);
    recount();
  }
  function add(x, y) {
    if (!(x >= 0 && x < W && y >= 0 && y < H)) return;
    added.push({
      x: Math.round(Math.min(x, W - 0.1) * 10) / 10,
      y: Math.round(Math.min(y, H - 0.1) * 10) / 10,
      kind: mode,
    });
    saveAdded();
  }
  function removeAdded(index) {
    added.splice(index, 1);
    saveAdded();
  }
  function saveAdded() {
    addedInput.value = JSON.stringify(added);
    drawAdded();
    recount();
  }
  function number(input) {
    var v = parseInt(input && input.value, 10);
    return isNaN(v) || v < 0 ? 0 : v;
  }
  function recount() {
    var c = { terminal: number(unplaced.terminal), vellus: number(unplaced.vellus) };
    var removedCount = 0;
    hairs.forEach(function (h) {
      if (removed[h.id]) removedCount += 1;
      else c[h.kind] += 1;
    });
    added.forEach(function (a) { c[a.kind] += 1; });
    var total = c.terminal + c.vellus;
    var density = data.area_cm2 ? (total / data.area_cm2).toFixed(1) : "—";
    var live = { total: total, terminal: c.terminal, vellus: c.vellus, density: density };
    Object.keys(live).forEach(function (k) {
      root.querySelector("[data-live=" + k + "]").textContent = live[k];
    });
    root.querySelector("[data-live-summary]").textContent =
      "With your corrections: " + total + " hairs (" + c.terminal + " terminal, " + c.vellus +
      " vellus), " + density + " per cm²; " + removedCount + " marked not a hair, " +
      added.length + " added on the image.";
  }

  function nearestHair(clientX, clientY) {
    var p = toImage(clientX, clientY), best = null, bestD = (14 / (base * z)) * (14 / (base * z));
    hairs.forEach(function (h) {
      h.points.concat([[h.x, h.y]]).forEach(function (q) {
        var d = (q[0] - p.x) * (q[0] - p.x) + (q[1] - p.y) * (q[1] - p.y);
        if (d < bestD) { bestD = d; best = h; }
      });
    });
    return best;
  }
  function tap(target, clientX, clientY) {
    var addedNode = target.closest && target.closest(".tv-added");
    if (addedNode) { removeAdded(+addedNode.dataset.index); return; }
    if (mode === "toggle") {
      var hairNode = target.closest && target.closest(".tv-hair");
      var hair = hairNode ? { id: +hairNode.dataset.id } : nearestHair(clientX, clientY);
      if (hair) toggle(hair.id);
    } else {
      var p = toImage(clientX, clientY);
      add(p.x, p.y);
    }
  }

  // ---- input -------------------------------------------------------------------------------
  var pointers = {}, drag = null, pinch = null;
  function pointerList() { return Object.keys(pointers).map(function (k) { return pointers[k]; }); }
  function stagePoint(clientX, clientY) {
    var box = stage.getBoundingClientRect();
    return { x: clientX - box.left, y: clientY - box.top };
  }
  stage.addEventListener("pointerdown", function (e) {
    if (e.pointerType === "mouse" && e.button !== 0) return;
    pointers[e.pointerId] = { x: e.clientX, y: e.clientY };
    var list = pointerList();
    if (list.length === 1) {
      drag = { x: e.clientX, y: e.clientY, tx: tx, ty: ty, moved: false, target: e.target };
    } else if (list.length === 2) {
      var a = list[0], b = list[1];
      var mid = stagePoint((a.x + b.x) / 2, (a.y + b.y) / 2);
      pinch = { d: Math.hypot(a.x - b.x, a.y - b.y) || 1, z: z, mid: mid };
      if (drag) drag.moved = true;
    }
  });
  stage.addEventListener("pointermove", function (e) {
    if (!pointers[e.pointerId]) return;
    pointers[e.pointerId] = { x: e.clientX, y: e.clientY };
    var list = pointerList();
    if (pinch && list.length >= 2) {
      var d = Math.hypot(list[0].x - list[1].x, list[0].y - list[1].y);
      zoomAt(pinch.z * d / pinch.d, pinch.mid.x, pinch.mid.y);
    } else if (drag) {
      var dx = e.clientX - drag.x, dy = e.clientY - drag.y;
      if (!drag.moved && Math.abs(dx) + Math.abs(dy) > 5) {
        drag.moved = true;
        stage.setPointerCapture(e.pointerId);
        stage.classList.add("is-panning");
      }
      if (drag.moved) { tx = drag.tx + dx; ty = drag.ty + dy; apply(); }
    }
  });
  function pointerEnd(e, cancelled) {
    if (!pointers[e.pointerId]) return;
    delete pointers[e.pointerId];
    var left = pointerList().length;
    if (drag && !drag.moved && !cancelled && left === 0) tap(drag.target, e.clientX, e.clientY);
    if (left < 2) pinch = null;
    if (left === 0) { drag = null; stage.classList.remove("is-panning"); }
  }
  stage.addEventListener("pointerup", function (e) { pointerEnd(e, false); });
  stage.addEventListener("pointercancel", function (e) { pointerEnd(e, true); });
  // A click with no pointer (a screen reader's activation) acts on its target.
  stage.addEventListener("click", function (e) {
    if (e.detail !== 0) return;
    var node = e.target.closest(".tv-hair, .tv-added");
    if (node) tap(node, 0, 0);
  });
  stage.addEventListener("wheel", function (e) {
    e.preventDefault();
    var p = stagePoint(e.clientX, e.clientY);
    zoomAt(z * (e.deltaY < 0 ? 1.25 : 0.8), p.x, p.y);
  }, { passive: false });

  stage.addEventListener("keydown", function (e) {
    var hairNode = e.target.closest(".tv-hair");
    var addedNode = e.target.closest(".tv-added");
    var step = e.shiftKey ? 160 : 40;
    if (hairNode && (e.key === " " || e.key === "Enter")) {
      e.preventDefault();
      toggle(+hairNode.dataset.id);
      return;
    }
    if (addedNode && ["Delete", "Backspace", " ", "Enter"].indexOf(e.key) >= 0) {
      e.preventDefault();
      removeAdded(+addedNode.dataset.index);
      stage.focus();
      return;
    }
    var handled = true;
    switch (e.key) {
      case "ArrowLeft": pan(step, 0); break;
      case "ArrowRight": pan(-step, 0); break;
      case "ArrowUp": pan(0, step); break;
      case "ArrowDown": pan(0, -step); break;
      case "+": case "=": zoomCentre(1.5); break;
      case "-": case "_": zoomCentre(1 / 1.5); break;
      case "0": fit(); break;
      case "Enter": case " ":
        if (e.target === stage && mode !== "toggle") {
          var box = stage.getBoundingClientRect();
          var p = toImage(box.left + box.width / 2, box.top + box.height / 2);
          add(p.x, p.y);
        } else handled = false;
        break;
      default: handled = false;
    }
    if (handled) e.preventDefault();
  });
  stage.addEventListener("focusin", function (e) {
    var node = e.target.closest(".tv-hair, .tv-added");
    if (!node || !node.matches(":focus-visible")) return;  // the keyboard's focus, not a click
    var c = node.querySelector("circle");
    ensureVisible(+c.getAttribute("cx"), +c.getAttribute("cy"));
  });

  root.querySelectorAll("[data-zoom]").forEach(function (button) {
    button.addEventListener("click", function () {
      var what = button.dataset.zoom;
      if (what === "in") zoomCentre(1.5);
      else if (what === "out") zoomCentre(1 / 1.5);
      else fit();
    });
  });
  root.querySelectorAll("input[name=tv_mode]").forEach(function (radio) {
    radio.addEventListener("change", function () {
      if (!radio.checked) return;
      mode = radio.value;
      stage.classList.toggle("is-adding", mode !== "toggle");
    });
  });
  var overlayBox = root.querySelector("[data-show-overlay]");
  if (overlayBox) {
    overlayBox.addEventListener("change", function () {
      img.src = overlayBox.checked ? root.dataset.overlayUrl : root.dataset.imageUrl;
    });
  }
  // The list of hairs and the numbers stay usable: the drawing and the counts follow them.
  Object.keys(boxes).forEach(function (id) {
    boxes[id].addEventListener("change", function () {
      if (!(id in removed)) return;
      removed[id] = boxes[id].checked;
      showHair(id);
      recount();
    });
  });
  [unplaced.terminal, unplaced.vellus].forEach(function (input) {
    if (input) input.addEventListener("input", recount);
  });

  // Many ticked boxes go as one comma-separated value (the server's limit is on fields, not ids).
  form.addEventListener("submit", function () {
    var ids = Object.keys(boxes).filter(function (id) { return boxes[id].checked; });
    if (ids.length < 50) return;
    ids.forEach(function (id) { boxes[id].disabled = true; });
    var one = document.createElement("input");
    one.type = "hidden";
    one.name = "removed_hair_ids";
    one.value = ids.join(",");
    form.appendChild(one);
  });
  window.addEventListener("pageshow", function (e) {  // back to a page left by submitting
    if (!e.persisted) return;
    Object.keys(boxes).forEach(function (id) { boxes[id].disabled = false; });
    form.querySelectorAll("input[type=hidden][name=removed_hair_ids]").forEach(function (n) {
      n.remove();
    });
  });

  root.hidden = false;
  var list = form.querySelector("[data-hair-list]");
  if (list) list.open = false;
  hairs.forEach(function (h) { showHair(h.id); });
  drawAdded();
  layout();
  recount();
  window.addEventListener("resize", layout);
  root.dataset.ready = "true";
})();
