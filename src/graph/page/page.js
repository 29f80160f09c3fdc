// The interactive page: plays the sweeps of a walkthrough computed by
// chainrule. It never evaluates math: every number arrives as text, and a
// step only copies texts into the picture and the trace table.
"use strict";
(function () {
  const $ = (id) => document.getElementById(id);
  const data = JSON.parse($("walkthrough").textContent);
  const state = { walk: null, sweep: 0, step: -1, timer: null, view: null, size: null };

  function showError(message) {
    const box = $("error");
    box.textContent = message || "";
    box.hidden = !message;
  }

  // ----- loading a walkthrough -----

  function load(page) {
    stop();
    state.walk = page.walkthrough;
    const walk = state.walk;
    $("picture").innerHTML = walk.svg;
    const svg = $("picture").querySelector("svg");
    state.size = { w: +svg.getAttribute("width"), h: +svg.getAttribute("height") };
    svg.removeAttribute("width");
    svg.removeAttribute("height");
    svg.setAttribute("preserveAspectRatio", "xMidYMid meet");
    svg.setAttribute("role", "img");
    svg.setAttribute("aria-label", "Computational graph of " + (page.expression || "the function"));
    walk.nodes.forEach((node, i) => {
      const g = $("n" + i);
      if (!g) return;
      g.setAttribute("tabindex", "0");
      g.setAttribute("aria-label", node.details.replace(/\n/g, "; "));
      g.addEventListener("mouseenter", () => showDetails(node.details, g));
      g.addEventListener("focus", () => showDetails(node.details, g));
      g.addEventListener("mouseleave", () => g.classList.remove("hover"));
      node.edges.forEach((text, k) => {
        const path = $("e" + i + "-" + k);
        if (!path) return;
        path.classList.add("edge");
        path.setAttribute("tabindex", "0");
        path.setAttribute("aria-label", text);
        const title = document.createElementNS("http://www.w3.org/2000/svg", "title");
        title.textContent = text;
        path.appendChild(title);
        path.addEventListener("mouseenter", () => showDetails(text));
        path.addEventListener("focus", () => showDetails(text));
        // A thin line is hard to hover: a wide transparent twin takes the pointer.
        const hit = path.cloneNode(false);
        hit.removeAttribute("id");
        hit.removeAttribute("tabindex");
        hit.removeAttribute("marker-end");
        hit.setAttribute("class", "edge-hit");
        hit.setAttribute("aria-hidden", "true");
        hit.appendChild(title.cloneNode(true));
        hit.addEventListener("mouseenter", () => showDetails(text));
        path.after(hit);
        const label = $("l" + i + "-" + k);
        if (label) label.classList.add("edge-label");
      });
    });
    const chooser = $("sweep");
    chooser.innerHTML = "";
    walk.sweeps.forEach((sweep, s) => {
      const option = document.createElement("option");
      option.value = s;
      option.textContent = sweep.name;
      chooser.appendChild(option);
    });
    state.sweep = Math.min(state.sweep, walk.sweeps.length - 1);
    chooser.value = state.sweep;
    state.step = -1;
    firstView();
    arrange();
    render();
  }

  function showDetails(text, g) {
    document.querySelectorAll("g.node.hover").forEach((n) => n.classList.remove("hover"));
    if (g) g.classList.add("hover");
    $("details").textContent = text;
  }

  // ----- the state after a number of steps -----

  // Field texts of every node after steps 0..=step of the current sweep.
  function fieldsAt(step) {
    const walk = state.walk;
    const sweep = walk.sweeps[state.sweep];
    const texts = walk.nodes.map((node) =>
      node.known.map((text, f) => (sweep.fills.includes(f) ? "" : text)));
    const done = new Array(walk.nodes.length).fill(false);
    for (let s = 0; s <= step; s++) {
      for (const [node, field, text] of sweep.steps[s].sets) texts[node][field] = text;
      done[sweep.steps[s].node] = true;
    }
    return { texts, done };
  }

  // Arranges the picture and the table for the current sweep: which lines
  // show, and one table row per node. Steps then only change texts.
  function arrange() {
    const walk = state.walk;
    const sweep = walk.sweeps[state.sweep];
    state.lines = walk.nodes.map((node, i) => {
      const g = $("n" + i);
      if (!g) return [];
      const lines = walk.fields.map((_, f) => g.querySelector(".f" + f));
      // Shown lines close up under the title, in field order.
      const slots = lines.filter((line) => line)
        .map((line) => line.dataset.y || (line.dataset.y = line.getAttribute("y")));
      let slot = 0;
      lines.forEach((line, f) => {
        if (!line) return;
        const shown = sweep.shows.includes(f);
        line.style.display = shown ? "" : "none";
        if (shown) line.setAttribute("y", slots[slot++]);
      });
      return lines;
    });
    const table = $("trace");
    const head = ["node", "definition"].concat(sweep.shows.map((f) => walk.fields[f]));
    const rows = ["<thead><tr>" + head.map((h) => "<th>" + escape(h) + "</th>").join("") + "</tr></thead><tbody>"];
    walk.nodes.forEach((node, i) => {
      const cells = sweep.shows.map((f) => '<td class="num" data-field="' + escape(walk.fields[f]) + '"></td>');
      rows.push('<tr id="row' + i + '"><td>' + escape(node.id) + "</td><td>" + escape(node.definition) + "</td>" +
        cells.join("") + "</tr>");
    });
    rows.push("</tbody>");
    table.innerHTML = rows.join("");
    state.rows = walk.nodes.map((_, i) => $("row" + i));
    state.cells = state.rows.map((row) => {
      const cells = [];
      sweep.shows.forEach((f, c) => { cells[f] = row.children[2 + c]; });
      return cells;
    });
    state.shown = walk.nodes.map(() => walk.fields.map(() => null));
    state.marked = null;
  }

  // Scrolls the side panel (not the page: on a phone the panel is below the
  // graph, and the graph must stay where the viewer put it) to show `row`.
  function keepInView(row) {
    const panel = document.querySelector("aside");
    if (panel.scrollHeight <= panel.clientHeight) return;
    const top = row.getBoundingClientRect().top - panel.getBoundingClientRect().top + panel.scrollTop;
    if (top < panel.scrollTop + 40) panel.scrollTop = top - 40;
    else if (top + row.offsetHeight > panel.scrollTop + panel.clientHeight) {
      panel.scrollTop = top + row.offsetHeight - panel.clientHeight;
    }
  }

  function render() {
    const walk = state.walk;
    if (!walk) return;
    const sweep = walk.sweeps[state.sweep];
    const last = sweep.steps.length - 1;
    const { texts, done } = fieldsAt(state.step);
    const current = state.step >= 0 ? sweep.steps[state.step] : null;
    // Only what changed is written: a step of a graph of hundreds of nodes
    // touches a few elements.
    walk.nodes.forEach((node, i) => {
      walk.fields.forEach((name, f) => {
        const text = texts[i][f];
        if (state.shown[i][f] === text) return;
        state.shown[i][f] = text;
        const shown = text === "" ? "·" : text;
        const line = state.lines[i][f];
        if (line) {
          line.dataset.text = text;
          line.textContent = name + " " + shown;
        }
        const cell = state.cells[i][f];
        if (cell) cell.textContent = shown;
      });
      const g = $("n" + i);
      if (g) g.classList.toggle("pending", sweep.direction === "forward" && !done[i]);
    });
    const now = current ? current.node : null;
    if (state.marked !== now) {
      if (state.marked !== null) {
        $("n" + state.marked)?.classList.remove("current");
        state.rows[state.marked].classList.remove("current");
        state.rows[state.marked].removeAttribute("aria-current");
      }
      if (now !== null) {
        $("n" + now)?.classList.add("current");
        state.rows[now].classList.add("current");
        state.rows[now].setAttribute("aria-current", "step");
        keepInView(state.rows[now]);
      }
      state.marked = now;
    }
    document.querySelectorAll("path.edge.current, text.edge-label.current")
      .forEach((e) => e.classList.remove("current"));
    if (current) follow(current.node);
    if (current && current.edge) {
      const [i, k] = current.edge;
      $("e" + i + "-" + k)?.classList.add("current");
      $("l" + i + "-" + k)?.classList.add("current");
    }
    $("step").textContent = current
      ? current.lines.join("\n")
      : "Start of the " + sweep.name + " sweep: press → or ▶ to take the first step.";
    $("counter").textContent = "step " + (state.step + 1) + " of " + (last + 1);
    $("back").disabled = state.step < 0;
    $("first").disabled = state.step < 0;
    $("next").disabled = state.step >= last;
    $("last").disabled = state.step >= last;
  }

  function escape(text) {
    return String(text).replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" }[c]));
  }

  // ----- stepping -----

  function go(step) {
    if (!state.walk) return;
    const last = state.walk.sweeps[state.sweep].steps.length - 1;
    state.step = Math.max(-1, Math.min(last, step));
    if (state.step >= last) stop();
    render();
  }

  function play() {
    if (!state.walk) return;
    if (state.timer) return stop();
    if (state.step >= state.walk.sweeps[state.sweep].steps.length - 1) state.step = -1;
    state.timer = setInterval(() => go(state.step + 1), 700);
    $("play").textContent = "⏸ pause";
    $("play").setAttribute("aria-label", "Pause");
    go(state.step + 1);
  }

  function stop() {
    if (state.timer) clearInterval(state.timer);
    state.timer = null;
    $("play").textContent = "▶ play";
    $("play").setAttribute("aria-label", "Play");
  }

  $("first").addEventListener("click", () => go(-1));
  $("back").addEventListener("click", () => go(state.step - 1));
  $("next").addEventListener("click", () => go(state.step + 1));
  $("last").addEventListener("click", () => go(Infinity));
  $("play").addEventListener("click", play);
  $("sweep").addEventListener("change", (event) => {
    stop();
    state.sweep = +event.target.value;
    state.step = -1;
    arrange();
    render();
  });

  document.addEventListener("keydown", (event) => {
    const tag = (event.target.tagName || "").toLowerCase();
    if (tag === "input" || tag === "select" || tag === "textarea") return;
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    const keys = {
      ArrowRight: () => go(state.step + 1),
      ArrowLeft: () => go(state.step - 1),
      Home: () => go(-1),
      End: () => go(Infinity),
      " ": play,
      "+": () => zoom(1 / 1.25),
      "=": () => zoom(1 / 1.25),
      "-": () => zoom(1.25),
      "0": fit,
    };
    if (tag === "button" && (event.key === " " || event.key === "Enter")) return;
    const action = keys[event.key];
    if (action) {
      event.preventDefault();
      action();
    }
  });

  // ----- pan and zoom, by the SVG's viewBox -----

  function applyView() {
    const svg = $("picture").querySelector("svg");
    const v = state.view;
    if (svg && v) svg.setAttribute("viewBox", v.x + " " + v.y + " " + v.w + " " + v.h);
  }

  function fit() {
    if (!state.size) return;
    state.view = { x: 0, y: 0, w: state.size.w, h: state.size.h };
    applyView();
  }

  // The whole graph when its text stays readable; otherwise its left end at
  // a readable scale (the view then follows the steps).
  function firstView() {
    const box = $("picture").getBoundingClientRect();
    if (!state.size || !box.width || !box.height) return fit();
    const readable = 0.8;
    if (Math.min(box.width / state.size.w, box.height / state.size.h) >= readable) return fit();
    const w = box.width / readable;
    const h = box.height / readable;
    state.view = { x: 0, y: Math.max(0, (state.size.h - h) / 2), w, h };
    applyView();
  }

  // Pans so that node `i`'s box is in view.
  function follow(i) {
    const rect = document.querySelector("#n" + i + " rect");
    const v = state.view;
    if (!rect || !v) return;
    const x = +rect.getAttribute("x");
    const y = +rect.getAttribute("y");
    const w = +rect.getAttribute("width");
    const h = +rect.getAttribute("height");
    if (x >= v.x && y >= v.y && x + w <= v.x + v.w && y + h <= v.y + v.h) return;
    state.view = Object.assign({}, v, { x: x + w / 2 - v.w / 2, y: y + h / 2 - v.h / 2 });
    applyView();
  }

  function zoom(factor, cx, cy) {
    const v = state.view;
    if (!v) return;
    const w = Math.min(Math.max(v.w * factor, 80), state.size.w * 8);
    const h = v.h * (w / v.w);
    const fx = cx === undefined ? 0.5 : cx;
    const fy = cy === undefined ? 0.5 : cy;
    state.view = { x: v.x + (v.w - w) * fx, y: v.y + (v.h - h) * fy, w, h };
    applyView();
  }

  $("zoom-in").addEventListener("click", () => zoom(1 / 1.25));
  $("zoom-out").addEventListener("click", () => zoom(1.25));
  $("fit").addEventListener("click", fit);

  const picture = $("picture");
  picture.addEventListener("wheel", (event) => {
    event.preventDefault();
    const box = picture.getBoundingClientRect();
    zoom(event.deltaY > 0 ? 1.15 : 1 / 1.15, (event.clientX - box.left) / box.width, (event.clientY - box.top) / box.height);
  }, { passive: false });
  let drag = null;
  picture.addEventListener("pointerdown", (event) => {
    if (event.target.closest("g.node, path.edge") || !state.view) return;
    drag = { x: event.clientX, y: event.clientY, view: Object.assign({}, state.view) };
    picture.classList.add("dragging");
    picture.setPointerCapture(event.pointerId);
  });
  picture.addEventListener("pointermove", (event) => {
    if (!drag) return;
    const box = picture.getBoundingClientRect();
    const scale = Math.max(drag.view.w / box.width, drag.view.h / box.height);
    state.view = Object.assign({}, drag.view, {
      x: drag.view.x - (event.clientX - drag.x) * scale,
      y: drag.view.y - (event.clientY - drag.y) * scale,
    });
    applyView();
  });
  const endDrag = () => { drag = null; picture.classList.remove("dragging"); };
  picture.addEventListener("pointerup", endDrag);
  picture.addEventListener("pointercancel", endDrag);

  // ----- the chain rule as matrices -----

  function matrix(rows) {
    return '<table class="matrix">' + rows.map((row) => "<tr>" +
      row.map((x) => "<td>" + escape(x) + "</td>").join("") + "</tr>").join("") + "</table>";
  }

  function showChain(chain) {
    const section = $("chain");
    if (!chain) {
      section.hidden = true;
      return;
    }
    const parts = ['<div class="stages">'];
    chain.stages.slice().reverse().forEach((stage) => {
      parts.push("<div><strong>" + escape(stage.name) + "</strong> (" + stage.rows + "×" + stage.columns + ")" +
        "<br>" + escape(stage.outputs.join(", ")) + " from " + escape(stage.inputs.join(", ")) + matrix(stage.jacobian) + "</div>");
    });
    parts.push("</div><p><strong>Product J = " + escape(chain.product_name) + "</strong> (" + chain.rows + "×" + chain.columns + ")</p>");
    parts.push(matrix(chain.product));
    parts.push("<p>" + escape(chain.check) + "</p>");
    parts.push('<table id="chain-cost"><tr><th>order</th><th>multiply-adds</th><th></th></tr>');
    chain.costs.forEach((cost) => {
      parts.push('<tr class="' + (cost.cheaper ? "cheaper" : "") + '"><td>' + escape(cost.order) + "</td><td>" +
        escape(cost.multiply_adds) + "</td><td>" + (cost.cheaper ? "cheaper" : "") + "</td></tr>");
    });
    parts.push("</table>");
    $("chain-body").innerHTML = parts.join("");
    section.hidden = false;
  }

  // ----- the playground: the server computes, the page shows -----

  let pending = null;
  let sequence = 0;

  async function redraw() {
    const expression = $("expression").value;
    const point = $("point").value;
    const stages = $("stages").value.split("\n").filter((line) => line.trim() !== "");
    const ticket = ++sequence;
    try {
      const response = await fetch("api/graph", {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ expression, point, stages }),
      });
      const answer = await response.json();
      if (ticket !== sequence) return; // a newer request is on its way
      if (answer.error) {
        showError(answer.error);
        return;
      }
      showError("");
      $("title").textContent = answer.title;
      document.title = answer.title;
      load(answer);
      showChain(answer.chain);
    } catch (error) {
      if (ticket === sequence) showError("cannot reach the chainrule server: " + error.message);
    }
  }

  if (data.mode === "playground") {
    const form = $("playground");
    form.hidden = false;
    $("expression").value = data.expression || "";
    $("point").value = data.point || "";
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      redraw();
    });
    const later = () => {
      clearTimeout(pending);
      pending = setTimeout(redraw, 400);
    };
    $("expression").addEventListener("input", later);
    $("point").addEventListener("input", later);
    $("stages").addEventListener("input", later);
  }

  if (data.error) showError(data.error);
  if (data.walkthrough) load(data);
  showChain(data.chain);
  window.chainrulePage = { go, play, stop, state, redraw };
})();
