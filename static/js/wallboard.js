// The live wallboard: the server pushes wallboard.snapshot frames over /ws/wallboard/
// (docs/realtime.md) and this page redraws what changed; clocks and waits tick here between
// frames. TV mode (?tv=1) rotates its panels every 15 s (pausable) and can go full screen.
// Supervisor actions (an agent's state, moving a waiting contact, taking over) post with
// fetch() and answer JSON.
(function () {
  "use strict";
  const root = document.getElementById("wallboard");
  if (!root) return;
  const tv = root.dataset.tv === "1";
  const strings = {};
  for (const item of document.getElementById("wallboard-strings").content.querySelectorAll("[data-k]")) {
    strings[item.dataset.k] = item.textContent;
  }
  const channelLabels = JSON.parse(document.getElementById("wallboard-channels").textContent);
  const lang = document.documentElement.lang || "ko";
  let snapshot = JSON.parse(document.getElementById("wallboard-snapshot").textContent);
  let skew = 0; // server clock − this clock, in ms
  const drawn = {}; // section → the JSON last drawn, to leave unchanged parts (and focus) alone

  // The page gives each address with 0 for the id ("/supervisor/contacts/0/").
  const url = (key, id) => {
    const template = root.dataset[key];
    const at = template.lastIndexOf("/0/");
    return `${template.slice(0, at)}/${Number(id)}/${template.slice(at + 3)}`;
  };
  const mmss = (seconds) => {
    const s = Math.max(0, Math.floor(seconds));
    const h = Math.floor(s / 3600);
    const m = Math.floor((s % 3600) / 60);
    const r = String(s % 60).padStart(2, "0");
    return h ? `${h}:${String(m).padStart(2, "0")}:${r}` : `${m}:${r}`;
  };
  const seconds = (value) => (value === null || value === undefined ? "–" : mmss(value));
  const percent = (value) => (value === null || value === undefined ? "–" : `${(value * 100).toFixed(1)}%`);

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attrs || {})) {
      if (value === null || value === undefined || value === false) continue;
      if (name === "className") node.className = value;
      else if (name.startsWith("data-")) node.setAttribute(name, value);
      else node.setAttribute(name, value === true ? "" : value);
    }
    for (const child of children) {
      if (child === null || child === undefined || child === false) continue;
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  }
  const cell = (text, className) => el("td", { className }, text);
  const since = (iso, className) => el("span", { className: `js-since ${className || ""}`.trim(), "data-since": iso }, "");
  const emptyRow = (columns, text) => el("tr", { className: "js-empty" }, el("td", { colspan: columns, className: "text-body-secondary" }, text));

  // --- drawing -------------------------------------------------------------------------------
  function replaceRows(tbody, rows) {
    tbody.replaceChildren(...rows);
  }

  function drawQueues(queues) {
    const tbody = document.querySelector("#wb-queues tbody");
    const rows = queues.map((q) => {
      const low = q.service_level !== null && q.service_level < 0.8 && q.offered >= 5;
      return el("tr", { "data-id": q.id },
        el("th", { scope: "row" }, q.name),
        cell(q.channels.map((c) => channelLabels[c] || c).join(", ")),
        cell(q.waiting, "text-end fw-semibold"),
        el("td", { className: "text-end font-monospace" }, q.oldest_queued_at ? since(q.oldest_queued_at) : "–"),
        cell(q.agents.available, "text-end"),
        cell(q.agents.busy, "text-end"),
        cell(q.agents.wrapup, "text-end"),
        cell(q.agents.break, "text-end"),
        cell(q.offered, "text-end"),
        cell(q.answered, "text-end"),
        cell(percent(q.service_level), `text-end${low ? " text-danger fw-semibold" : ""}`),
        cell(seconds(q.asa_seconds), "text-end font-monospace"),
        cell(percent(q.abandonment_rate), "text-end"));
    });
    replaceRows(tbody, rows.length ? rows : [emptyRow(13, strings.noQueues)]);
  }

  function contactItem(contact) {
    const item = el("li", { className: "d-flex flex-wrap align-items-center gap-2" },
      el("span", { className: "badge text-bg-light border" }, contact.channel_label),
      el("span", {}, `#${contact.id}${contact.citizen_masked ? ` · ${contact.citizen_masked}` : ""}`),
      contact.since ? since(contact.since, "font-monospace small") : null);
    if (!tv) {
      item.append(el("a", { className: "btn btn-sm btn-outline-primary", href: url("contactUrl", contact.id) }, strings.listen));
      if (contact.state === "active") {
        item.append(el("button", { type: "button", className: "btn btn-sm btn-outline-danger js-take-over", "data-contact-id": contact.id }, strings.takeOver));
      }
    }
    return item;
  }

  function drawAgents(agents) {
    const tbody = document.querySelector("#wb-agents tbody");
    const rows = agents.map((a) => {
      const state = el("td", {},
        el("span", { className: `presence-dot presence-${a.state}`, "aria-hidden": "true" }),
        a.state_label,
        a.state_reason ? el("span", { className: "text-body-secondary small" }, ` (${a.state_reason})`) : null);
      const contacts = el("td", {}, a.contacts.length
        ? el("ul", { className: "list-unstyled mb-0" }, ...a.contacts.map(contactItem))
        : el("span", { className: "text-body-secondary" }, strings.none));
      const row = el("tr", { "data-id": a.id },
        el("th", { scope: "row" }, a.name),
        state,
        el("td", { className: "text-end font-monospace" }, since(a.state_since)),
        contacts,
        cell(a.handled_today, "text-end"),
        cell(seconds(a.aht_seconds), "text-end font-monospace"));
      if (!tv) {
        row.append(el("td", {}, el("button", { type: "button", className: "btn btn-sm btn-outline-secondary js-change-state", "data-agent-id": a.id }, strings.changeState)));
      }
      return row;
    });
    replaceRows(tbody, rows.length ? rows : [emptyRow(tv ? 6 : 7, strings.noAgents)]);
  }

  function drawWaiting(waiting, queues) {
    const tbody = document.querySelector("#wb-waiting tbody");
    if (!tbody) return;
    const names = Object.fromEntries(queues.map((q) => [q.id, q.name]));
    const rows = waiting.map((c) => el("tr", { "data-id": c.id },
      el("th", { scope: "row" }, c.id),
      cell(c.channel_label),
      cell(names[c.queue_id] || "–"),
      el("td", {}, c.citizen_masked || "–",
        c.needs_assistance ? el("span", { className: "badge text-bg-warning ms-1" }, strings.needsAssistance) : null),
      el("td", { className: "text-end font-monospace" }, since(c.queued_at)),
      el("td", { className: "text-nowrap" },
        el("button", { type: "button", className: "btn btn-sm btn-outline-secondary js-move", "data-contact-id": c.id }, strings.move),
        " ",
        el("a", { className: "btn btn-sm btn-outline-primary", href: url("contactUrl", c.id) }, strings.open_item))));
    replaceRows(tbody, rows.length ? rows : [emptyRow(6, strings.noWaiting)]);
  }

  function drawAlerts(alerts) {
    const list = document.getElementById("wb-alerts");
    const items = alerts.map((alert) => {
      const item = el("li", { className: `alert alert-${alert.level} py-2 mb-2 d-flex flex-wrap align-items-center gap-2`, "data-kind": alert.kind },
        el("i", { className: `bi ${alert.level === "danger" ? "bi-exclamation-octagon-fill" : "bi-exclamation-triangle-fill"}`, "aria-hidden": "true" }),
        el("span", {}, alert.text));
      if (!tv && (alert.contact_id || alert.ticket_id)) {
        const href = alert.contact_id ? url("contactUrl", alert.contact_id) : url("ticketUrl", alert.ticket_id);
        item.append(el("a", { className: "alert-link ms-auto", href }, strings.open_item));
      }
      return item;
    });
    list.replaceChildren(...(items.length ? items : [el("li", { className: "text-body-secondary js-empty" }, strings.noAlerts)]));
    document.getElementById("wb-alert-count").textContent = String(alerts.length);
  }

  // The action forms' pickers follow the snapshot, keeping what the supervisor chose.
  function fillSelect(id, items, label) {
    const select = document.getElementById(id);
    if (!select) return;
    const chosen = select.value;
    select.replaceChildren(...items.map((item) => el("option", { value: item.id }, label(item))));
    if (items.some((item) => String(item.id) === chosen)) select.value = chosen;
  }

  function changed(section, value) {
    const json = JSON.stringify(value);
    if (drawn[section] === json) return false;
    drawn[section] = json;
    return true;
  }

  function draw(frame) {
    snapshot = frame;
    skew = Date.parse(frame.at) - Date.now();
    const updated = document.getElementById("wb-updated");
    updated.dateTime = frame.at;
    updated.textContent = new Date(frame.at).toLocaleTimeString(lang, { timeZone: "Asia/Seoul", hour12: false });
    // Figures that only tick (waits, times in state) are drawn by tick(), not compared here.
    if (changed("queues", frame.queues.map(({ longest_wait_seconds, ...rest }) => rest))) drawQueues(frame.queues);
    if (changed("agents", frame.agents)) {
      drawAgents(frame.agents);
      fillSelect("wb-presence-agent", frame.agents, (a) => `${a.name} · ${a.state_label}`);
    }
    if (changed("waiting", [frame.waiting, frame.queues.map((q) => q.name)])) {
      drawWaiting(frame.waiting, frame.queues);
      fillSelect("wb-queue-contact", frame.waiting, (c) => `#${c.id} · ${c.channel_label}${c.citizen_masked ? ` · ${c.citizen_masked}` : ""}`);
    }
    if (changed("alerts", frame.alerts)) drawAlerts(frame.alerts);
    tick();
  }

  // --- clocks --------------------------------------------------------------------------------
  const clock = document.getElementById("wb-clock");
  const clockFormat = new Intl.DateTimeFormat(lang, { timeZone: "Asia/Seoul", hour: "2-digit", minute: "2-digit", second: "2-digit", hour12: false });
  function tick() {
    const now = Date.now() + skew;
    clock.textContent = clockFormat.format(new Date(now));
    for (const timer of root.querySelectorAll(".js-since[data-since]")) {
      const start = Date.parse(timer.dataset.since);
      if (!Number.isNaN(start)) timer.textContent = mmss((now - start) / 1000);
    }
  }
  drawn.queues = JSON.stringify(snapshot.queues.map(({ longest_wait_seconds, ...rest }) => rest));
  drawn.agents = JSON.stringify(snapshot.agents);
  drawn.waiting = JSON.stringify([snapshot.waiting, snapshot.queues.map((q) => q.name)]);
  drawn.alerts = JSON.stringify(snapshot.alerts);
  skew = Date.parse(snapshot.at) - Date.now();
  tick();
  window.setInterval(tick, 1000);

  // --- the socket ----------------------------------------------------------------------------
  const status = document.getElementById("wb-status");
  const STATUS_CLASSES = { open: "text-bg-success", stopped: "text-bg-danger" };
  window.Open120Socket.open("/ws/wallboard/", {
    stopCodes: [4403],
    pingEvery: 25000,
    onFrame(frame) {
      if (frame.type === "wallboard.snapshot") draw(frame);
    },
    onStatus(state) {
      status.textContent = strings[state] || strings.reconnecting;
      status.className = `badge ${STATUS_CLASSES[state] || "text-bg-secondary"}`;
    },
  });

  // --- TV mode: rotating panels ----------------------------------------------------------------
  if (tv) {
    const ROTATE_MS = 15000;
    const panels = ["queues", "agents", "alerts"].map((name) => root.querySelector(`[data-panel="${name}"]`));
    let shown = 0;
    let paused = false;
    const show = () => panels.forEach((panel, index) => { panel.hidden = index !== shown; });
    show();
    window.setInterval(() => {
      if (paused) return;
      shown = (shown + 1) % panels.length;
      show();
    }, ROTATE_MS);
    const pause = document.getElementById("wb-pause");
    pause.addEventListener("click", () => {
      paused = !paused;
      pause.setAttribute("aria-pressed", String(paused));
      pause.querySelector("span").textContent = paused ? strings.resume : strings.pause;
      pause.querySelector("i").className = `bi ${paused ? "bi-play-fill" : "bi-pause-fill"}`;
    });
    const fullscreen = document.getElementById("wb-fullscreen");
    fullscreen.addEventListener("click", () => {
      if (document.fullscreenElement) document.exitFullscreen();
      else document.documentElement.requestFullscreen().catch(() => {});
    });
    return;
  }

  // --- supervisor actions ----------------------------------------------------------------------
  const result = document.getElementById("wb-action-result");
  const csrf = () => document.querySelector("[name=csrfmiddlewaretoken]").value;

  function report(ok, message) {
    result.replaceChildren(el("div", { className: `alert alert-${ok ? "success" : "danger"} py-2 mb-0` }, message));
  }

  async function post(actionUrl, body) {
    try {
      const response = await fetch(actionUrl, {
        method: "POST",
        body,
        headers: { Accept: "application/json", "X-CSRFToken": csrf() },
        credentials: "same-origin",
      });
      const answer = await response.json();
      report(response.ok, answer.message || strings.failed);
      return response.ok ? answer : null;
    } catch (error) {
      report(false, strings.failed);
      return null;
    }
  }

  for (const form of document.querySelectorAll(".js-wb-action")) {
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      const target = form.querySelector(".js-wb-target").value;
      if (!target) return;
      post(url(form.dataset.urlKey, target), new FormData(form));
    });
  }

  root.addEventListener("click", async (event) => {
    const button = event.target.closest("button");
    if (!button) return;
    if (button.classList.contains("js-change-state")) {
      const select = document.getElementById("wb-presence-agent");
      select.value = button.dataset.agentId;
      document.getElementById("id_presence").focus();
    } else if (button.classList.contains("js-move")) {
      const select = document.getElementById("wb-queue-contact");
      select.value = button.dataset.contactId;
      document.getElementById("id_queue").focus();
    } else if (button.classList.contains("js-take-over")) {
      if (!window.confirm(strings.takeOverConfirm)) return;
      const body = new FormData();
      body.append("csrfmiddlewaretoken", csrf());
      const answer = await post(url("takeOverUrl", button.dataset.contactId), body);
      if (answer && answer.console_url) window.location.assign(answer.console_url);
    }
  });
})();
