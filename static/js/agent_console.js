// Agent console: presence, offers and conversations over the agent socket (docs/realtime.md).
// Plain JS, no build step. Every visible string comes from the page (templates below #console).
(function () {
  "use strict";

  const root = document.getElementById("console");
  if (!root) return;

  // --- Configuration and strings from the page -------------------------------------------
  const cfg = {
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
  const urlFor = (pattern, id) => pattern.replace("/0/", `/${id}/`);

  function readStrings(id, attr) {
    const map = {};
    const tpl = document.getElementById(id);
    if (!tpl) return map;
    for (const el of tpl.content.querySelectorAll(`[data-${attr}]`)) {
      map[el.getAttribute(`data-${attr}`)] = el.textContent.trim();
    }
    return map;
  }
  const STR = readStrings("console-strings", "k");
  const ERR = readStrings("console-strings", "err");
  const PRESENCE = readStrings("presence-labels", "k");
  const LANGUAGE = readStrings("language-labels", "k");
  // Socket frames carry labels in the server's default language; the page knows the user's.
  const CHANNEL = readStrings("channel-labels", "k");
  const channelLabel = (data) => CHANNEL[data.channel] || data.channel_label || data.channel;
  const CANNED = JSON.parse(document.getElementById("canned-replies").textContent || "[]");

  function t(key, vars) {
    const text = STR[key] !== undefined ? STR[key] : key;
    if (!vars) return text;
    return text.replace(/\{(\w+)\}/g, (match, name) => (name in vars ? String(vars[name]) : match));
  }

  // --- Small helpers -----------------------------------------------------------------------
  function el(tag, attrs, ...children) {
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
  }

  function clone(templateId) {
    return document.getElementById(templateId).content.firstElementChild.cloneNode(true);
  }

  // Give every id inside a cloned template a per-contact suffix and fix the references.
  function suffixIds(nodes, suffix) {
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
  }

  // Django forms use id_<field>; several ticket forms live on this page, so make them unique.
  function uniqueFormIds(container, contactId) {
    const suffix = `-c${contactId}`;
    const map = new Map();
    for (const item of container.querySelectorAll("[id]")) {
      // Ids the panel templates made unique already end with the contact id.
      if (item.id.endsWith(suffix) || item.id.endsWith(`-${contactId}`)) continue;
      const fresh = item.id + suffix;
      map.set(item.id, fresh);
      item.id = fresh;
    }
    if (!map.size) return;
    for (const item of container.querySelectorAll("[for], [aria-describedby], [aria-labelledby]")) {
      for (const attr of ["for", "aria-describedby", "aria-labelledby"]) {
        const value = item.getAttribute(attr);
        if (value) item.setAttribute(attr, value.split(/\s+/).map((v) => map.get(v) || v).join(" "));
      }
    }
  }

  function hhmm(iso) {
    if (typeof iso === "string") {
      const match = /T(\d{2}):(\d{2})/.exec(iso);
      if (match) return `${match[1]}:${match[2]}`;
    }
    const now = new Date();
    return `${String(now.getHours()).padStart(2, "0")}:${String(now.getMinutes()).padStart(2, "0")}`;
  }

  function mmss(seconds) {
    const s = Math.max(0, Math.round(seconds));
    const h = Math.floor(s / 3600);
    const m = Math.floor((s % 3600) / 60);
    const r = String(s % 60).padStart(2, "0");
    return h ? `${h}:${String(m).padStart(2, "0")}:${r}` : `${m}:${r}`;
  }

  function newClientId() {
    if (window.crypto && typeof window.crypto.randomUUID === "function") return window.crypto.randomUUID();
    // randomUUID needs a secure context; fall back to the same format from getRandomValues.
    const bytes = window.crypto.getRandomValues(new Uint8Array(16));
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    const hex = [...bytes].map((b) => b.toString(16).padStart(2, "0")).join("");
    return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
  }

  function errorText(message) {
    return ERR[message] || message;
  }

  function citizenName(citizen, contactId) {
    if (citizen && citizen.name) return citizen.name;
    if (citizen && citizen.masked_phone) return citizen.masked_phone;
    return t("contactN", { id: contactId });
  }

  const CHANNEL_ICONS = {
    webchat: "bi-chat-dots",
    kakao: "bi-chat-fill",
    sms: "bi-phone",
    whatsapp: "bi-whatsapp",
    voice: "bi-telephone",
    video: "bi-camera-video",
    open311: "bi-geo-alt",
  };

  // Only <mark> survives from the server's snippet HTML; everything else becomes text.
  function safeSnippet(html) {
    const doc = new DOMParser().parseFromString(`<div>${html || ""}</div>`, "text/html");
    const out = document.createDocumentFragment();
    (function walk(node, into) {
      for (const child of node.childNodes) {
        if (child.nodeType === Node.TEXT_NODE) into.append(child.textContent);
        else if (child.nodeType === Node.ELEMENT_NODE) {
          if (child.tagName === "MARK") {
            const mark = document.createElement("mark");
            walk(child, mark);
            into.append(mark);
          } else walk(child, into);
        }
      }
    })(doc.body.firstElementChild || doc.body, out);
    return out;
  }

  function postForm(url, data) {
    const body = new URLSearchParams(data || {});
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "X-CSRFToken": cfg.csrf, "X-Requested-With": "fetch" },
      body,
    });
  }

  // --- Announcements and alerts ------------------------------------------------------------
  const livePolite = document.getElementById("live-polite");
  const liveAssertive = document.getElementById("live-assertive");
  function announce(text, assertive) {
    const region = assertive ? liveAssertive : livePolite;
    region.textContent = "";
    // A fresh text node after a tick is announced even when the text repeats.
    window.setTimeout(() => { region.textContent = text; }, 60);
  }

  function showAlert(container, text, kind) {
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
  }
  const consoleAlerts = document.getElementById("console-alerts");

  // --- Sound: a short two-tone beep made with WebAudio (no audio files) -------------------
  let audio = null;
  function unlockAudio() {
    try {
      if (!audio) {
        const Ctx = window.AudioContext || window.webkitAudioContext;
        if (!Ctx) return;
        audio = new Ctx();
      }
      if (audio.state === "suspended") audio.resume();
    } catch (e) { /* no sound available */ }
  }
  document.addEventListener("pointerdown", unlockAudio, { passive: true });
  document.addEventListener("keydown", unlockAudio);
  function beep() {
    unlockAudio();
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
  }

  // --- Socket --------------------------------------------------------------------------------
  let socket = null;
  let delay = 500;
  let pingTimer = null;
  let pingId = 0;
  let highestId = 0; // the highest message id seen, for resume
  let resuming = false;
  let lastSent = { frame: null, at: 0 };
  const socketState = document.getElementById("socket-state");

  function setSocketState(state) {
    socketState.dataset.state = state;
    socketState.querySelector(".js-socket-text").textContent = t(state);
  }

  function isOpen() {
    return socket !== null && socket.readyState === WebSocket.OPEN;
  }

  function send(frame) {
    if (!isOpen()) return false;
    socket.send(JSON.stringify(frame));
    if (frame.type !== "ping" && frame.type !== "typing" && frame.type !== "ack") {
      lastSent = { frame, at: Date.now() };
    }
    return true;
  }

  function connect() {
    setSocketState(delay > 500 ? "reconnecting" : "connecting");
    const scheme = window.location.protocol === "https:" ? "wss" : "ws";
    const ws = new WebSocket(`${scheme}://${window.location.host}${cfg.wsPath}`);
    socket = ws;
    ws.addEventListener("message", (event) => {
      let frame;
      try { frame = JSON.parse(event.data); } catch (e) { return; }
      if (frame && typeof frame.type === "string") handleFrame(frame);
    });
    ws.addEventListener("open", () => {
      window.clearInterval(pingTimer);
      pingTimer = window.setInterval(() => send({ type: "ping", id: ++pingId }), 25000);
    });
    ws.addEventListener("close", (event) => {
      if (socket !== ws) return;
      socket = null;
      resuming = false;
      window.clearInterval(pingTimer);
      for (const tab of tabs.values()) tab.onDisconnect();
      if (event.code === 4403) {
        window.location.reload(); // the session ended: the page sends the user to log in
        return;
      }
      setSocketState("reconnecting");
      window.setTimeout(connect, delay);
      delay = Math.min(delay * 2, 15000);
    });
  }

  function handleFrame(frame) {
    switch (frame.type) {
      case "hello": onHello(frame); break;
      case "presence.changed": showPresence(frame.presence, frame.reason, frame.changed_at); break;
      case "offer.created": addOffer(frame.offer, true, true); break;
      case "offer.cancelled": removeOffer(frame.offer_id, frame.reason); break;
      case "contact.assigned": onContactAssigned(frame.contact); break;
      case "contact.updated": onContactUpdated(frame.contact); break;
      case "contact.removed": removeTab(frame.contact_id, frame.reason); break;
      case "message.created": onMessage(frame.message, !resuming); break;
      case "message.delivered": {
        const tab = tabs.get(frame.contact_id);
        if (tab) tab.markDelivered(frame.up_to_id);
        break;
      }
      case "typing": {
        const tab = tabs.get(frame.contact_id);
        if (tab) tab.showTyping(frame.who, frame.name);
        break;
      }
      case "chat.ended": {
        const tab = tabs.get(frame.contact_id);
        if (tab) tab.setState("wrapup");
        break;
      }
      case "history": {
        const tab = tabs.get(frame.contact_id);
        if (tab) tab.onHistory(frame.messages || []);
        break;
      }
      case "queues.updated": {
        for (const queue of frame.queues || []) {
          const badge = document.querySelector(`[data-queue-id="${queue.id}"]`);
          if (!badge) continue;
          badge.textContent = t("queueWaiting", { n: queue.waiting });
          badge.classList.toggle("text-bg-warning", queue.waiting > 0);
          badge.classList.toggle("text-bg-light", queue.waiting === 0);
          badge.classList.toggle("border", queue.waiting === 0);
        }
        break;
      }
      case "knowledge.suggestions": {
        // Pushed by the server after each citizen message: the best articles for the
        // conversation so far (only shown while the agent is not searching by hand).
        const tab = tabs.get(frame.contact_id);
        if (tab && !tab.els.kbInput.value.trim()) tab.renderKb(frame.results || [], t("kbSuggested"));
        break;
      }
      case "resume.done": onResumeDone(); break;
      case "ticket.notice": // shown by ticket_notices.js
        document.dispatchEvent(new CustomEvent("open120:ticket-notice", { detail: frame }));
        break;
      case "error": onErrorFrame(frame); break;
      default: break; // pong and anything new
    }
  }

  function onHello(frame) {
    delay = 500;
    setSocketState("connected");
    if (frame.presence) showPresence(frame.presence, frame.presence_reason, frame.presence_changed_at);
    // Rebuild the tabs from what the server says I hold; keep tabs that stay (and their forms).
    const held = new Set((frame.contacts || []).map((c) => c.id));
    for (const id of [...tabs.keys()]) if (!held.has(id)) removeTab(id, "gone", true);
    for (const contact of frame.contacts || []) upsertTab(contact, false);
    // The same for offers.
    const offered = new Set((frame.offers || []).map((o) => o.id));
    for (const id of [...offers.keys()]) if (!offered.has(id)) removeOffer(id, "gone");
    for (const offer of frame.offers || []) addOffer(offer, !offers.has(offer.id));
    // Then catch up on messages missed while away.
    resuming = true;
    send({ type: "resume", last_message_id: highestId });
    for (const tab of tabs.values()) tab.requestHistory();
    if (!activeTab() && tabs.size) tabs.values().next().value.activate();
    updateEmptyState();
  }

  function onResumeDone() {
    resuming = false;
    for (const tab of tabs.values()) tab.flushOutbox();
  }

  function onErrorFrame(frame) {
    const text = errorText(frame.message || frame.code);
    const recent = lastSent.frame && Date.now() - lastSent.at < 4000 ? lastSent.frame : null;
    // A refused message is named by its client_id: it fails for good (never resent).
    const refusedIn = typeof frame.client_id === "string"
      ? Array.from(tabs.values()).find((t) => t.pending.has(frame.client_id)) : null;
    const tab = refusedIn || (recent && recent.contact_id ? tabs.get(recent.contact_id) : null);
    if (refusedIn) refusedIn.failPending(frame.client_id);
    else if (recent && recent.type === "message.send" && tab) tab.failPending(recent.client_id);
    if (recent && recent.type && recent.type.startsWith("offer.")) {
      const offer = offers.get(recent.offer_id);
      if (offer) offer.setBusy(false);
    }
    if (recent && recent.type === "presence.set") presenceError(text);
    showAlert(tab ? tab.els.alerts : consoleAlerts, text, "danger");
    announce(text, true);
  }

  // --- Presence ------------------------------------------------------------------------------
  const presenceBadge = document.getElementById("presence-badge");
  const presenceSince = document.getElementById("presence-since");
  const presenceForm = document.querySelector("#presence-control form");
  const presenceSelect = presenceForm && presenceForm.querySelector("select[name=presence]");
  const reasonInput = presenceForm && presenceForm.querySelector("input[name=reason]");

  // The presence the page shows (rendered by the server, then from frames). The list follows
  // real changes only, so a hello after a reconnect never undoes a choice being made.
  let shownPresence = presenceSelect ? presenceSelect.value : null;

  function showPresence(presence, reason, changedAt) {
    const changed = presence !== shownPresence;
    shownPresence = presence;
    presenceBadge.className = `badge rounded-pill presence-badge presence-${presence}`;
    presenceBadge.textContent = PRESENCE[presence] || presence;
    if (changedAt !== undefined) {
      presenceSince.textContent = t("since", { time: hhmm(changedAt) }) + (reason ? ` · ${reason}` : "");
    }
    if (changed && presenceSelect && presenceSelect.querySelector(`option[value="${presence}"]`)) {
      presenceSelect.value = presence;
    }
    presenceError("");
  }

  function presenceError(text) {
    if (!reasonInput) return;
    let feedback = presenceForm.querySelector(".js-presence-error");
    if (!feedback) {
      feedback = el("div", { class: "invalid-feedback d-block js-presence-error", id: "presence-error" });
      reasonInput.insertAdjacentElement("afterend", feedback);
    }
    feedback.textContent = text;
    reasonInput.classList.toggle("is-invalid", Boolean(text));
    if (text) reasonInput.setAttribute("aria-describedby", "presence-error");
    else reasonInput.removeAttribute("aria-describedby");
  }

  if (presenceForm && presenceSelect) {
    presenceForm.addEventListener("submit", (event) => {
      if (!isOpen()) return; // no socket: the plain form posts to the server
      event.preventDefault();
      const presence = presenceSelect.value;
      const reason = reasonInput ? reasonInput.value.trim() : "";
      if (presence === "break" && !reason) {
        presenceError(t("breakNeedsReason"));
        reasonInput.focus();
        return;
      }
      presenceError("");
      send({ type: "presence.set", presence, reason });
    });
  }

  // --- Offers --------------------------------------------------------------------------------
  const offersBox = document.getElementById("offers");
  const offers = new Map(); // offer id → Offer

  class Offer {
    constructor(data, live) {
      this.data = data;
      this.received = Date.now();
      const remaining = Date.parse(data.expires_at) - Date.now();
      const timeout = (data.timeout_seconds || cfg.offerTimeout) * 1000;
      // A live offer has just been made: count down from its timeout (immune to clock skew);
      // one listed in hello may be half gone, so use expires_at, within the timeout.
      const left = live || Number.isNaN(remaining) ? timeout : Math.max(0, Math.min(timeout, remaining));
      this.deadline = this.received + left;
      this.timeout = timeout;
      this.node = clone("tpl-offer");
      suffixIds(this.node, `o${data.id}`);
      const q = (sel) => this.node.querySelector(sel);
      const citizen = data.citizen;
      q(".js-channel").textContent = channelLabel(data);
      q(".js-queue").textContent = data.queue_name || "–";
      q(".js-name").textContent = citizen && citizen.name ? citizen.name : t("unknownCitizen");
      q(".js-phone").textContent = citizen && citizen.masked_phone ? citizen.masked_phone : "";
      q(".js-assist").hidden = !(citizen && citizen.needs_assistance);
      if (data.language && data.language !== "ko") {
        q(".js-language").hidden = false;
        q(".js-language").textContent = LANGUAGE[data.language] || data.language;
      }
      this.acceptBtn = q(".js-accept");
      this.declineBtn = q(".js-decline");
      this.acceptBtn.addEventListener("click", () => {
        unlockAudio();
        this.setBusy(true);
        acceptedContacts.add(data.contact_id);
        if (!send({ type: "offer.accept", offer_id: data.id })) this.setBusy(false);
      });
      this.declineBtn.addEventListener("click", () => {
        this.setBusy(true);
        if (!send({ type: "offer.decline", offer_id: data.id })) this.setBusy(false);
      });
      this.tick();
    }

    setBusy(busy) {
      this.acceptBtn.disabled = busy;
      this.declineBtn.disabled = busy;
    }

    tick() {
      const left = Math.max(0, (this.deadline - Date.now()) / 1000);
      const q = (sel) => this.node.querySelector(sel);
      q(".js-countdown").textContent = t("secondsLeft", { seconds: Math.ceil(left) });
      q(".js-progress").style.width = `${Math.min(100, (left * 1000 / this.timeout) * 100)}%`;
      q(".js-waited").textContent = mmss((this.data.waited_seconds || 0) + (Date.now() - this.received) / 1000);
      this.node.classList.toggle("is-urgent", left <= 5);
    }
  }

  function addOffer(data, fresh, live) {
    if (!data || offers.has(data.id)) return;
    const offer = new Offer(data, live);
    offers.set(data.id, offer);
    offersBox.append(offer.node);
    if (fresh) {
      beep();
      const citizen = data.citizen;
      let text = t("offerAnnounce", {
        channel: channelLabel(data),
        queue: data.queue_name || "",
        name: citizen && citizen.name ? citizen.name : t("unknownCitizen"),
      });
      if (citizen && citizen.needs_assistance) text += ` ${t("offerAssist")}`;
      announce(text, true);
    }
    updateTitle();
  }

  function removeOffer(id, reason) {
    const offer = offers.get(id);
    if (!offer) return;
    offers.delete(id);
    const hadFocus = offer.node.contains(document.activeElement);
    offer.node.remove();
    if (reason && reason !== "accepted" && reason !== "gone" && reason !== "declined") announce(t("offerGone"));
    if (hadFocus) focusWorkspace();
    updateTitle();
  }

  window.setInterval(() => { for (const offer of offers.values()) offer.tick(); }, 250);

  // --- Tabs ------------------------------------------------------------------------------------
  const tabList = document.getElementById("contact-tabs");
  const paneBox = document.getElementById("contact-panes");
  const emptyState = document.getElementById("workspace-empty");
  const tabs = new Map(); // contact id → ContactTab
  const acceptedContacts = new Set(); // contacts I clicked Accept for: open their tab

  function activeTab() {
    for (const tab of tabs.values()) if (tab.isActive()) return tab;
    return null;
  }

  function updateEmptyState() {
    emptyState.hidden = tabs.size > 0;
  }

  function focusWorkspace() {
    const tab = activeTab();
    if (tab) tab.button.focus();
    else document.getElementById("main").focus();
  }

  const baseTitle = document.title;
  function updateTitle() {
    let unread = 0;
    for (const tab of tabs.values()) unread += tab.unread;
    const marks = [];
    if (offers.size) marks.push("🔔");
    if (unread) marks.push(`(${unread})`);
    document.title = marks.length ? `${marks.join(" ")} ${baseTitle}` : baseTitle;
  }

  class ContactTab {
    constructor(contact) {
      this.id = contact.id;
      this.contact = contact;
      this.messages = new Map(); // message id → li
      this.pending = new Map(); // client_id → {li, frame, attempts, timer}
      this.historyRequested = false;
      this.historyLoaded = false;
      this.ackedUpTo = 0;
      this.deliveredUpTo = 0;
      this.unread = 0;
      this.lastTypingSent = 0;
      this.typingTimer = null;
      this.kbTimer = null;
      this.autoTimer = null;
      this.autoQuery = "";
      this.kbSeq = 0;

      this.li = clone("tpl-tab");
      this.pane = clone("tpl-pane");
      suffixIds([this.li, this.pane], this.id);
      this.button = this.li.querySelector("button");
      const q = (sel) => this.pane.querySelector(sel);
      this.els = {
        title: q(".js-title"),
        channel: q(".js-channel"),
        queue: q(".js-queue"),
        language: q(".js-language"),
        assist: q(".js-assist"),
        wrapupBadge: q(".js-wrapup-badge"),
        ticketBadge: q(".js-ticket-badge"),
        transfer: q(".js-transfer"),
        end: q(".js-end"),
        finish: q(".js-finish"),
        alerts: q(".js-alerts"),
        log: q(".js-conversation"),
        typing: q(".js-typing"),
        composer: q(".js-composer"),
        reply: q(".js-reply"),
        replyLabel: q(".js-reply-label"),
        note: q(".js-note"),
        cannedToggle: q(".js-canned-toggle"),
        canned: q(".js-canned"),
        attach: q(".js-attach"),
        file: q(".js-file"),
        send: q(".js-send"),
        sendLabel: q(".js-send-label"),
        panel: q(".js-panel"),
        kbForm: q(".js-kb-form"),
        kbInput: q(".js-kb-q"),
        kbCaption: q(".js-kb-caption"),
        kbResults: q(".js-kb-results"),
      };
      this.tabEls = {
        name: this.li.querySelector(".js-tab-name"),
        icon: this.li.querySelector(".js-channel-icon"),
        wrapup: this.li.querySelector(".js-tab-wrapup"),
        typing: this.li.querySelector(".js-tab-typing"),
        unread: this.li.querySelector(".js-tab-unread"),
        unreadSr: this.li.querySelector(".js-tab-unread-sr"),
        assist: this.li.querySelector(".js-tab-assist"),
      };
      this.buildCanned();
      this.bind();
      this.update(contact);
      this.els.kbCaption.textContent = t("kbHint");
      tabList.append(this.li);
      paneBox.append(this.pane);
      if (window.bootstrap) window.bootstrap.Tab.getOrCreateInstance(this.button);
      this.loadPanel();
      this.requestHistory();
    }

    get name() {
      return citizenName(this.contact.citizen, this.id);
    }

    isActive() {
      return this.button.classList.contains("active");
    }

    activate() {
      if (window.bootstrap) window.bootstrap.Tab.getOrCreateInstance(this.button).show();
    }

    isWrapup() {
      return this.contact.state !== "active";
    }

    // --- state and header ---
    update(contact) {
      this.contact = Object.assign({}, this.contact, contact);
      const c = this.contact;
      this.tabEls.name.textContent = this.name;
      this.tabEls.icon.className = `bi ${CHANNEL_ICONS[c.channel] || "bi-chat"} js-channel-icon`;
      this.els.title.textContent = this.name;
      this.els.channel.textContent = channelLabel(c);
      this.els.queue.hidden = !c.queue;
      if (c.queue) this.els.queue.textContent = c.queue.name;
      this.els.language.hidden = !c.language || c.language === "ko";
      this.els.language.textContent = LANGUAGE[c.language] || c.language || "";
      this.els.assist.hidden = !(c.citizen && c.citizen.needs_assistance);
      this.tabEls.assist.hidden = this.els.assist.hidden;
      this.els.log.setAttribute("aria-label", `${this.els.log.getAttribute("aria-label").split(" · ")[0]} · ${this.name}`);
      if (c.ticket) this.setTicket(c.ticket.number);
      this.setState(c.state);
    }

    setState(state) {
      this.contact.state = state;
      const wrapup = state !== "active";
      this.tabEls.wrapup.hidden = !wrapup;
      this.button.classList.toggle("is-wrapup", wrapup);
      this.els.wrapupBadge.hidden = !wrapup;
      this.els.end.hidden = wrapup;
      this.els.transfer.disabled = wrapup;
      this.els.finish.hidden = !wrapup;
      this.els.attach.disabled = wrapup;
      this.els.cannedToggle.disabled = wrapup;
      if (wrapup) {
        this.els.note.checked = true;
        this.els.note.disabled = true;
        this.tabEls.typing.hidden = true;
        this.els.typing.textContent = "";
      } else {
        this.els.note.disabled = false;
      }
      this.syncComposer();
    }

    syncComposer() {
      const note = this.els.note.checked;
      this.els.composer.classList.toggle("is-note", note);
      this.els.replyLabel.textContent = this.isWrapup() ? t("noteOnlyLabel") : note ? t("noteLabel") : t("replyLabel");
      this.els.sendLabel.textContent = note ? t("addNote") : t("send");
    }

    setTicket(number) {
      if (!number) return;
      this.contact.ticket = Object.assign({}, this.contact.ticket, { number });
      this.els.ticketBadge.hidden = false;
      this.els.ticketBadge.textContent = t("ticketBadge", { number });
    }

    // --- wiring ---
    bind() {
      const e = this.els;
      this.button.addEventListener("shown.bs.tab", () => {
        this.unread = 0;
        this.renderUnread();
        this.scrollToEnd(true);
        this.maybeAck();
      });
      e.composer.addEventListener("submit", (event) => {
        event.preventDefault();
        this.sendReply();
      });
      e.reply.addEventListener("keydown", (event) => {
        // Enter sends, Shift+Enter is a newline; never while a Hangul syllable is composing.
        if (event.key !== "Enter" || event.shiftKey || event.isComposing || event.keyCode === 229) return;
        event.preventDefault();
        this.sendReply();
      });
      e.reply.addEventListener("input", () => {
        if (e.note.checked || this.isWrapup() || !e.reply.value.trim()) return;
        const now = Date.now();
        if (now - this.lastTypingSent >= 2000 && send({ type: "typing", contact_id: this.id })) {
          this.lastTypingSent = now;
        }
      });
      e.note.addEventListener("change", () => this.syncComposer());
      e.attach.addEventListener("click", () => e.file.click());
      e.file.addEventListener("change", () => {
        const file = e.file.files && e.file.files[0];
        e.file.value = "";
        if (file) this.upload(file);
      });
      e.end.addEventListener("click", () => {
        if (window.confirm(t("confirmEnd", { name: this.name }))) send({ type: "contact.end", contact_id: this.id });
      });
      e.finish.addEventListener("click", () => send({ type: "wrapup.complete", contact_id: this.id }));
      e.transfer.addEventListener("click", () => openTransfer(this));
      e.kbForm.addEventListener("submit", (event) => {
        event.preventDefault();
        window.clearTimeout(this.kbTimer);
        this.kbFromInput();
      });
      e.kbInput.addEventListener("input", () => {
        window.clearTimeout(this.kbTimer);
        this.kbTimer = window.setTimeout(() => this.kbFromInput(), 350);
      });
      e.log.addEventListener("click", (event) => {
        const retry = event.target.closest(".js-retry");
        if (retry) this.retry(retry.closest("li").dataset.clientId);
      });
    }

    buildCanned() {
      const menu = this.els.canned;
      menu.textContent = "";
      if (!CANNED.length) {
        menu.append(el("li", {}, el("span", { class: "dropdown-item-text text-body-secondary", text: t("noCanned") })));
        return;
      }
      const language = this.contact.language || "ko";
      const mine = CANNED.filter((r) => r.language === language);
      const others = CANNED.filter((r) => r.language !== language);
      const item = (reply) => {
        const button = el("button", { type: "button", class: "dropdown-item" },
          el("span", { class: "fw-semibold", text: reply.title }),
          el("span", { class: "canned-text", text: reply.text.length > 80 ? `${reply.text.slice(0, 80)}…` : reply.text }));
        button.addEventListener("click", () => this.insertText(reply.text));
        return el("li", {}, button);
      };
      mine.forEach((r) => menu.append(item(r)));
      if (mine.length && others.length) {
        menu.append(el("li", {}, el("hr", { class: "dropdown-divider" })));
        menu.append(el("li", {}, el("h4", { class: "dropdown-header", text: t("otherLanguages") })));
      }
      others.forEach((r) => menu.append(item(r)));
    }

    insertText(text) {
      const box = this.els.reply;
      if (box.disabled) return;
      const start = box.selectionStart !== undefined ? box.selectionStart : box.value.length;
      const end = box.selectionEnd !== undefined ? box.selectionEnd : box.value.length;
      const before = box.value.slice(0, start);
      const after = box.value.slice(end);
      const joiner = before && !/\s$/.test(before) ? "\n" : "";
      box.value = before + joiner + text + after;
      const caret = (before + joiner + text).length;
      box.focus();
      box.setSelectionRange(caret, caret);
    }

    // --- conversation ---
    requestHistory() {
      if (this.historyRequested || this.historyLoaded) return;
      if (send({ type: "history", contact_id: this.id })) this.historyRequested = true;
    }

    onDisconnect() {
      if (!this.historyLoaded) this.historyRequested = false;
      for (const item of this.pending.values()) window.clearTimeout(item.timer);
    }

    onHistory(messages) {
      this.historyLoaded = true;
      for (const message of messages) this.addMessage(message, false);
      this.scrollToEnd(true);
      this.maybeAck();
      this.scheduleSuggestions();
    }

    // Returns true when the message was new here.
    addMessage(message, live) {
      if (message.id > highestId) highestId = message.id;
      if (this.messages.has(message.id)) {
        // Seen already: only the delivery state can have moved on.
        if (message.delivered_at) this.setDelivered(this.messages.get(message.id));
        return false;
      }
      const stick = this.isNearEnd();
      let li = null;
      const mine = message.sender === "agent" && message.client_id && this.pending.get(message.client_id);
      if (mine) {
        window.clearTimeout(mine.timer);
        this.pending.delete(message.client_id);
        li = mine.li;
        li.classList.remove("is-pending", "is-failed");
        this.fillMessage(li, message);
      } else {
        li = el("li");
        this.fillMessage(li, message);
      }
      this.messages.set(message.id, li);
      this.place(li, message.id);
      if (message.sender === "citizen") {
        this.citizenTyping(false);
        if (live) {
          if (!this.isActive() || document.visibilityState !== "visible") {
            this.unread += 1;
            this.renderUnread();
          }
          announce(t("newMessage", { name: message.sender_name || this.name, text: (message.text || "").slice(0, 140) }));
          this.scheduleSuggestions();
        }
        this.maybeAck();
      }
      if (stick || mine) this.scrollToEnd(true);
      return true;
    }

    // Keep the list ordered by id; unsent bubbles stay at the end.
    place(li, id) {
      li.dataset.id = String(id);
      const items = this.els.log.children;
      for (const item of items) {
        if (item === li) continue;
        const other = item.dataset.id ? Number(item.dataset.id) : Infinity;
        if (other > id) {
          if (item.previousElementSibling !== li) this.els.log.insertBefore(li, item);
          return;
        }
      }
      if (this.els.log.lastElementChild !== li) this.els.log.append(li);
    }

    fillMessage(li, message) {
      const own = message.sender === "agent";
      const kind = message.internal ? "internal" : message.sender;
      // A supervisor's whisper: internal like a note, but marked as theirs.
      const whisper = message.sender === "supervisor";
      li.className = `msg msg-${kind}` + (whisper ? " msg-whisper" : "");
      li.textContent = "";
      if (message.client_id) li.dataset.clientId = message.client_id;
      const bubble = el("div", { class: "msg-bubble" });
      if (message.internal) {
        bubble.append(el("span", { class: "msg-label" },
          el("i", { class: `bi ${whisper ? "bi-headset" : "bi-lock-fill"}`, "aria-hidden": "true" }),
          ` ${t(whisper ? "supervisorWhisper" : "internalNote")}: `));
      }
      if (message.text) bubble.append(document.createTextNode(message.text));
      if (message.attachments && message.attachments.length) {
        const files = el("div", { class: "msg-attachments" });
        for (const item of message.attachments) {
          if ((item.content_type || "").startsWith("image/")) {
            files.append(el("a", { href: item.url, target: "_blank", rel: "noopener" },
              el("img", { src: item.url, alt: t("attachmentImage", { name: item.name }), loading: "lazy" })));
          } else {
            const icon = item.content_type === "application/pdf" ? "bi-file-earmark-pdf" : "bi-file-earmark";
            files.append(el("a", { class: "file-link", href: item.url, target: "_blank", rel: "noopener" },
              el("i", { class: `bi ${icon}`, "aria-hidden": "true" }),
              `${item.name} (${Math.max(1, Math.round((item.size || 0) / 1024))} KB)`));
          }
        }
        bubble.append(files);
      }
      li.append(bubble);
      let who;
      if (message.sender === "system") who = t("systemMessage");
      else if (message.sender === "bot") who = message.sender_name || t("botMessage");
      else if (own) who = message.sender_name || cfg.agentName;
      else who = message.sender_name || t("citizen");
      const meta = el("div", { class: "msg-meta" },
        `${who} · `,
        el("time", { datetime: message.created_at || "" , text: hhmm(message.created_at) }));
      if (own && !message.internal) {
        meta.append(el("span", { class: "msg-state js-state" }));
      }
      li.append(meta);
      if (own && !message.internal) {
        if (!message.id) this.setStateText(li, "sending");
        else if (message.delivered_at || message.id <= this.deliveredUpTo) this.setDelivered(li);
        else this.setStateText(li, "sent");
      }
    }

    setStateText(li, state) {
      const slot = li.querySelector(".js-state");
      if (!slot) return;
      li.dataset.state = state;
      slot.className = `msg-state js-state is-${state}`;
      slot.textContent = "";
      const icons = { sending: "bi-clock", sent: "bi-check2", delivered: "bi-check2-all", failed: "bi-exclamation-circle" };
      const labels = { sending: t("sending"), sent: t("sent"), delivered: t("delivered"), failed: t("notSent") };
      slot.append(el("i", { class: `bi ${icons[state]}`, "aria-hidden": "true" }), ` ${labels[state]}`);
      if (state === "failed") {
        slot.append(" ", el("button", { type: "button", class: "btn btn-link js-retry", text: t("retry") }));
      }
    }

    setDelivered(li) {
      if (li && li.querySelector(".js-state") && li.dataset.id) this.setStateText(li, "delivered");
    }

    markDelivered(upTo) {
      if (upTo > this.deliveredUpTo) this.deliveredUpTo = upTo;
      for (const [id, li] of this.messages) {
        if (id <= upTo && li.dataset.state === "sent") this.setDelivered(li);
      }
    }

    sendReply() {
      const box = this.els.reply;
      const text = box.value.trim();
      if (!text) return;
      const internal = this.els.note.checked || this.isWrapup();
      const clientId = newClientId();
      const message = {
        id: null, contact_id: this.id, sender: "agent", sender_name: cfg.agentName, text,
        attachments: [], internal, client_id: clientId, created_at: null,
      };
      const li = el("li", { class: "is-pending" });
      this.fillMessage(li, message);
      li.classList.add("is-pending");
      this.els.log.append(li);
      const frame = { type: "message.send", contact_id: this.id, text, client_id: clientId, internal };
      this.pending.set(clientId, { li, frame, attempts: 0, timer: null });
      box.value = "";
      this.scrollToEnd(true);
      this.transmit(clientId);
      box.focus();
    }

    transmit(clientId) {
      const item = this.pending.get(clientId);
      if (!item) return;
      if (!item.frame.internal && this.isWrapup()) {
        this.failPending(clientId);
        return;
      }
      this.setStateText(item.li, "sending");
      item.li.classList.add("is-pending");
      item.li.classList.remove("is-failed");
      if (resuming || !send(item.frame)) return; // sent after the next resume
      item.attempts += 1;
      window.clearTimeout(item.timer);
      item.timer = window.setTimeout(() => this.failPending(clientId), 10000);
    }

    flushOutbox() {
      for (const [clientId, item] of this.pending) {
        if (item.li.dataset.state !== "sending") continue;
        // One automatic resend after a reconnect; after that the agent decides (Retry).
        if (item.attempts >= 2) this.failPending(clientId);
        else this.transmit(clientId);
      }
    }

    failPending(clientId) {
      const item = clientId && this.pending.get(clientId);
      if (!item) return;
      window.clearTimeout(item.timer);
      item.li.classList.remove("is-pending");
      item.li.classList.add("is-failed");
      this.setStateText(item.li, "failed");
    }

    retry(clientId) {
      const item = this.pending.get(clientId);
      if (!item) return;
      item.attempts = 0;
      this.transmit(clientId);
    }

    maybeAck() {
      if (!this.isActive() || document.visibilityState !== "visible") return;
      let upTo = 0;
      for (const [id, li] of this.messages) if (id > upTo && li.classList.contains("msg-citizen")) upTo = id;
      if (upTo > this.ackedUpTo && send({ type: "ack", contact_id: this.id, up_to_id: upTo })) {
        this.ackedUpTo = upTo;
      }
    }

    renderUnread() {
      this.tabEls.unread.hidden = this.unread === 0;
      this.tabEls.unread.textContent = this.unread ? String(this.unread) : "";
      this.tabEls.unreadSr.textContent = this.unread ? `, ${t("unread", { count: this.unread })}` : "";
      updateTitle();
    }

    isNearEnd() {
      const log = this.els.log;
      return log.scrollHeight - log.scrollTop - log.clientHeight < 80;
    }

    scrollToEnd(force) {
      if (force || this.isNearEnd()) this.els.log.scrollTop = this.els.log.scrollHeight;
    }

    showTyping(who, name) {
      if (who === "citizen") this.citizenTyping(true, name);
      else this.citizenTyping(true, name || t("citizen"));
    }

    citizenTyping(on, name) {
      window.clearTimeout(this.typingTimer);
      if (!on) {
        this.els.typing.textContent = "";
        this.tabEls.typing.hidden = true;
        return;
      }
      this.els.typing.textContent = t("typing", { name: name || this.name });
      this.tabEls.typing.hidden = false;
      this.typingTimer = window.setTimeout(() => this.citizenTyping(false), 3000);
    }

    // --- attachments ---
    async upload(file) {
      const button = this.els.attach;
      const label = button.innerHTML;
      button.disabled = true;
      button.textContent = t("uploading");
      const body = new FormData();
      body.append("file", file);
      try {
        const response = await fetch(urlFor(cfg.attachmentUrl, this.id), {
          method: "POST", credentials: "same-origin", headers: { "X-CSRFToken": cfg.csrf }, body,
        });
        let data = null;
        try { data = await response.json(); } catch (e) { data = null; }
        if (response.ok && data && data.message) {
          this.addMessage(data.message, false);
          this.scrollToEnd(true);
        } else {
          showAlert(this.els.alerts, (data && data.message) || t("uploadFailed"), "danger");
        }
      } catch (e) {
        showAlert(this.els.alerts, t("uploadFailed"), "danger");
      } finally {
        button.innerHTML = label;
        button.disabled = this.isWrapup();
      }
    }

    // --- side panel (citizen + ticket, server-rendered) ---
    async loadPanel() {
      const box = this.els.panel;
      box.setAttribute("aria-busy", "true");
      try {
        const response = await fetch(urlFor(cfg.panelUrl, this.id), {
          credentials: "same-origin", headers: { "HX-Request": "true" },
        });
        if (!response.ok) throw new Error(String(response.status));
        const html = await response.text();
        if (!tabs.has(this.id)) return;
        box.innerHTML = html;
        this.preparePanel(box);
        if (window.htmx) window.htmx.process(box);
      } catch (e) {
        box.textContent = "";
        const retry = el("button", { type: "button", class: "btn btn-sm btn-outline-secondary ms-2", text: t("retry") });
        retry.addEventListener("click", () => this.loadPanel());
        box.append(el("div", { class: "alert alert-warning py-2", role: "alert" }, t("panelFailed"), retry));
      } finally {
        box.setAttribute("aria-busy", "false");
      }
    }

    preparePanel(container) {
      uniqueFormIds(container, this.id);
      const body = container.querySelector(".ticket-panel-body");
      if (body && body.dataset.ticketNumber) this.setTicket(body.dataset.ticketNumber);
    }

    // --- knowledge ---
    kbFromInput() {
      const query = this.els.kbInput.value.trim();
      if (query) this.kbSearch(query, false);
      else if (this.autoQuery) this.kbSearch(this.autoQuery, true);
      else {
        this.els.kbResults.textContent = "";
        this.els.kbCaption.textContent = t("kbHint");
      }
    }

    scheduleSuggestions() {
      window.clearTimeout(this.autoTimer);
      this.autoTimer = window.setTimeout(() => {
        const texts = [];
        for (const li of this.els.log.querySelectorAll(".msg-citizen .msg-bubble")) {
          const text = [...li.childNodes].filter((n) => n.nodeType === Node.TEXT_NODE).map((n) => n.textContent).join(" ").trim();
          if (text) texts.push(text);
        }
        // The citizen's last two messages that say something ("네 감사합니다" does not): the
        // latest question with the one before it as context; else the latest as it is.
        const substantial = texts.filter((text) => text.replace(/\s/g, "").length >= 8);
        const picked = substantial.length ? substantial.slice(-2) : texts.slice(-1);
        const query = picked.join(" ").replace(/\s+/g, " ").trim().slice(-200);
        if (!query || query === this.autoQuery) return;
        this.autoQuery = query;
        if (!this.els.kbInput.value.trim()) this.kbSearch(query, true);
      }, 400);
    }

    async kbSearch(query, auto) {
      const seq = ++this.kbSeq;
      const url = `${cfg.kbSearchUrl}?${new URLSearchParams({ q: query.slice(0, 200), limit: "5" })}`;
      try {
        const response = await fetch(url, { credentials: "same-origin" });
        const data = await response.json();
        if (seq !== this.kbSeq) return; // a newer search answered first
        if (!response.ok) throw new Error(data.error || String(response.status));
        this.renderKb(data.results || [], auto ? t("kbSuggested") : t("kbResults", { q: query }));
      } catch (e) {
        if (seq === this.kbSeq) this.els.kbCaption.textContent = t("kbFailed");
      }
    }

    renderKb(results, caption) {
      const list = this.els.kbResults;
      list.textContent = "";
      this.els.kbCaption.textContent = results.length ? caption : `${caption} — ${t("kbNone")}`;
      for (const article of results) {
        const badges = el("span", { class: "ms-1" });
        if (article.needs_review) badges.append(el("span", { class: "badge text-bg-danger me-1", text: t("needsReview") }));
        if (article.status !== "published") badges.append(el("span", { class: "badge text-bg-secondary me-1", text: t("draft") }));
        const snippet = el("div", { class: "kb-snippet" });
        snippet.append(safeSnippet(article.snippet));
        const insert = el("button", {
          type: "button", class: "btn btn-sm btn-outline-primary",
          "aria-label": t("insertLabel", { title: article.title }),
        }, el("i", { class: "bi bi-box-arrow-in-down-left", "aria-hidden": "true" }), ` ${t("insert")}`);
        insert.disabled = !article.answer;
        insert.addEventListener("click", () => this.useArticle(article));
        list.append(el("li", {}, el("div", {}, el("span", { class: "kb-title", text: article.title }), badges), snippet, insert));
      }
    }

    useArticle(article) {
      const text = article.answer || "";
      // The ticket's "answer given" records what the citizen was told, in wrap-up too.
      this.fillAnswerGiven(text);
      if (!this.isWrapup() || this.els.note.checked) this.insertText(text);
      postForm(urlFor(cfg.kbUseUrl, article.id), { contact_id: String(this.id) }).catch(() => {});
    }

    fillAnswerGiven(text) {
      const box = this.els.panel.querySelector('textarea[name="answer"]');
      if (!box || !text || box.value.includes(text)) return;
      const current = box.value.replace(/\s+$/, "");
      box.value = current ? `${current}\n\n${text}` : text;
      box.dispatchEvent(new Event("input", { bubbles: true }));
    }

    destroy() {
      window.clearTimeout(this.typingTimer);
      window.clearTimeout(this.kbTimer);
      window.clearTimeout(this.autoTimer);
      for (const item of this.pending.values()) window.clearTimeout(item.timer);
      const wasActive = this.isActive();
      const hadFocus = this.pane.contains(document.activeElement) || this.li.contains(document.activeElement);
      if (window.bootstrap) {
        const instance = window.bootstrap.Tab.getInstance(this.button);
        if (instance) instance.dispose();
      }
      this.li.remove();
      this.pane.remove();
      return { wasActive, hadFocus };
    }
  }

  function upsertTab(contact, activate) {
    let tab = tabs.get(contact.id);
    if (tab) tab.update(contact);
    else {
      tab = new ContactTab(contact);
      tabs.set(contact.id, tab);
    }
    if (activate || !activeTab()) tab.activate();
    updateEmptyState();
    return tab;
  }

  function onContactAssigned(contact) {
    const isNew = !tabs.has(contact.id);
    const clicked = acceptedContacts.delete(contact.id);
    for (const [id, offer] of offers) if (offer.data.contact_id === contact.id) removeOffer(id, "accepted");
    const tab = upsertTab(contact, clicked);
    if (isNew) announce(t("newContact", { name: tab.name }));
    if (clicked) tab.els.reply.focus();
  }

  function onContactUpdated(contact) {
    const tab = tabs.get(contact.id);
    if (tab) tab.update(contact);
  }

  function removeTab(contactId, reason, quiet) {
    const tab = tabs.get(contactId);
    if (!tab) return;
    tabs.delete(contactId);
    if (transferTab === tab && transferModal) transferModal.hide();
    const name = tab.name;
    const { wasActive, hadFocus } = tab.destroy();
    if (wasActive && tabs.size) tabs.values().next().value.activate();
    if (hadFocus) focusWorkspace();
    if (!quiet) announce(reason === "transferred" ? t("contactTransferred", { name }) : t("contactRemoved", { name }));
    updateEmptyState();
    updateTitle();
  }

  function onMessage(message, live) {
    if (!message) return;
    if (message.id > highestId) highestId = message.id;
    const tab = tabs.get(message.contact_id);
    if (tab) tab.addMessage(message, live);
  }

  document.addEventListener("visibilitychange", () => {
    const tab = activeTab();
    if (tab && document.visibilityState === "visible") {
      tab.unread = 0;
      tab.renderUnread();
      tab.maybeAck();
    }
  });

  // --- Transfer dialog -----------------------------------------------------------------------
  const transferEl = document.getElementById("transfer-modal");
  const transferModal = window.bootstrap ? window.bootstrap.Modal.getOrCreateInstance(transferEl) : null;
  const transferForm = document.getElementById("transfer-form");
  const transferAgents = document.getElementById("transfer-agents");
  const transferQueues = document.getElementById("transfer-queues");
  const transferNote = document.getElementById("transfer-note");
  const transferError = document.getElementById("transfer-error");
  const transferLoading = transferEl.querySelector(".js-transfer-loading");
  let transferTab = null;

  function option(kind, item, label, extra) {
    const id = `transfer-${kind}-${item.id}`;
    return el("div", { class: "form-check" },
      el("input", { class: "form-check-input", type: "radio", name: "transfer-target", id, value: `${kind}:${item.id}` }),
      el("label", { class: "form-check-label", for: id }, label, extra || null));
  }

  async function openTransfer(tab) {
    if (!transferModal) return;
    transferTab = tab;
    transferAgents.textContent = "";
    transferQueues.textContent = "";
    transferNote.value = "";
    transferError.textContent = "";
    transferLoading.hidden = false;
    transferEl.querySelector(".js-transfer-who").textContent = t("transferWho", { name: tab.name });
    transferModal.show();
    try {
      const response = await fetch(cfg.transferTargetsUrl, { credentials: "same-origin" });
      if (!response.ok) throw new Error(String(response.status));
      const data = await response.json();
      if (transferTab !== tab) return;
      for (const agent of data.agents || []) {
        transferAgents.append(option("agent", agent, agent.name,
          el("span", { class: `badge rounded-pill presence-badge presence-${agent.presence} ms-2`, text: PRESENCE[agent.presence] || agent.presence })));
      }
      if (!transferAgents.children.length) transferAgents.append(el("p", { class: "small text-body-secondary mb-0", text: t("transferNoAgents") }));
      const channel = tab.contact.channel;
      const queues = (data.queues || []).filter((q) => !q.channels || q.channels.includes(channel));
      for (const queue of queues) transferQueues.append(option("queue", queue, queue.name));
      if (!queues.length) transferQueues.append(el("p", { class: "small text-body-secondary mb-0", text: t("transferNoQueues") }));
    } catch (e) {
      transferError.textContent = t("transferFailed");
    } finally {
      transferLoading.hidden = true;
    }
  }

  if (transferForm) {
    transferForm.addEventListener("submit", (event) => {
      event.preventDefault();
      const chosen = transferForm.querySelector("input[name=transfer-target]:checked");
      if (!chosen || !transferTab) {
        transferError.textContent = t("transferChoose");
        return;
      }
      const [kind, id] = chosen.value.split(":");
      const frame = { type: "contact.transfer", contact_id: transferTab.id, note: transferNote.value.trim() };
      frame[kind === "agent" ? "to_agent_id" : "to_queue_id"] = Number(id);
      if (send(frame)) transferModal.hide();
    });
    transferEl.addEventListener("hidden.bs.modal", () => {
      const tab = transferTab;
      transferTab = null;
      if (tab && tabs.has(tab.id)) tab.els.transfer.focus();
    });
  }

  // --- Citizen panel: reveal the phone (logged server-side) ----------------------------------
  root.addEventListener("click", async (event) => {
    const button = event.target.closest(".js-reveal-phone");
    if (!button) return;
    button.disabled = true;
    const slot = button.parentElement.querySelector(".js-phone");
    try {
      const response = await postForm(button.dataset.url, { reason: "console" });
      const data = await response.json();
      if (!response.ok || !data.phone) throw new Error(String(response.status));
      slot.textContent = data.phone;
      button.remove();
    } catch (e) {
      button.disabled = false;
      const tab = tabs.get(Number(button.closest("[data-contact-panel]").dataset.contactPanel));
      showAlert(tab ? tab.els.alerts : consoleAlerts, t("phoneFailed"), "warning");
    }
  });

  // --- htmx: the ticket form posts itself; show 422 answers (form errors) too -----------------
  document.body.addEventListener("htmx:beforeSwap", (event) => {
    if (event.detail.xhr && event.detail.xhr.status === 422) {
      event.detail.shouldSwap = true;
      event.detail.isError = false;
    }
  });
  document.body.addEventListener("htmx:afterSwap", (event) => {
    const target = event.detail.target;
    if (!target || !target.matches("[data-ticket-panel]")) return;
    const tab = tabs.get(Number(target.dataset.ticketPanel));
    if (!tab) return;
    tab.preparePanel(target);
    const invalid = target.querySelector(".is-invalid, .alert-danger");
    const message = target.querySelector(".js-ticket-message");
    if (invalid) {
      const field = target.querySelector(".is-invalid") || invalid;
      if (field.focus) field.focus();
    } else if (message) {
      // Saved: refusals such as "save the ticket first" are out of date now.
      tab.els.alerts.textContent = "";
      message.focus();
      announce(message.textContent.trim());
    }
  });
  document.body.addEventListener("htmx:responseError", (event) => {
    const target = event.detail.target;
    if (!target || !target.matches("[data-ticket-panel]")) return;
    const tab = tabs.get(Number(target.dataset.ticketPanel));
    if (tab) showAlert(tab.els.alerts, t("ticketSaveFailed"), "danger");
  });
  document.body.addEventListener("htmx:sendError", (event) => {
    const target = event.detail.target;
    const tab = target && target.matches("[data-ticket-panel]") ? tabs.get(Number(target.dataset.ticketPanel)) : null;
    if (tab) showAlert(tab.els.alerts, t("ticketSaveFailed"), "danger");
  });

  connect();
})();
