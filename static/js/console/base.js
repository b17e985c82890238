// Agent console, shared ground: configuration and strings from the page, small DOM helpers,
// announcements, the beep, and the state every panel reads (tabs, offers). The console's
// files share one namespace, Open120Console, and load in order (agent_console.html).
(function (C) {
  "use strict";

  const root = document.getElementById("console");
  C.root = root;
  if (!root) return;

  // --- Configuration and strings from the page -------------------------------------------
  C.cfg = {
    wsPath: root.dataset.wsPath,
    csrf: root.dataset.csrfToken,
    agentName: root.dataset.agentName,
    panelUrl: root.dataset.panelUrl,
    attachmentUrl: root.dataset.attachmentUrl,
    transferTargetsUrl: root.dataset.transferTargetsUrl,
    kbSearchUrl: root.dataset.knowledgeSearchUrl,
    kbUseUrl: root.dataset.knowledgeUseUrl,
    offerTimeout: parseInt(root.dataset.offerTimeout, 10) || 20,
  };
  C.urlFor = (pattern, id) => pattern.replace("/0/", `/${id}/`);

  function readStrings(id, attr) {
    const map = {};
    const tpl = document.getElementById(id);
    if (!tpl) return map;
    for (const node of tpl.content.querySelectorAll(`[data-${attr}]`)) {
      map[node.getAttribute(`data-${attr}`)] = node.textContent.trim();
    }
    return map;
  }
  const STR = readStrings("console-strings", "k");
  const ERR = readStrings("console-strings", "err");
  C.PRESENCE = readStrings("presence-labels", "k");
  C.LANGUAGE = readStrings("language-labels", "k");
  // Socket frames carry labels in the server's default language; the page knows the user's.
  const CHANNEL = readStrings("channel-labels", "k");
  C.channelLabel = (data) => CHANNEL[data.channel] || data.channel_label || data.channel;
  C.CANNED = JSON.parse(document.getElementById("canned-replies").textContent || "[]");
  C.errorText = (message) => ERR[message] || message;

  C.t = function t(key, vars) {
    const text = STR[key] !== undefined ? STR[key] : key;
    if (!vars) return text;
    return text.replace(/\{(\w+)\}/g, (match, name) => (name in vars ? String(vars[name]) : match));
  };
  const t = C.t;

  // --- Small helpers -----------------------------------------------------------------------
  C.el = function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) {
      if (value === null || value === undefined || value === false) continue;
      if (key === "class") node.className = value;
      else if (key === "text") node.textContent = value;
      else node.setAttribute(key, value === true ? "" : value);
    }
    for (const child of children) {
      if (child === null || child === undefined || child === false) continue;
      node.append(child);
    }
    return node;
  };
  const el = C.el;

  C.clone = (templateId) => document.getElementById(templateId).content.firstElementChild.cloneNode(true);

  // Give every id inside a cloned template a per-contact suffix and fix the references.
  C.suffixIds = function suffixIds(nodes, suffix) {
    const map = new Map();
    const all = [];
    for (const node of [].concat(nodes)) all.push(node, ...node.querySelectorAll("*"));
    for (const item of all.filter((n) => n.id)) {
      const fresh = `${item.id}-${suffix}`;
      map.set(item.id, fresh);
      item.id = fresh;
    }
    const refs = ["for", "aria-controls", "aria-labelledby", "aria-describedby"];
    for (const item of all) {
      for (const attr of refs) {
        const value = item.getAttribute(attr);
        if (!value) continue;
        item.setAttribute(attr, value.split(/\s+/).map((v) => map.get(v) || v).join(" "));
      }
      const target = item.getAttribute("data-bs-target");
      if (target && target.startsWith("#") && map.has(target.slice(1))) {
        item.setAttribute("data-bs-target", `#${map.get(target.slice(1))}`);
      }
    }
  };

  C.hhmm = function hhmm(iso) {
    if (typeof iso === "string") {
      const match = /T(\d{2}):(\d{2})/.exec(iso);
      if (match) return `${match[1]}:${match[2]}`;
    }
    const now = new Date();
    return `${String(now.getHours()).padStart(2, "0")}:${String(now.getMinutes()).padStart(2, "0")}`;
  };

  C.mmss = function mmss(seconds) {
    const s = Math.max(0, Math.round(seconds));
    const h = Math.floor(s / 3600);
    const m = Math.floor((s % 3600) / 60);
    const r = String(s % 60).padStart(2, "0");
    return h ? `${h}:${String(m).padStart(2, "0")}:${r}` : `${m}:${r}`;
  };

  C.citizenName = function citizenName(citizen, contactId) {
    if (citizen && citizen.name) return citizen.name;
    if (citizen && citizen.masked_phone) return citizen.masked_phone;
    return t("contactN", { id: contactId });
  };

  C.postForm = function postForm(url, data) {
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "X-CSRFToken": C.cfg.csrf, "X-Requested-With": "fetch" },
      body: new URLSearchParams(data || {}),
    });
  };

  // --- Announcements and alerts ------------------------------------------------------------
  const livePolite = document.getElementById("live-polite");
  const liveAssertive = document.getElementById("live-assertive");
  C.announce = function announce(text, assertive) {
    const region = assertive ? liveAssertive : livePolite;
    region.textContent = "";
    // A fresh text node after a tick is announced even when the text repeats.
    window.setTimeout(() => { region.textContent = text; }, 60);
  };

  C.showAlert = function showAlert(container, text, kind) {
    const alert = el("div", { class: `alert alert-${kind || "danger"} alert-dismissible fade show py-2`, role: "alert" },
      el("i", { class: `bi ${kind === "info" ? "bi-info-circle" : "bi-exclamation-triangle"} me-1`, "aria-hidden": "true" }),
      text,
      el("button", { type: "button", class: "btn-close", "data-bs-dismiss": "alert", "aria-label": t("close") }));
    // The same refusal twice: keep one alert, not a pile.
    for (const old of container.querySelectorAll(".alert")) {
      if (old.textContent === alert.textContent) old.remove();
    }
    container.append(alert);
    while (container.children.length > 3) container.firstElementChild.remove();
    return alert;
  };
  C.consoleAlerts = document.getElementById("console-alerts");

  // --- Sound: a short two-tone beep made with WebAudio (no audio files) -------------------
  let audio = null;
  C.unlockAudio = function unlockAudio() {
    try {
      if (!audio) {
        const Ctx = window.AudioContext || window.webkitAudioContext;
        if (!Ctx) return;
        audio = new Ctx();
      }
      if (audio.state === "suspended") audio.resume();
    } catch (e) { /* no sound available */ }
  };
  document.addEventListener("pointerdown", C.unlockAudio, { passive: true });
  document.addEventListener("keydown", C.unlockAudio);

  C.beep = function beep() {
    C.unlockAudio();
    if (!audio || audio.state !== "running") return;
    const now = audio.currentTime;
    [[880, 0], [1175, 0.18]].forEach(([freq, at]) => {
      const osc = audio.createOscillator();
      const gain = audio.createGain();
      osc.type = "sine";
      osc.frequency.value = freq;
      gain.gain.setValueAtTime(0.0001, now + at);
      gain.gain.exponentialRampToValueAtTime(0.25, now + at + 0.02);
      gain.gain.exponentialRampToValueAtTime(0.0001, now + at + 0.16);
      osc.connect(gain).connect(audio.destination);
      osc.start(now + at);
      osc.stop(now + at + 0.18);
    });
  };

  // --- What every panel reads ---------------------------------------------------------------
  C.tabs = new Map(); // contact id → ContactTab
  C.offers = new Map(); // offer id → Offer
  C.acceptedContacts = new Set(); // contacts I clicked Accept for: open their tab

  C.activeTab = function activeTab() {
    for (const tab of C.tabs.values()) if (tab.isActive()) return tab;
    return null;
  };

  C.focusWorkspace = function focusWorkspace() {
    const tab = C.activeTab();
    if (tab) tab.button.focus();
    else document.getElementById("main").focus();
  };

  const baseTitle = document.title;
  C.updateTitle = function updateTitle() {
    let unread = 0;
    for (const tab of C.tabs.values()) unread += tab.unread;
    const marks = [];
    if (C.offers.size) marks.push("🔔");
    if (unread) marks.push(`(${unread})`);
    document.title = marks.length ? `${marks.join(" ")} ${baseTitle}` : baseTitle;
  };
})(window.Open120Console = window.Open120Console || {});
