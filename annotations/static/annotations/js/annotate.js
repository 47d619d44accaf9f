/*
 * annotate.js - the annotate page: draws one person's layer of an article and saves every change
 * at once through the workspace API (optimistic concurrency: expected_version, 409 on conflict).
 *
 * Offsets: the server speaks code points, the DOM speaks UTF-16; NewsroomOffsets converts, here
 * only at load (server -> UTF-16) and when sending (UTF-16 -> code points).
 * No inline script or style: data comes from the json_script block "layer-data"; label colours
 * go into a constructed stylesheet.
 */
(function () {
  "use strict";
  var O = window.NewsroomOffsets;
  var dataEl = document.getElementById("layer-data");
  if (!dataEl || !O) return;
  var initial = JSON.parse(dataEl.textContent);
  var API = initial.api;
  var CSRF = (document.querySelector("#nr-csrf input[name=csrfmiddlewaretoken]") || {}).value || "";

  var textEl = document.getElementById("article-text");
  var svg = document.getElementById("link-layer");
  var saveEl = document.getElementById("save-state");
  var noticeEl = document.getElementById("nr-notice");
  var text = "";
  var index = null;

  var S = {
    version: 0, readOnly: true, labels: new Map(), labelByKey: new Map(), relTypes: [],
    items: new Map(),      // key -> item; key "s<id>" (layer span) or "g<id>" (pending suggestion)
    relations: new Map(),  // key "r<id>" -> relation {ref, type, from: item, to: item, origin}
    relSuggestions: new Map(),
    selected: null,        // key of the selected item
    selectedLink: null,
    linkFrom: null,        // item we are linking from
    undo: [],
    queue: Promise.resolve(), pending: 0, tempSeq: 0, generation: 0,
  };
  var NA = window.NewsroomAnnotate = { state: S, timings: [] };

  // --- state from the server ------------------------------------------------------------------
  function makeItem(raw, kind) {
    var s16 = index.toUtf16(raw.start), e16 = index.toUtf16(raw.end);
    return {
      kind: kind, id: raw.id, label: raw.label, start: raw.start, end: raw.end, s16: s16, e16: e16,
      text: raw.text, origin: raw.origin, confidence: raw.confidence, model_version: raw.model_version || "",
      from_suggestion: raw.from_suggestion || null, saved: true,
    };
  }
  function keyOf(item) { return (item.kind === "span" ? "s" : "g") + item.id; }

  function load(data) {
    text = data.article.text;
    index = new O.Utf16Index(text);
    S.version = data.version;
    S.readOnly = !!data.read_only;
    S.labels = new Map(); S.labelByKey = new Map();
    data.labels.forEach(function (l) {
      S.labels.set(l.id, l);
      if (l.hotkey) S.labelByKey.set(l.hotkey.toLowerCase(), l);
    });
    S.relTypes = data.relation_types;
    S.items = new Map(); S.relations = new Map(); S.relSuggestions = new Map();
    data.spans.forEach(function (r) { var it = makeItem(r, "span"); S.items.set(keyOf(it), it); });
    data.suggestions.forEach(function (r) { var it = makeItem(r, "sugg"); S.items.set(keyOf(it), it); });
    data.relations.forEach(function (r) { addRelation(r); });
    data.relation_suggestions.forEach(function (r) {
      var f = S.items.get("g" + r.from) || findAccepted(r.from), t = S.items.get("g" + r.to) || findAccepted(r.to);
      if (f && t) S.relSuggestions.set("q" + r.id, { id: r.id, type: r.type, from: f, to: t, confidence: r.confidence });
    });
    S.selected = null; S.selectedLink = null; S.linkFrom = null;
    installColours();
    applyReadOnly();
    renderUnplaced(data.unplaced || []);
  }

  // Spans that could not be placed after an editor changed the text: listed (as text) with their
  // quote so their owner can mark them again, and removed with a button.
  function renderUnplaced(rows) {
    var box = document.getElementById("unplaced");
    var list = document.getElementById("unplaced-list");
    if (!box || !list) return;
    var frag = document.createDocumentFragment();
    rows.forEach(function (r) {
      var li = document.createElement("li");
      li.dataset.unplaced = r.id;
      var label = S.labels.get(r.label);
      var desc = document.createElement("span");
      desc.textContent = (label ? label.name : "span") + " \u201c" + r.text + "\u201d";
      li.appendChild(desc);
      if (!S.readOnly) {
        var rm = document.createElement("button");
        rm.type = "button"; rm.className = "button"; rm.textContent = "Remove";
        rm.setAttribute("aria-label", "Remove unplaced " + desc.textContent);
        rm.addEventListener("click", function () {
          li.remove();
          if (!list.children.length) box.hidden = true;
          save("remove an unplaced span", function (v) {
            return request("DELETE", "spans/" + r.id + "/", { expected_version: v });
          });
        });
        li.appendChild(document.createTextNode(" "));
        li.appendChild(rm);
      }
      frag.appendChild(li);
    });
    list.replaceChildren(frag);
    box.hidden = rows.length === 0;
  }
  function findAccepted(suggestionId) {
    var found = null;
    S.items.forEach(function (it) { if (it.kind === "span" && it.from_suggestion === suggestionId) found = it; });
    return found;
  }
  function addRelation(r) {
    var f = S.items.get("s" + r.from), t = S.items.get("s" + r.to);
    if (!f || !t) return null;
    var rel = { id: r.id, type: r.type, from: f, to: t, origin: r.origin };
    S.relations.set("r" + r.id, rel);
    return rel;
  }

  function installColours() {
    var rules = [];
    S.labels.forEach(function (l) {
      if (/^#[0-9a-fA-F]{6}$/.test(l.color)) rules.push(".nr-lab-" + l.id + "{--c:" + l.color + "}");
    });
    try {
      var sheet = new CSSStyleSheet();
      sheet.replaceSync(rules.join("\n"));
      document.adoptedStyleSheets = [sheet];
    } catch (e) { /* very old browser: default colour */ }
    document.querySelectorAll(".nr-swatch[data-label-id]").forEach(function (el) {
      el.classList.add("nr-lab-" + el.dataset.labelId);
    });
  }

  // --- rendering ------------------------------------------------------------------------------
  // The text is split into paragraphs (blocks, one per line of the stored text) so that a change
  // re-renders and re-lays out one paragraph, not a 10,000-word inline block. Inside a paragraph
  // the text is cut at every span boundary; each piece is wrapped in one element per span
  // covering it (outermost first), so overlapping and nested spans show as stacked underlines.
  var nodeStarts = new WeakMap();  // text node -> its UTF-16 start
  var heads = new Map();           // key -> focusable handle element
  var paras = [];                  // [{start, end, el}] in UTF-16, end includes the newline

  function labelName(item) { var l = S.labels.get(item.label); return l ? l.name : "?"; }

  function accessibleName(item) {
    var name = labelName(item) + ": \u201c" + item.text + "\u201d";
    if (item.kind === "sugg") {
      name += " (suggestion" + (item.confidence != null ? ", confidence " + item.confidence.toFixed(2) : "") + ")";
    }
    return name;
  }

  function itemOrder(a, b) {
    return a.s16 - b.s16 || b.e16 - a.e16 || (a.kind === b.kind ? (a.id > b.id ? 1 : -1) : (a.kind === "span" ? -1 : 1));
  }

  function makeHandle(it, key) {
    // The span's focusable handle: a small bar at its start, inside its first fragment. Handles
    // are never nested in one another, so every span stays reachable by role and by Tab.
    var h = document.createElement("span");
    h.className = "nr-h";
    h.tabIndex = 0;
    h.setAttribute("role", "button");
    h.setAttribute("aria-label", accessibleName(it));
    h.dataset.key = key;
    h.dataset.label = labelName(it);
    h.dataset.start = it.start;
    h.dataset.end = it.end;
    h.dataset.id = it.id;
    if (it.kind === "sugg") {
      h.dataset.suggestion = it.id;
      h.title = labelName(it) + " suggestion \u2014 confidence " +
        (it.confidence != null ? it.confidence.toFixed(2) : "n/a") + (it.model_version ? " (" + it.model_version + ")" : "");
    } else if (it.from_suggestion) {
      h.dataset.fromSuggestion = it.from_suggestion;
    }
    heads.set(key, h);
    return h;
  }

  /** Build the content of the paragraph [ps, pe) from `items` (sorted, overlapping it). */
  function buildParagraph(el, ps, pe, items) {
    var bounds = [ps, pe];
    items.forEach(function (it) {
      if (it.s16 > ps && it.s16 < pe) bounds.push(it.s16);
      if (it.e16 > ps && it.e16 < pe) bounds.push(it.e16);
    });
    bounds.sort(function (a, b) { return a - b; });
    var frag = document.createDocumentFragment();
    var active = [], next = 0;
    for (var c = 0; c + 1 < bounds.length; c++) {
      var a = bounds[c], b = bounds[c + 1];
      if (a === b) continue;
      if (active.length) active = active.filter(function (it) { return it.e16 > a; });
      while (next < items.length && items[next].s16 <= a) {
        if (items[next].e16 > a) active.push(items[next]);
        next++;
      }
      var node = document.createTextNode(text.slice(a, b));
      nodeStarts.set(node, a);
      var inner = node;
      for (var k = active.length - 1; k >= 0; k--) {
        var it = active[k];
        var key = keyOf(it);
        var m = document.createElement("span");
        m.className = "nr-m nr-lab-" + it.label + " lv" + Math.min(active.length - 1 - k, 5) +
          (it.kind === "sugg" ? " nr-sugg" : "") + (it.saved ? "" : " nr-pending-save") +
          (S.selected === key ? " nr-selected" : "") + (S.linkFrom === it ? " nr-link-from" : "");
        m.dataset.key = key;
        if (a === it.s16) {
          m.classList.add("nr-head");
          m.appendChild(makeHandle(it, key));
          if (it.kind === "sugg") m.title = heads.get(key).title;
        }
        m.appendChild(inner);
        inner = m;
      }
      frag.appendChild(inner);
    }
    el.replaceChildren(frag);
  }

  function paragraphIndex(pos) {  // the paragraph holding UTF-16 position pos
    var lo = 0, hi = paras.length - 1;
    while (lo < hi) {
      var mid = (lo + hi + 1) >> 1;
      if (paras[mid].start <= pos) lo = mid; else hi = mid - 1;
    }
    return lo;
  }

  /** Re-render the paragraphs overlapping [lo, hi] (UTF-16); everything if lo is undefined. */
  function renderText(lo, hi) {
    var t0 = performance.now();
    // keep keyboard focus on the same span when its handle is rebuilt
    var active = document.activeElement;
    var focusedItem = active && active.classList && active.classList.contains("nr-h") ? S.items.get(active.dataset.key) : null;
    var full = lo === undefined || !paras.length;
    if (full) {
      heads = new Map(); nodeStarts = new WeakMap(); paras = [];
      var frag = document.createDocumentFragment();
      var at = 0;
      while (at < text.length || (at === 0 && !paras.length)) {
        var nl = text.indexOf("\n", at);
        var end = nl === -1 ? text.length : nl + 1;
        var el = document.createElement("div");
        el.className = "nr-p";
        paras.push({ start: at, end: end, el: el });
        frag.appendChild(el);
        at = end;
        if (end === text.length) break;
      }
      textEl.replaceChildren(frag);
      lo = 0; hi = text.length;
    }
    var i = paragraphIndex(lo), j = paragraphIndex(Math.max(lo, hi - 1));
    var ps = paras[i].start, pe = paras[j].end;
    var items = [];
    S.items.forEach(function (it) { if (it.s16 < pe && it.e16 > ps) items.push(it); });
    items.sort(itemOrder);
    for (var p = i; p <= j; p++) {
      var para = paras[p];
      var mine = items.filter(function (it) { return it.s16 < para.end && it.e16 > para.start; });
      buildParagraph(para.el, para.start, para.end, mine);
    }
    if (focusedItem && !textEl.contains(document.activeElement)) {
      var h = heads.get(keyOf(focusedItem));
      if (h) h.focus({ preventScroll: true });
    }
    NA.lastRenderMs = performance.now() - t0;
    scheduleSide();
  }

  /** Re-render where `item` is (after adding, changing or removing it). */
  function refresh(item) { renderText(item.s16, item.e16); markClasses(); }

  /** Selection and link-start highlights, without re-rendering. */
  function markClasses() {
    textEl.querySelectorAll(".nr-selected, .nr-link-from").forEach(function (el) {
      el.classList.remove("nr-selected", "nr-link-from");
    });
    if (S.selected) {
      textEl.querySelectorAll('[data-key="' + S.selected + '"]').forEach(function (el) {
        if (el.classList.contains("nr-m")) el.classList.add("nr-selected");
      });
    }
    if (S.linkFrom) {
      textEl.querySelectorAll('[data-key="' + keyOf(S.linkFrom) + '"]').forEach(function (el) {
        if (el.classList.contains("nr-m")) el.classList.add("nr-link-from");
      });
    }
    scheduleSide();
  }

  var sideScheduled = false;
  function scheduleSide() {
    if (sideScheduled) return;
    sideScheduled = true;
    // after the next paint and when the page is idle, so a new span shows (and the next key is
    // handled) before the side lists are rebuilt
    var run = function () {
      sideScheduled = false;
      renderSide();
      drawLinks();
      NA.sideUpdatedAt = performance.now();
    };
    requestAnimationFrame(function () {
      if (window.requestIdleCallback) window.requestIdleCallback(run, { timeout: 250 });
      else setTimeout(run, 0);
    });
  }

  function li(item, extra) {
    var el = document.createElement("li");
    el.dataset.key = keyOf(item);
    if (S.selected === keyOf(item)) el.className = "nr-selected";
    var tag = document.createElement("span");
    tag.className = "nr-tag nr-lab-" + item.label;
    tag.textContent = labelName(item);
    var q = document.createElement("span");
    q.className = "nr-quote";
    q.textContent = item.text;
    el.append(tag, q);
    if (extra) el.append(extra);
    return el;
  }

  function renderSide() {
    var spans = [], suggs = [];
    S.items.forEach(function (it) { (it.kind === "span" ? spans : suggs).push(it); });
    var order = function (a, b) { return a.s16 - b.s16 || a.e16 - b.e16; };
    spans.sort(order); suggs.sort(order);
    var sl = document.getElementById("span-list"), gl = document.getElementById("sugg-list");
    var ll = document.getElementById("link-list");
    var f1 = document.createDocumentFragment();
    spans.forEach(function (it) { f1.appendChild(li(it)); });
    sl.replaceChildren(f1);
    var f2 = document.createDocumentFragment();
    suggs.forEach(function (it) {
      var conf = document.createElement("span");
      conf.textContent = it.confidence != null ? it.confidence.toFixed(2) : "";
      f2.appendChild(li(it, conf));
    });
    gl.replaceChildren(f2);
    var f3 = document.createDocumentFragment();
    S.relations.forEach(function (rel, key) {
      var el = document.createElement("li");
      el.dataset.link = key;
      if (S.selectedLink === key) el.className = "nr-selected";
      var rt = S.relTypes.find(function (t) { return t.id === rel.type; });
      var desc = document.createElement("span");
      desc.className = "nr-quote";
      desc.textContent = labelName(rel.from) + " \u201c" + rel.from.text + "\u201d \u2192 " + (rt ? rt.name : "link") +
        " \u2192 " + labelName(rel.to) + " \u201c" + rel.to.text + "\u201d";
      el.appendChild(desc);
      if (!S.readOnly) {
        var del = document.createElement("button");
        del.type = "button"; del.className = "button"; del.dataset.unlink = key;
        del.textContent = "Remove";
        del.setAttribute("aria-label", "Remove link " + desc.textContent);
        el.appendChild(del);
      }
      f3.appendChild(el);
    });
    S.relSuggestions.forEach(function (rel, key) {
      var el = document.createElement("li");
      el.dataset.relSuggestion = key;
      var desc = document.createElement("span");
      desc.className = "nr-quote";
      desc.textContent = "suggested: \u201c" + rel.from.text + "\u201d \u2192 \u201c" + rel.to.text + "\u201d";
      el.appendChild(desc);
      if (!S.readOnly) {
        var acc = document.createElement("button");
        acc.type = "button"; acc.className = "button"; acc.dataset.acceptRel = key; acc.textContent = "Accept";
        acc.setAttribute("aria-label", "Accept suggested link " + desc.textContent);
        el.appendChild(acc);
        var rej = document.createElement("button");
        rej.type = "button"; rej.className = "button"; rej.dataset.rejectRel = key; rej.textContent = "Reject";
        rej.setAttribute("aria-label", "Reject suggested link " + desc.textContent);
        el.appendChild(rej);
      }
      f3.appendChild(el);
    });
    ll.replaceChildren(f3);
    document.getElementById("span-count").textContent = "(" + spans.length + ")";
    document.getElementById("sugg-count").textContent = "(" + suggs.length + ")";
    document.getElementById("link-count").textContent = "(" + S.relations.size + ")";
    renderSelected();
  }

  function renderSelected() {
    var box = document.getElementById("selected-info");
    box.replaceChildren();
    var it = S.selected && S.items.get(S.selected);
    if (!it) { box.textContent = "Nothing selected."; return; }
    var p = document.createElement("p");
    p.textContent = accessibleName(it) + " [" + it.start + ":" + it.end + "]";
    box.appendChild(p);
    if (S.readOnly) return;
    var actions = document.createElement("div");
    actions.className = "nr-actions";
    function btn(label, action) {
      var b = document.createElement("button");
      b.type = "button"; b.className = "button"; b.textContent = label; b.dataset.action = action;
      actions.appendChild(b);
    }
    if (it.kind === "sugg") { btn("Accept (A)", "accept"); btn("Reject (R)", "reject"); }
    else {
      S.labels.forEach(function (l) {
        if (l.id !== it.label) {
          var b = document.createElement("button");
          b.type = "button"; b.className = "button"; b.dataset.relabel = l.id; b.textContent = "Make " + l.name;
          actions.appendChild(b);
        }
      });
      btn("Link (L)", "link"); btn("Delete", "delete");
    }
    box.appendChild(actions);
  }

  function ensureMarker() {
    if (svg.querySelector("marker")) return;
    var ns = "http://www.w3.org/2000/svg";
    var defs = document.createElementNS(ns, "defs");
    var m = document.createElementNS(ns, "marker");
    m.setAttribute("id", "nr-arrow"); m.setAttribute("viewBox", "0 0 10 10"); m.setAttribute("refX", "9");
    m.setAttribute("refY", "5"); m.setAttribute("markerWidth", "7"); m.setAttribute("markerHeight", "7");
    m.setAttribute("orient", "auto-start-reverse");
    var p = document.createElementNS(ns, "path");
    p.setAttribute("d", "M 0 0 L 10 5 L 0 10 z");
    p.setAttribute("fill", "#455a64");
    m.appendChild(p); defs.appendChild(m); svg.appendChild(defs);
  }

  function drawLinks() {
    var ns = "http://www.w3.org/2000/svg";
    svg.replaceChildren();
    ensureMarker();
    var base = svg.getBoundingClientRect();
    function point(item) {
      var el = heads.get(keyOf(item));
      if (!el) return null;
      var r = el.getClientRects()[0] || el.getBoundingClientRect();
      return [r.left - base.left + Math.min(r.width / 2, 40), r.top - base.top];
    }
    function draw(rel, cls) {
      var a = point(rel.from), b = point(rel.to);
      if (!a || !b) return;
      var lift = Math.max(14, Math.min(60, Math.abs(a[0] - b[0]) / 6 + Math.abs(a[1] - b[1]) / 4));
      var path = document.createElementNS(ns, "path");
      path.setAttribute("d", "M" + a[0] + " " + a[1] + " C" + a[0] + " " + (a[1] - lift) + " " + b[0] + " " +
        (b[1] - lift) + " " + b[0] + " " + b[1]);
      if (cls) path.setAttribute("class", cls);
      svg.appendChild(path);
    }
    S.relations.forEach(function (rel, key) { draw(rel, S.selectedLink === key ? "nr-selected-link" : ""); });
    S.relSuggestions.forEach(function (rel) { draw(rel, "nr-sugg-link"); });
  }

  // --- save state -----------------------------------------------------------------------------
  function setSave(state, message) {
    saveEl.dataset.state = state;
    saveEl.textContent = message;
  }
  function notice(message) {
    if (!message) { noticeEl.hidden = true; noticeEl.textContent = ""; return; }
    noticeEl.hidden = false;
    noticeEl.textContent = message;
  }
  function applyReadOnly() {
    if (S.readOnly) {
      setSave("readonly", "Read-only");
      document.querySelectorAll(".nr-toolbar button, .nr-toolbar input").forEach(function (b) { b.disabled = true; });
      document.querySelector(".nr-workspace").classList.add("nr-read-only");
    }
  }

  function request(method, path, body) {
    return fetch(API + path, {
      method: method, credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": CSRF, "Accept": "application/json" },
      body: body ? JSON.stringify(body) : undefined,
    }).then(function (resp) {
      return resp.text().then(function (t) {
        var data = null;
        try { data = t ? JSON.parse(t) : null; } catch (e) { data = { detail: t }; }
        return { status: resp.status, ok: resp.ok, data: data, retryAfter: resp.headers.get("Retry-After") };
      });
    });
  }

  function errorText(data) {
    if (!data) return "";
    if (typeof data === "string") return data;
    var parts = [];
    Object.keys(data).forEach(function (k) {
      var v = data[k];
      if (k === "current_version") return;
      parts.push(Array.isArray(v) ? v.join(" ") : String(v));
    });
    return parts.join(" ");
  }

  /*
   * Every change goes through `save(describe, send, onOk)`: queued so that each request carries
   * the version the previous one returned. `send(version)` returns a request promise.
   */
  function save(describe, send, onOk) {
    var generation = S.generation;
    S.pending++;
    setSave("saving", "Saving\u2026");
    S.queue = S.queue.then(function () {
      if (generation !== S.generation) return null;  // the layer was reloaded: drop stale work
      return attempt(0);
    }).catch(function (err) {
      setSave("error", "Not saved: " + (err && err.message ? err.message : "network error"));
      notice("Your change (" + describe + ") could not be saved: the server did not answer. It is still listed here; " +
        "reload the page to see the saved state.");
    }).then(function () {
      S.pending--;
      if (S.pending === 0 && saveEl.dataset.state === "saving") setSave("saved", "Saved");
    });
    function attempt(n) {
      return send(S.version).then(function (res) {
        if (res.ok) {
          if (res.data && typeof res.data.version === "number") S.version = res.data.version;
          if (onOk) onOk(res.data);
          return res;
        }
        if (res.status === 409) return conflict(describe, res.data);
        if (res.status === 503 && n < 3) {
          setSave("busy", "Busy \u2014 trying again\u2026");
          var wait = (parseFloat(res.retryAfter) || 1) * 1000;
          return new Promise(function (r) { setTimeout(r, wait); }).then(function () { return attempt(n + 1); });
        }
        var msg = errorText(res.data) || ("HTTP " + res.status);
        setSave("error", "Not saved");
        notice("Not saved (" + describe + "): " + msg);
        return reload(false);
      });
    }
  }

  function conflict(describe, data) {
    S.generation++;
    setSave("conflict", "Conflict: changed elsewhere");
    notice("Someone else changed this article meanwhile, so your change was not saved: " + describe +
      ". Their version (" + (data && data.current_version) + ") is shown now; make your change again if it is still needed.");
    return reload(true);
  }

  function reload(keepConflictState) {
    return request("GET", "").then(function (res) {
      if (!res.ok) { setSave("error", "Could not reload (HTTP " + res.status + ")"); return; }
      load(res.data);
      S.undo = [];
      renderText();
      if (!S.readOnly && !keepConflictState) setSave("unsaved", "Reloaded from server");
      if (keepConflictState) setSave("conflict", "Conflict: showing the current version");
    });
  }

  // --- operations -----------------------------------------------------------------------------
  function rekey(item, newId) {
    var old = keyOf(item);
    S.items.delete(old);
    item.id = newId;
    S.items.set(keyOf(item), item);
    if (S.selected === old) S.selected = keyOf(item);
  }

  function describeItem(it) { return "create " + labelName(it) + " \u201c" + it.text + "\u201d"; }

  function createSpan(labelId, s16, e16, undoable, relinks) {
    var t0 = performance.now();
    var item = {
      kind: "span", id: "t" + (++S.tempSeq), label: labelId, s16: s16, e16: e16,
      start: index.toCodePoint(s16), end: index.toCodePoint(e16), text: text.slice(s16, e16),
      origin: "human", confidence: null, model_version: "", from_suggestion: null, saved: false,
    };
    S.items.set(keyOf(item), item);
    S.selected = keyOf(item);
    refresh(item);
    var shown = performance.now();
    save(describeItem(item), function (v) {
      return request("POST", "spans/", { label: item.label, start: item.start, end: item.end, text: item.text,
        expected_version: v });
    }, function (data) {
      item.saved = true;
      item.origin = data.span.origin;
      rekey(item, data.span.id);
      window.NewsroomAnnotate.timings.push({ render: shown - t0, saved: performance.now() - t0 });
      if (relinks) relinks.forEach(function (r) { r(); });
      refresh(item);
    });
    if (undoable) pushUndo(function () { deleteItem(item, false); });
    return item;
  }

  function deleteItem(item, undoable) {
    var rels = [];
    S.relations.forEach(function (rel, key) {
      if (rel.from === item || rel.to === item) { rels.push(rel); S.relations.delete(key); }
    });
    S.items.delete(keyOf(item));
    if (S.selected === keyOf(item)) S.selected = null;
    if (item.from_suggestion) {
      // an accepted suggestion: deleting it rejects it (it does not come back as pending)
      S.relSuggestions.forEach(function (r, k) { if (r.from === item || r.to === item) S.relSuggestions.delete(k); });
    }
    refresh(item);
    save("delete " + labelName(item) + " \u201c" + item.text + "\u201d", function (v) {
      return request("DELETE", "spans/" + item.id + "/", { expected_version: v });
    });
    if (undoable) {
      pushUndo(function () {
        if (item.from_suggestion) {
          acceptSuggestionById(item, rels);
        } else {
          createSpan(item.label, item.s16, item.e16, false, rels.map(function (rel) {
            return function () { linkRelation(rel.from, rel.to, rel.type, false, rel); };
          }));
          // createSpan made a new item; point the old relations' ends at it
          var fresh = S.items.get(S.selected);
          rels.forEach(function (rel) { if (rel.from === item) rel.from = fresh; if (rel.to === item) rel.to = fresh; });
        }
      });
    }
  }

  function acceptSuggestionById(item, rels) {
    // undo of deleting an accepted suggestion: accept the suggestion again
    item.saved = false;
    S.items.set(keyOf(item), item);
    refresh(item);
    save("accept suggestion again", function (v) {
      return request("POST", "suggestions/" + item.from_suggestion + "/accept/", { expected_version: v });
    }, function (data) {
      item.saved = true;
      rekey(item, data.span.id);
      (rels || []).forEach(function (rel) { linkRelation(rel.from, rel.to, rel.type, false, rel); });
      refresh(item);
    });
  }

  function relabel(item, labelId, undoable) {
    if (item.label === labelId) return;
    var before = item.label;
    item.label = labelId;
    refresh(item);
    save("change label to " + labelName(item), function (v) {
      return request("PATCH", "spans/" + item.id + "/", { label: labelId, expected_version: v });
    });
    if (undoable) pushUndo(function () { relabel(item, before, false); });
  }

  function decide(sugg, accept, undoable) {
    var key = keyOf(sugg);
    S.items.delete(key);
    var placeholder = null;
    if (accept) {
      placeholder = {
        kind: "span", id: "t" + (++S.tempSeq), label: sugg.label, s16: sugg.s16, e16: sugg.e16, start: sugg.start,
        end: sugg.end, text: sugg.text, origin: "machine", confidence: sugg.confidence,
        model_version: sugg.model_version, from_suggestion: sugg.id, saved: false,
      };
      S.items.set(keyOf(placeholder), placeholder);
      if (S.selected === key) S.selected = keyOf(placeholder);
      S.relSuggestions.forEach(function (r) { if (r.from === sugg) r.from = placeholder; if (r.to === sugg) r.to = placeholder; });
    } else {
      if (S.selected === key) S.selected = null;
      S.relSuggestions.forEach(function (r, k) { if (r.from === sugg || r.to === sugg) S.relSuggestions.delete(k); });
    }
    refresh(sugg);
    save((accept ? "accept " : "reject ") + labelName(sugg) + " suggestion \u201c" + sugg.text + "\u201d", function (v) {
      return request("POST", "suggestions/" + sugg.id + (accept ? "/accept/" : "/reject/"), { expected_version: v });
    }, function (data) {
      if (placeholder) { placeholder.saved = true; rekey(placeholder, data.span.id); refresh(placeholder); }
    });
    if (undoable) {
      pushUndo(function () {
        if (placeholder) {
          S.items.delete(keyOf(placeholder));
          S.relSuggestions.forEach(function (r) {
            if (r.from === placeholder) r.from = sugg; if (r.to === placeholder) r.to = sugg;
          });
        }
        S.items.set(key, sugg);
        refresh(sugg);
        save("undo decision", function (v) {
          return request("POST", "suggestions/" + sugg.id + "/reset/", { expected_version: v });
        });
      });
    }
  }

  function acceptAbove(threshold) {
    if (!(threshold >= 0 && threshold <= 1)) { notice("The threshold must be between 0 and 1."); return; }
    save("accept all suggestions \u2265 " + threshold, function (v) {
      return request("POST", "suggestions/accept-above/", { threshold: threshold, expected_version: v });
    }, function (data) {
      var accepted = [];
      (data.spans || []).forEach(function (sp) {
        var sugg = S.items.get("g" + sp.from_suggestion);
        if (sugg) { S.items.delete("g" + sp.from_suggestion); accepted.push(sugg); }
        var it = makeItem(sp, "span");
        S.items.set(keyOf(it), it);
        S.relSuggestions.forEach(function (r) { if (r.from === sugg) r.from = it; if (r.to === sugg) r.to = it; });
      });
      (data.relations || []).forEach(function (r) { addRelation(r); });
      S.relSuggestions.forEach(function (r, k) {
        S.relations.forEach(function (rel) { if (rel.from === r.from && rel.to === r.to) S.relSuggestions.delete(k); });
      });
      renderText();
      notice(accepted.length + " suggestion(s) accepted" + ((data.relations || []).length ? ", " + data.relations.length + " link(s)" : "") + ".");
      if (accepted.length) {
        pushUndo(function () {
          accepted.forEach(function (sugg) {
            var acc = findAccepted(sugg.id);
            if (acc) {
              S.relations.forEach(function (rel, key) { if (rel.from === acc || rel.to === acc) S.relations.delete(key); });
              S.items.delete(keyOf(acc));
            }
            S.items.set(keyOf(sugg), sugg);
            save("undo accept", function (v) {
              return request("POST", "suggestions/" + sugg.id + "/reset/", { expected_version: v });
            });
          });
          renderText();
        });
      }
    });
  }

  function relationTypeFor(from, to) {
    return S.relTypes.find(function (t) {
      return (t.from_label == null || t.from_label === from.label) && (t.to_label == null || t.to_label === to.label);
    });
  }

  function linkRelation(from, to, typeId, undoable, existing) {
    var rel = existing || { id: null, type: typeId, from: from, to: to, origin: "human" };
    rel.from = from; rel.to = to;
    var tmpKey = "rt" + (++S.tempSeq);
    S.relations.set(tmpKey, rel);
    scheduleSide();
    save("link \u201c" + from.text + "\u201d \u2192 \u201c" + to.text + "\u201d", function (v) {
      return request("POST", "relations/", { from_span: rel.from.id, to_span: rel.to.id, type: rel.type, expected_version: v });
    }, function (data) {
      S.relations.delete(tmpKey);
      rel.id = data.relation.id;
      S.relations.set("r" + rel.id, rel);
      scheduleSide();
    });
    if (undoable) pushUndo(function () { unlink(rel, false); });
    return rel;
  }

  function unlink(rel, undoable) {
    S.relations.forEach(function (r, k) { if (r === rel) S.relations.delete(k); });
    if (S.selectedLink && !S.relations.has(S.selectedLink)) S.selectedLink = null;
    scheduleSide();
    save("remove link", function (v) {
      return request("DELETE", "relations/" + rel.id + "/", { expected_version: v });
    });
    if (undoable) pushUndo(function () { linkRelation(rel.from, rel.to, rel.type, false, rel); });
  }

  function acceptRelationSuggestion(key) {
    var rs = S.relSuggestions.get(key);
    if (!rs) return;
    S.relSuggestions.delete(key);
    save("accept suggested link", function (v) {
      return request("POST", "relation-suggestions/" + rs.id + "/accept/", { expected_version: v });
    }, function (data) {
      (data.spans || []).forEach(function (sp) {
        if (sp.from_suggestion) S.items.delete("g" + sp.from_suggestion);
        var known = S.items.get("s" + sp.id);
        if (!known) {
          S.items.forEach(function (it, k) {
            if (it.kind === "span" && it.from_suggestion === sp.from_suggestion) S.items.delete(k);
          });
          var it = makeItem(sp, "span"); S.items.set(keyOf(it), it);
        }
      });
      addRelation(data.relation);
      renderText();
    });
  }

  function rejectRelationSuggestion(key, undoable) {
    var rs = S.relSuggestions.get(key);
    if (!rs) return;
    S.relSuggestions.delete(key);
    renderText();
    save("reject suggested link", function (v) {
      return request("POST", "relation-suggestions/" + rs.id + "/reject/", { expected_version: v });
    });
    if (undoable) pushUndo(function () {
      S.relSuggestions.set(key, rs);
      renderText();
      save("undo link rejection", function (v) {
        return request("POST", "relation-suggestions/" + rs.id + "/reset/", { expected_version: v });
      });
    });
  }

  function pushUndo(fn) {
    S.undo.push(fn);
    if (S.undo.length > 200) S.undo.shift();
  }
  function undo() {
    var fn = S.undo.pop();
    if (fn) fn(); else notice("Nothing to undo.");
  }

  // --- selection and input --------------------------------------------------------------------
  function offsetOf(container, offset) {
    if (container.nodeType === Node.TEXT_NODE && nodeStarts.has(container)) return nodeStarts.get(container) + offset;
    var r = document.createRange();
    r.setStart(textEl, 0);
    r.setEnd(container, offset);
    return r.toString().length;
  }

  function textSelection(exact) {
    var sel = window.getSelection();
    if (!sel || sel.rangeCount === 0 || sel.isCollapsed) return null;
    var range = sel.getRangeAt(0);
    if (!textEl.contains(range.commonAncestorContainer)) return null;
    var s = offsetOf(range.startContainer, range.startOffset), e = offsetOf(range.endContainer, range.endOffset);
    if (e < s) { var t = s; s = e; e = t; }
    if (exact) return s < e ? [s, e] : null;  // Shift held: exactly the selected characters
    return O.snapToWords(text, s, e);
  }

  var kb = null;          // keyboard selection [anchor, focus] in UTF-16

  function domPoint(pos) {
    var para = paras[paragraphIndex(pos)];
    var walker = document.createTreeWalker(para.el, NodeFilter.SHOW_TEXT);
    var n, last = null;
    while ((n = walker.nextNode())) {
      if (!nodeStarts.has(n)) continue;
      var st = nodeStarts.get(n);
      if (pos <= st + n.data.length) return [n, pos - st];
      last = n;
    }
    return [last, last ? last.data.length : 0];
  }
  /** UTF-16 start of the next word: after the word `pos` is in, or the first one at/after pos
   *  when pos is between words (-1: the first word of the text). */
  function nextWordStart(pos) {
    var p = Math.max(pos, 0);
    var start = O.prevWordStart(text, O.nextWordEnd(text, p));
    if (pos >= 0 && start <= pos) start = O.prevWordStart(text, O.nextWordEnd(text, O.nextWordEnd(text, p)));
    return start > pos ? start : p;
  }

  function showKb() {
    var a = domPoint(kb[0]), f = domPoint(kb[1]);
    window.getSelection().setBaseAndExtent(a[0], a[1], f[0], f[1]);
  }

  function select(key) {
    S.selected = key;
    S.selectedLink = null;
    markClasses();
    var h = key && heads.get(key);  // keyboard focus follows the selection
    if (h && document.activeElement !== h) h.focus({ preventScroll: true });
  }

  function selectedItem() { return S.selected ? S.items.get(S.selected) : null; }

  /** The span the keys act on: the focused one, else the selected one. */
  function currentItem() {
    var a = document.activeElement;
    if (a && a.classList && a.classList.contains("nr-h")) {
      var it = S.items.get(a.dataset.key);
      if (it) return it;
    }
    return selectedItem();
  }

  function clickItem(item) {
    if (S.linkFrom && !S.readOnly) {
      finishLink(item);
      return;
    }
    select(keyOf(item));
  }

  function startLink() {
    var it = currentItem();
    if (!it || it.kind !== "span") { notice("Select a span in your layer (e.g. a CLAIM) first, then press L."); return; }
    S.linkFrom = it;
    notice("Linking from " + labelName(it) + " \u201c" + it.text + "\u201d: click (or Tab to and press Enter on) its SOURCE. Esc cancels.");
    markClasses();
  }
  function finishLink(target) {
    var from = S.linkFrom;
    S.linkFrom = null;
    if (target.kind !== "span") { notice("Accept the suggestion first, then link it."); markClasses(); return; }
    if (target === from) { notice("A span cannot be linked to itself."); markClasses(); return; }
    var rt = relationTypeFor(from, target);
    if (!rt) { notice("No link type goes from " + labelName(from) + " to " + labelName(target) + "."); markClasses(); return; }
    notice("");
    select(keyOf(from));
    markClasses();
    linkRelation(from, target, rt.id, true);
  }

  function labelKey(labelId, exact) {
    if (S.readOnly) return;
    var range = textSelection(exact);
    if (range) {
      createSpan(labelId, range[0], range[1], true);
      window.getSelection().removeAllRanges();
      kb = kb ? [range[1], range[1]] : null;  // keyboard: the caret continues after the new span
      return;
    }
    var it = currentItem();
    if (it && it.kind === "span") relabel(it, labelId, true);
    else notice("Select some text first, then press the label's key or button.");
  }

  function inField(target) {
    return target && (target.tagName === "INPUT" || target.tagName === "TEXTAREA" || target.isContentEditable);
  }

  document.addEventListener("keydown", function (ev) {
    if (inField(ev.target)) return;
    var key = ev.key;
    if ((ev.ctrlKey || ev.metaKey) && !ev.altKey && key.toLowerCase() === "z") {
      if (!S.readOnly) { ev.preventDefault(); undo(); }
      return;
    }
    if (ev.ctrlKey || ev.metaKey || ev.altKey) return;
    // keyboard text selection inside the article region: arrows move the caret by word,
    // Shift+arrows extend the selection by word
    if (ev.target === textEl && (key === "ArrowRight" || key === "ArrowLeft")) {
      ev.preventDefault();
      var right = key === "ArrowRight";
      if (ev.shiftKey) {
        if (!kb) { var first = nextWordStart(-1); kb = [first, first]; }
        kb = [kb[0], right ? O.nextWordEnd(text, kb[1]) : O.prevWordStart(text, kb[1])];
      } else {
        var pos = !kb ? nextWordStart(-1) : (right ? nextWordStart(kb[1]) : O.prevWordStart(text, kb[1]));
        kb = [pos, pos];
      }
      showKb();
      return;
    }
    var lower = key.length === 1 ? key.toLowerCase() : key;
    var label = S.labelByKey.get(lower);
    if (label) { ev.preventDefault(); labelKey(label.id, ev.shiftKey); return; }
    if (S.readOnly) return;
    var it = currentItem();
    if (key === "Escape") { S.linkFrom = null; notice(""); select(null); markClasses(); return; }
    if ((key === "Enter" || key === " ") && ev.target.dataset && ev.target.dataset.key) {
      ev.preventDefault();
      var target = S.items.get(ev.target.dataset.key);
      if (target) clickItem(target);
      return;
    }
    if (lower === "l") {
      ev.preventDefault();
      var active = document.activeElement;
      var focused = active && active.dataset && active.dataset.key ? S.items.get(active.dataset.key) : null;
      if (S.linkFrom && focused && focused !== S.linkFrom) finishLink(focused); else startLink();
      return;
    }
    if (!it) {
      if ((key === "Delete" || key === "Backspace") && S.selectedLink) {
        ev.preventDefault();
        var rel = S.relations.get(S.selectedLink);
        if (rel) unlink(rel, true);
      }
      return;
    }
    if (key === "Delete" || key === "Backspace") {
      ev.preventDefault();
      if (it.kind === "span") deleteItem(it, true); else decide(it, false, true);
      return;
    }
    if (it.kind === "sugg" && (lower === "a" || lower === "r")) {
      ev.preventDefault();
      decide(it, lower === "a", true);
    }
  });

  // A mouse selection made with Shift held counts as exact characters.
  var mouseExact = false;
  textEl.addEventListener("mousedown", function (ev) { mouseExact = ev.shiftKey; kb = null; });
  textEl.addEventListener("mouseup", function (ev) { if (ev.shiftKey) mouseExact = true; });

  textEl.addEventListener("click", function (ev) {
    var sel = window.getSelection();
    if (sel && !sel.isCollapsed) return;  // a text selection, not a click on a span
    var el = ev.target.closest("[data-key]");
    if (!el) { if (!S.linkFrom) select(null); return; }
    // clicking again where spans nest cycles outwards through them
    var chain = [];
    for (var n = el; n && n !== textEl; n = n.parentElement) if (n.dataset && n.dataset.key) chain.push(n.dataset.key);
    var i = chain.indexOf(S.selected);
    var key = (i >= 0 && !S.linkFrom) ? chain[(i + 1) % chain.length] : chain[0];
    var item = S.items.get(key);
    if (item) clickItem(item);
  });
  textEl.addEventListener("focusin", function (ev) {
    var el = ev.target;
    if (el !== textEl && el.dataset && el.dataset.key && !S.linkFrom) select(el.dataset.key);
  });

  // Buttons keep the text selection: don't let mousedown on them clear it.
  document.querySelectorAll(".nr-toolbar button").forEach(function (b) {
    b.addEventListener("mousedown", function (ev) { ev.preventDefault(); });
  });
  document.querySelectorAll(".nr-label-btn").forEach(function (b) {
    b.addEventListener("click", function (ev) { labelKey(parseInt(b.dataset.labelId, 10), mouseExact || ev.shiftKey); });
  });
  // Override textSelection's exactness for label hotkeys after a Shift mouse selection.
  var baseLabelKey = labelKey;
  labelKey = function (labelId, exact) { baseLabelKey(labelId, exact || mouseExact); };

  document.getElementById("btn-link").addEventListener("click", startLink);
  document.getElementById("btn-delete").addEventListener("click", function () {
    var it = selectedItem();
    if (!it) { notice("Select a span first."); return; }
    if (it.kind === "span") deleteItem(it, true); else decide(it, false, true);
  });
  document.getElementById("btn-undo").addEventListener("click", undo);
  document.getElementById("btn-accept-above").addEventListener("click", function () {
    acceptAbove(parseFloat(document.getElementById("accept-threshold").value));
  });
  var submitBtn = document.getElementById("btn-submit");  // annotation assignments only
  if (submitBtn) submitBtn.addEventListener("click", function () {
    S.queue = S.queue.then(function () {
      setSave("saving", "Submitting\u2026");
      return request("POST", "submit/").then(function (res) {
        if (!res.ok) { setSave("error", "Not submitted"); notice("Not submitted: " + errorText(res.data)); return; }
        S.readOnly = true;
        S.undo = [];
        applyReadOnly();
        setSave("readonly", "Submitted \u2014 read-only");
        notice("Submitted for review. This article is read-only for you now.");
        renderText();
      });
    });
  });

  document.querySelector(".nr-side").addEventListener("click", function (ev) {
    var b = ev.target.closest("button");
    if (b && b.dataset.unlink) { var rel = S.relations.get(b.dataset.unlink); if (rel) unlink(rel, true); return; }
    if (b && b.dataset.acceptRel) { acceptRelationSuggestion(b.dataset.acceptRel); return; }
    if (b && b.dataset.rejectRel) { rejectRelationSuggestion(b.dataset.rejectRel, true); return; }
    if (b && b.dataset.relabel) { var it0 = selectedItem(); if (it0) relabel(it0, parseInt(b.dataset.relabel, 10), true); return; }
    if (b && b.dataset.action) {
      var it = selectedItem();
      if (!it) return;
      if (b.dataset.action === "accept") decide(it, true, true);
      else if (b.dataset.action === "reject") decide(it, false, true);
      else if (b.dataset.action === "delete") deleteItem(it, true);
      else if (b.dataset.action === "link") startLink();
      return;
    }
    var row = ev.target.closest("li");
    if (!row) return;
    if (row.dataset.key) {
      var item = S.items.get(row.dataset.key);
      if (item) {
        clickItem(item);
        var head = heads.get(row.dataset.key);
        if (head) head.scrollIntoView({ block: "center" });
      }
    } else if (row.dataset.link) {
      S.selectedLink = row.dataset.link; S.selected = null; scheduleSide();
    }
  });

  window.addEventListener("resize", function () { scheduleSide(); });
  window.addEventListener("beforeunload", function (ev) {
    if (S.pending > 0) { ev.preventDefault(); ev.returnValue = ""; }
  });

  NA.renderText = function () { renderText(); };
  NA.renderSide = function () { renderSide(); };
  NA.drawLinks = function () { drawLinks(); };
  load(initial);
  renderText();
  if (!S.readOnly) setSave("saved", "Saved");
  document.body.dataset.annotateReady = "1";
})();
