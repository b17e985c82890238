// Open120 citizen web chat: start form, live conversation over /ws/chat/ (token as subprotocol), after-chat
// survey and transcript. No framework, no build step. Texts come from #chat-i18n (translated
// by the template); the protocol is described in docs/realtime.md.
(function () {
  "use strict";

  const STORAGE_KEY = "open120.chat";
  const RETRY_FIRST_MS = 500;
  const RETRY_MAX_MS = 15000;
  const TYPING_EVERY_MS = 2000;
  const TYPING_SHOWN_MS = 3000;
  const ALLOWED_TYPES = ["image/png", "image/jpeg", "image/gif", "image/webp", "application/pdf"];
  const ENDED_STATES = ["wrapup", "done", "abandoned", "ended"];

  const $ = (id) => document.getElementById(id);
  const main = $("main");
  const T = $("chat-i18n").dataset;
  const config = {
    startUrl: main.dataset.startUrl,
    maxBytes: parseInt(main.dataset.maxUploadBytes, 10) || 5 * 1024 * 1024,
    maxLabel: main.dataset.maxUploadLabel,
    embed: main.dataset.embed === "1",
  };

  const el = {
    shell: document.querySelector(".chat-shell"),
    conn: $("chat-conn"),
    endButton: $("chat-end-button"),
    closeWidget: $("chat-close-widget"),
    start: $("chat-start"),
    startForm: $("chat-start-form"),
    startSubmit: $("chat-start-submit"),
    startError: $("chat-start-error"),
    startNotice: $("chat-start-notice"),
    room: $("chat-room"),
    waiting: $("chat-waiting"),
    waitingTitle: $("chat-waiting-title"),
    waitingDetail: $("chat-waiting-detail"),
    noAgents: $("chat-no-agents"),
    callbackForm: $("chat-callback-form"),
    callbackToggle: $("chat-callback-toggle"),
    callbackPhone: $("chat-callback-phone"),
    callbackNote: $("chat-callback-note"),
    callbackError: $("chat-callback-error"),
    callbackSaved: $("chat-callback-saved"),
    noAgentsText: $("chat-no-agents-text"),
    endedTicket: $("chat-ended-ticket"),
    agentBar: $("chat-agent-bar"),
    agentText: $("chat-agent-text"),
    log: $("chat-log"),
    typing: $("chat-typing"),
    error: $("chat-error"),
    errorText: $("chat-error-text"),
    errorClose: $("chat-error-close"),
    compose: $("chat-compose"),
    input: $("chat-input"),
    attach: $("chat-attach"),
    file: $("chat-file"),
    ended: $("chat-ended"),
    endedHeading: $("chat-ended-heading"),
    endedDetail: $("chat-ended-detail"),
    csat: $("chat-csat"),
    csatThanks: $("chat-csat-thanks"),
    transcriptForm: $("chat-transcript-form"),
    transcriptTo: $("chat-transcript-to"),
    transcriptStatus: $("chat-transcript-status"),
    newChat: $("chat-new"),
    endModal: $("chat-end-modal"),
    endConfirm: $("chat-end-confirm"),
  };

  // --- helpers -----------------------------------------------------------------------------
  function fill(template, values) {
    return String(template || "").replace(/\{(\w+)\}/g, (whole, key) =>
      Object.prototype.hasOwnProperty.call(values, key) ? String(values[key]) : whole
    );
  }

  function show(node, visible) {
    if (node) node.hidden = !visible;
  }

  function newClientId() {
    if (window.crypto && typeof window.crypto.randomUUID === "function") {
      return window.crypto.randomUUID();
    }
    let random = "";
    if (window.crypto && window.crypto.getRandomValues) {
      const bytes = new Uint8Array(12);
      window.crypto.getRandomValues(bytes);
      random = Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
    } else {
      random = Math.random().toString(16).slice(2) + Math.random().toString(16).slice(2);
    }
    return `c-${Date.now().toString(36)}-${random}`;
  }

  // created_at is already in Asia/Seoul ("2026-11-26T17:40:00+09:00"): show it as given.
  function hhmm(iso) {
    const match = /T(\d{2}):(\d{2})/.exec(iso || "");
    return match ? `${match[1]}:${match[2]}` : "";
  }

  function humanSize(bytes) {
    if (bytes >= 1024 * 1024) return `${(bytes / (1024 * 1024)).toFixed(1)} MB`;
    if (bytes >= 1024) return `${Math.round(bytes / 1024)} KB`;
    return `${bytes} B`;
  }

  // The session survives reloads; storage may be unavailable (privacy modes, some iframes).
  let memoryStore = null;
  function loadSession() {
    try {
      const value = JSON.parse(window.localStorage.getItem(STORAGE_KEY) || "null");
      return value && typeof value.token === "string" ? value : null;
    } catch (error) {
      return memoryStore;
    }
  }
  function saveSession(value) {
    memoryStore = value;
    try {
      window.localStorage.setItem(STORAGE_KEY, JSON.stringify(value));
    } catch (error) {
      /* memory only */
    }
  }
  function clearSession() {
    memoryStore = null;
    try {
      window.localStorage.removeItem(STORAGE_KEY);
    } catch (error) {
      /* nothing stored */
    }
  }

  // --- state -------------------------------------------------------------------------------
  let session = null; // {token, contact_id, rated?}
  let socket = null;
  let connection = 0; // increases with every socket, so a pending message goes once per socket
  let resumed = false;
  let retryDelay = RETRY_FIRST_MS;
  let retryTimer = null;
  let lastId = 0; // the highest message id shown
  let deliveredUpTo = 0;
  let ackWanted = 0;
  let ackSent = 0;
  let chatState = null; // waiting | active | ended
  let hadAgent = false;
  let lastTypingSent = 0;
  let typingTimer = null;
  let waitingRequest = null; // callback | csat | transcript: where a refusal is shown
  let callbackSaved = false;
  const shown = new Map(); // message id → element
  const pending = new Map(); // client_id → {text, node, sentOn}

  function socketOpen() {
    return socket !== null && socket.readyState === WebSocket.OPEN;
  }

  function send(frame) {
    if (!socketOpen()) return false;
    socket.send(JSON.stringify(frame));
    return true;
  }

  function showConnection(text) {
    el.conn.textContent = text || "";
    show(el.conn, Boolean(text));
  }

  function showError(text) {
    el.errorText.textContent = text;
    show(el.error, true);
  }

  // --- socket ------------------------------------------------------------------------------
  function connect() {
    if (!session) return;
    window.clearTimeout(retryTimer);
    retryTimer = null;
    const scheme = window.location.protocol === "https:" ? "wss" : "ws";
    // The token travels as a WebSocket subprotocol, not in the URL: URLs end up in access logs.
    const url = `${scheme}://${window.location.host}/ws/chat/`;
    let ws;
    try {
      ws = new WebSocket(url, ["open120.chat", session.token]);
    } catch (error) {
      scheduleReconnect();
      return;
    }
    socket = ws;
    connection += 1;
    resumed = false;
    showConnection(retryDelay > RETRY_FIRST_MS ? T.reconnecting : T.connecting);

    ws.addEventListener("open", () => {
      if (socket !== ws) return;
      // Missed messages come first, then resume.done; the same call serves a page reload.
      send({ type: "resume", last_message_id: lastId });
    });
    ws.addEventListener("message", (event) => {
      if (socket !== ws) return;
      let frame;
      try {
        frame = JSON.parse(event.data);
      } catch (error) {
        return;
      }
      if (frame && typeof frame.type === "string") handleFrame(frame);
    });
    ws.addEventListener("close", (event) => {
      if (socket !== ws) return;
      socket = null;
      resumed = false;
      // 4404: unknown token; 4410: the chat ended and its after-end window has passed.
      if (event.code === 4404 || event.code === 4410) {
        clearSession();
        resetToStart(T.sessionGone);
        return;
      }
      if (!session) return;
      showConnection(T.reconnecting);
      scheduleReconnect();
    });
  }

  // After the end the token works only for a while (rating, transcript): then forget it.
  let forgetTimer = null;
  function forgetAfter(seconds) {
    if (typeof seconds !== "number" || forgetTimer || !session) return;
    const token = session.token;
    forgetTimer = window.setTimeout(() => {
      forgetTimer = null;
      if (!session || session.token !== token) return; // a new chat has started since
      clearSession();
      resetToStart(T.sessionGone);
    }, seconds * 1000);
  }

  function scheduleReconnect() {
    window.clearTimeout(retryTimer);
    retryTimer = window.setTimeout(connect, retryDelay);
    retryDelay = Math.min(retryDelay * 2, RETRY_MAX_MS);
  }

  function disconnect() {
    window.clearTimeout(retryTimer);
    retryTimer = null;
    const ws = socket;
    socket = null;
    if (ws) ws.close(1000);
  }

  window.addEventListener("online", () => {
    if (session && !socket) {
      retryDelay = RETRY_FIRST_MS;
      connect();
    }
  });

  function handleFrame(frame) {
    switch (frame.type) {
      case "hello":
        retryDelay = RETRY_FIRST_MS;
        showConnection("");
        if (frame.contact_id && session.contact_id !== frame.contact_id) {
          session.contact_id = frame.contact_id;
          saveSession(session);
        }
        applyState(frame.state, frame.agent_name, { live: false });
        forgetAfter(frame.closes_in_seconds);
        if (chatState === "waiting") {
          showPosition(frame.position, frame.eta_seconds);
          if (frame.no_agents) showNoAgents();
          else hideNoAgents();
        }
        showTicketNumber(frame.ticket_number);
        break;
      case "chat.ticket":
        showTicketNumber(frame.number);
        break;
      case "queue.position":
        // Positions are only announced while someone who can answer is logged in.
        if (chatState === "waiting") {
          showPosition(frame.position, frame.eta_seconds);
          hideNoAgents();
        }
        break;
      case "queue.no_agents":
        if (chatState === "waiting") showNoAgents();
        break;
      case "chat.state":
        applyState(frame.state, frame.agent_name, { live: true });
        break;
      case "message.created":
        if (frame.message) addMessage(frame.message);
        break;
      case "message.delivered":
        markDelivered(frame.up_to_id);
        break;
      case "typing":
        showTyping(frame.name);
        break;
      case "chat.ended":
        endChat(frame.by, null, { live: true });
        forgetAfter(frame.closes_in_seconds);
        break;
      case "chat.moved":
        session.contact_id = frame.new_contact_id;
        saveSession(session);
        addLocalNotice(T.moved);
        showPosition(null, null);
        applyState("waiting", null, { live: true });
        break;
      case "csat.saved":
        waitingRequest = null;
        session.rated = true;
        saveSession(session);
        show(el.csat, false);
        el.csatThanks.textContent = T.csatThanks;
        show(el.csatThanks, true);
        el.csatThanks.focus(); // the pressed button is gone: keep the reader's place
        break;
      case "callback.saved":
        waitingRequest = null;
        callbackSaved = true;
        show(el.callbackForm, false);
        show(el.callbackToggle, false);
        show(el.noAgentsText, false);
        el.callbackSaved.textContent = T.callbackSaved;
        show(el.callbackSaved, true);
        break;
      case "transcript.sent":
        waitingRequest = null;
        el.transcriptStatus.textContent = frame.via === "sms" ? T.transcriptSms : T.transcriptEmail;
        el.transcriptStatus.className = "small mt-1 mb-0 chat-confirm";
        break;
      case "resume.done":
        resumed = true;
        if (Number.isInteger(frame.last_message_id)) lastId = Math.max(lastId, frame.last_message_id);
        flushPending();
        sendAck();
        break;
      case "error":
        handleRefusal(frame);
        break;
      default:
        break; // pong and frames this page does not use
    }
  }

  function handleRefusal(frame) {
    if (frame.code === "unknown_session" || frame.code === "session_expired") return; // the close follows
    const text = fill(T.refused, { message: frame.message || frame.code });
    const refused = typeof frame.client_id === "string" ? pending.get(frame.client_id) : null;
    if (refused) {
      // The server will never store this one: stop resending it after every reconnect.
      pending.delete(frame.client_id);
      saveOutbox();
      refused.node.classList.remove("msg-pending");
      setDelivery(refused.node, "failed");
      showError(text);
      return;
    }
    if (waitingRequest === "callback") {
      el.callbackError.textContent = text;
      show(el.callbackError, true);
      el.callbackForm.querySelector("button[type=submit]").disabled = false;
    } else if (waitingRequest === "csat") {
      el.csatThanks.textContent = text;
      show(el.csatThanks, true);
      el.csat.querySelectorAll("button").forEach((b) => {
        b.removeAttribute("aria-disabled");
        b.removeAttribute("aria-pressed");
      });
    } else if (waitingRequest === "transcript") {
      el.transcriptStatus.textContent = text;
      el.transcriptStatus.className = "small mt-1 mb-0 chat-error-text";
    } else {
      showError(text);
    }
    waitingRequest = null;
  }

  // --- states ------------------------------------------------------------------------------
  function applyState(state, agentName, { live }) {
    if (ENDED_STATES.includes(state)) {
      endChat(null, state, { live });
      return;
    }
    show(el.ended, false);
    show(el.compose, true);
    show(el.endButton, true);
    if (state === "active") {
      chatState = "active";
      hadAgent = true;
      show(el.waiting, false);
      el.agentText.textContent = agentName
        ? fill(T.connectedWith, { agent: agentName })
        : T.connectedAgent;
      show(el.agentBar, true);
    } else {
      chatState = "waiting";
      show(el.agentBar, false);
      show(el.waiting, true);
    }
  }

  let queueInfo = { position: null, eta: null };

  function showPosition(position, etaSeconds) {
    queueInfo = { position, eta: etaSeconds };
    renderPosition();
  }

  function renderPosition() {
    const { position, eta } = queueInfo;
    const parts = [];
    // With nobody logged in who can answer, a place in the queue or an estimated wait would
    // only mislead: the no-agent notice and its call-back choice stand alone.
    if (!el.noAgents.hidden) {
      el.waitingDetail.textContent = "";
      return;
    }
    if (Number.isInteger(position) && position > 0) {
      parts.push(position === 1 ? T.positionNext : fill(T.position, { position }));
    }
    if (typeof eta === "number" && eta >= 0) {
      parts.push(
        eta < 60 ? T.etaSoon : fill(T.etaMinutes, { minutes: Math.max(1, Math.round(eta / 60)) })
      );
    }
    el.waitingDetail.textContent = parts.join(" ");
  }

  // The ticket the agent filed: on the end screen, to look it up later on /track/.
  function showTicketNumber(number) {
    if (!number) return;
    el.endedTicket.textContent = fill(T.ticketNumber, { number });
    show(el.endedTicket, true);
  }

  function showNoAgents() {
    show(el.noAgents, true);
    renderPosition();
  }

  function hideNoAgents() {
    if (waitingRequest === "callback" || callbackSaved || el.noAgents.hidden) return;
    show(el.noAgents, false);
    renderPosition();
  }

  function endChat(by, state, { live }) {
    const wasEnded = chatState === "ended";
    chatState = "ended";
    show(el.waiting, false);
    show(el.agentBar, false);
    show(el.compose, false);
    show(el.endButton, false);
    hideTyping();
    hideEndModal();
    // Messages that never reached the server will not go any more.
    pending.forEach((item) => setDelivery(item.node, "failed"));
    pending.clear();
    saveOutbox();
    if (by === "agent") el.endedDetail.textContent = T.endedAgent;
    else if (by === "citizen") el.endedDetail.textContent = T.endedCitizen;
    else if (by === "callback") el.endedDetail.textContent = T.endedCallback;
    else if (!wasEnded) el.endedDetail.textContent = T.ended;
    const answered = state ? state === "wrapup" || state === "done" : hadAgent && by !== "callback";
    if (!wasEnded) show(el.csat, answered && !(session && session.rated));
    show(el.ended, true);
    if (live && !wasEnded) el.endedHeading.focus();
  }

  // --- messages ----------------------------------------------------------------------------
  const URL_PATTERN = /\bhttps?:\/\/[^\s<>"']+/gi;

  function appendText(container, text) {
    let last = 0;
    for (const match of text.matchAll(URL_PATTERN)) {
      const url = match[0].replace(/[).,!?'"\]]+$/, "");
      const start = match.index;
      if (start > last) container.append(text.slice(last, start));
      const link = document.createElement("a");
      link.href = url;
      link.target = "_blank";
      link.rel = "noopener noreferrer";
      link.textContent = url;
      container.append(link);
      last = start + url.length;
    }
    if (last < text.length) container.append(text.slice(last));
  }

  function timeElement(iso) {
    const time = document.createElement("time");
    if (iso) time.dateTime = iso;
    time.textContent = hhmm(iso);
    return time;
  }

  function senderLabel(message) {
    if (message.sender === "agent") return message.sender_name || T.agent;
    if (message.sender === "bot") return message.sender_name || T.assistant;
    return "";
  }

  function renderAttachments(container, attachments) {
    for (const item of attachments || []) {
      const wrap = document.createElement("div");
      wrap.className = "msg-attachment";
      const link = document.createElement("a");
      link.href = item.url;
      link.target = "_blank";
      link.rel = "noopener noreferrer";
      if (String(item.content_type || "").startsWith("image/")) {
        const img = document.createElement("img");
        img.src = item.url;
        img.alt = fill(T.image, { name: item.name });
        img.loading = "lazy";
        img.decoding = "async";
        link.append(img);
        link.className = "msg-image-link";
      } else {
        const icon = document.createElement("i");
        icon.className = "bi bi-file-earmark-pdf";
        icon.setAttribute("aria-hidden", "true");
        link.append(icon, " ", fill(T.openFile, { name: item.name, size: humanSize(item.size || 0) }));
        link.className = "msg-file-link";
      }
      wrap.append(link);
      container.append(wrap);
    }
  }

  function renderMessage(message, { isPending = false } = {}) {
    const node = document.createElement("div");
    if (message.sender === "system") {
      node.className = "msg msg-system";
      const p = document.createElement("p");
      const icon = document.createElement("i");
      icon.className = "bi bi-info-circle";
      icon.setAttribute("aria-hidden", "true");
      const label = document.createElement("span");
      label.className = "visually-hidden";
      label.textContent = `${T.notice}: `;
      const body = document.createElement("span");
      appendText(body, message.text || "");
      p.append(icon, " ", label, body, " ", timeElement(message.created_at));
      node.append(p);
    } else {
      const mine = message.sender === "citizen";
      node.className = `msg ${mine ? "msg-mine" : "msg-theirs"}${message.sender === "bot" ? " msg-bot" : ""}`;
      const bubble = document.createElement("div");
      bubble.className = "msg-bubble";
      const who = document.createElement(mine ? "span" : "p");
      if (mine) {
        who.className = "visually-hidden";
        who.textContent = `${T.you}: `;
      } else {
        who.className = "msg-sender";
        who.textContent = senderLabel(message);
      }
      bubble.append(who);
      if (message.text) {
        const text = document.createElement("div");
        text.className = "msg-text";
        appendText(text, message.text);
        bubble.append(text);
      }
      renderAttachments(bubble, message.attachments);
      const attachments = message.attachments || [];
      if (!message.text && attachments.length &&
          attachments.every((a) => String(a.content_type || "").startsWith("image/"))) {
        bubble.classList.add("msg-media"); // a photo on its own needs no bubble around it
      }
      const meta = document.createElement("div");
      meta.className = "msg-meta";
      meta.append(timeElement(message.created_at));
      if (mine) {
        const state = document.createElement("span");
        state.className = "msg-state";
        meta.append(state);
      }
      node.append(bubble, meta);
      if (mine) setDelivery(node, isPending ? "sending" : message.delivered_at ? "delivered" : "sent");
    }
    if (message.id) node.dataset.id = String(message.id);
    if (message.client_id) node.dataset.clientId = message.client_id;
    if (isPending) node.classList.add("msg-pending");
    return node;
  }

  function setDelivery(node, state) {
    const slot = node && node.querySelector(".msg-state");
    if (!slot) return;
    if (slot.dataset.state === "delivered" && state !== "delivered") return;
    slot.dataset.state = state;
    const icons = {
      sending: "bi-clock",
      sent: "bi-check2",
      delivered: "bi-check2-all",
      failed: "bi-exclamation-circle",
    };
    const labels = { sending: T.sending, sent: T.sent, delivered: T.delivered, failed: T.notSent };
    const icon = document.createElement("i");
    icon.className = `bi ${icons[state]}`;
    icon.setAttribute("aria-hidden", "true");
    slot.replaceChildren(icon, ` ${labels[state]}`);
  }

  function nearBottom() {
    const log = el.log;
    return log.scrollHeight - log.scrollTop - log.clientHeight < 80;
  }

  function scrollToBottom() {
    el.log.scrollTop = el.log.scrollHeight;
    pinnedToBottom = true;
  }

  // When panels above or below the log open or close, keep the newest message in view.
  let pinnedToBottom = true;
  el.log.addEventListener("scroll", () => {
    pinnedToBottom = nearBottom();
  });
  if (window.ResizeObserver) {
    new ResizeObserver(() => {
      if (pinnedToBottom) el.log.scrollTop = el.log.scrollHeight;
    }).observe(el.log);
  }

  // Keep the log in id order; messages not yet stored (pending, uploads) stay last.
  function insertInOrder(node, id) {
    let before = null;
    for (const child of el.log.children) {
      const childId = Number(child.dataset.id || 0);
      if ((!childId && child.classList.contains("msg-pending")) || childId > id) {
        before = child;
        break;
      }
    }
    el.log.insertBefore(node, before);
  }

  function addMessage(message) {
    if (message.internal || !Number.isInteger(message.id)) return;
    if (shown.has(message.id)) return; // a resume or an upload answer repeating a message
    const stick = nearBottom();
    lastId = Math.max(lastId, message.id);
    let node = null;
    if (message.sender === "citizen" && message.client_id) {
      const waitingItem = pending.get(message.client_id);
      if (waitingItem) {
        node = waitingItem.node;
        pending.delete(message.client_id);
        saveOutbox();
      } else {
        node = Array.from(el.log.querySelectorAll(".msg-pending")).find(
          (n) => n.dataset.clientId === message.client_id
        );
      }
    }
    if (node) {
      // The echo of our own optimistic bubble: fill it in where it stands.
      node.classList.remove("msg-pending");
      node.dataset.id = String(message.id);
      const time = node.querySelector("time");
      if (time) {
        time.dateTime = message.created_at || "";
        time.textContent = hhmm(message.created_at);
      }
      setDelivery(node, message.delivered_at || message.id <= deliveredUpTo ? "delivered" : "sent");
    } else {
      node = renderMessage(message);
      insertInOrder(node, message.id);
      if (message.sender === "citizen" && message.id <= deliveredUpTo) setDelivery(node, "delivered");
    }
    shown.set(message.id, node);
    if (message.sender !== "citizen") {
      ackWanted = Math.max(ackWanted, message.id);
      if (message.sender === "agent") hideTyping();
      sendAck();
    }
    if (stick || message.sender === "citizen") scrollToBottom();
  }

  function addLocalNotice(text) {
    const node = renderMessage({ sender: "system", text, created_at: null });
    node.classList.add("msg-local");
    el.log.append(node);
    scrollToBottom();
  }

  function markDelivered(upTo) {
    if (!Number.isInteger(upTo)) return;
    deliveredUpTo = Math.max(deliveredUpTo, upTo);
    shown.forEach((node, id) => {
      if (id <= upTo && node.classList.contains("msg-mine")) setDelivery(node, "delivered");
    });
  }

  // Tell the server what the citizen has seen (only while the page is visible).
  function sendAck() {
    if (ackWanted <= ackSent || !resumed || document.visibilityState === "hidden") return;
    if (send({ type: "ack", up_to_id: ackWanted })) ackSent = ackWanted;
  }
  document.addEventListener("visibilitychange", sendAck);

  function flushPending() {
    if (!socketOpen() || !resumed) return;
    pending.forEach((item, clientId) => {
      if (item.sentOn === connection) return;
      if (send({ type: "message.send", text: item.text, client_id: clientId })) {
        item.sentOn = connection;
      }
    });
  }

  // Messages not yet confirmed survive a reload: they are shown again and sent after the
  // resume unless the server's replay shows they were stored (matched by client_id).
  function saveOutbox() {
    if (!session) return;
    session.outbox = Array.from(pending, ([clientId, item]) => ({ client_id: clientId, text: item.text }));
    if (!session.outbox.length) delete session.outbox;
    saveSession(session);
  }

  function restoreOutbox() {
    for (const item of (session && session.outbox) || []) {
      if (!item || typeof item.text !== "string" || typeof item.client_id !== "string") continue;
      const node = renderMessage(
        { sender: "citizen", text: item.text, client_id: item.client_id, created_at: null },
        { isPending: true }
      );
      el.log.append(node);
      pending.set(item.client_id, { text: item.text, node, sentOn: 0 });
    }
  }

  function sendMessage(text) {
    const clientId = newClientId();
    const node = renderMessage(
      { sender: "citizen", text, client_id: clientId, created_at: null },
      { isPending: true }
    );
    el.log.append(node);
    pending.set(clientId, { text, node, sentOn: 0 });
    saveOutbox();
    scrollToBottom();
    flushPending();
  }

  // --- typing ------------------------------------------------------------------------------
  function showTyping(name) {
    if (chatState === "ended") return;
    el.typing.textContent = name ? fill(T.typing, { name }) : T.typingAgent;
    show(el.typing, true);
    window.clearTimeout(typingTimer);
    typingTimer = window.setTimeout(hideTyping, TYPING_SHOWN_MS);
  }

  function hideTyping() {
    window.clearTimeout(typingTimer);
    el.typing.textContent = "";
  }

  el.input.addEventListener("input", () => {
    autoGrow();
    if (!el.input.value.trim() || chatState === "ended") return;
    const now = Date.now();
    if (now - lastTypingSent >= TYPING_EVERY_MS && resumed && send({ type: "typing" })) {
      lastTypingSent = now;
    }
  });

  function autoGrow() {
    el.input.style.height = "auto";
    el.input.style.height = `${Math.min(el.input.scrollHeight + 2, 140)}px`;
  }

  // --- compose -----------------------------------------------------------------------------
  el.input.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing && event.keyCode !== 229) {
      event.preventDefault();
      el.compose.requestSubmit ? el.compose.requestSubmit() : submitMessage();
    }
  });

  el.compose.addEventListener("submit", (event) => {
    event.preventDefault();
    submitMessage();
  });

  function submitMessage() {
    const text = el.input.value.trim();
    if (!text || chatState === "ended") return;
    sendMessage(text);
    el.input.value = "";
    autoGrow();
    lastTypingSent = 0;
    el.input.focus();
  }

  el.attach.addEventListener("click", () => el.file.click());

  el.file.addEventListener("change", () => {
    const file = el.file.files && el.file.files[0];
    el.file.value = "";
    if (!file || !session) return;
    if (file.type && !ALLOWED_TYPES.includes(file.type)) {
      showError(T.fileType);
      return;
    }
    if (file.size > config.maxBytes) {
      showError(fill(T.fileSize, { size: config.maxLabel }));
      return;
    }
    uploadFile(file);
  });

  async function uploadFile(file) {
    const placeholder = renderMessage(
      { sender: "citizen", text: fill(T.uploading, { name: file.name }), created_at: null },
      { isPending: true }
    );
    placeholder.classList.add("msg-uploading");
    el.log.append(placeholder);
    scrollToBottom();
    const body = new FormData();
    body.append("file", file);
    const base = config.startUrl.replace(/start\/?$/, "");
    try {
      const response = await fetch(`${base}${encodeURIComponent(session.token)}/attachments`, {
        method: "POST",
        body,
        headers: { Accept: "application/json" },
      });
      const data = await response.json().catch(() => ({}));
      placeholder.remove();
      if (response.status === 201 && data.message) {
        addMessage(data.message);
      } else if (response.status === 410) {
        clearSession();
        resetToStart(T.sessionGone);
      } else {
        showError(data.message || T.uploadFailed);
      }
    } catch (error) {
      placeholder.remove();
      showError(T.networkError);
    }
  }

  el.errorClose.addEventListener("click", () => {
    show(el.error, false);
    el.input.focus();
  });

  // --- ending ------------------------------------------------------------------------------
  let modal = null;
  function endModal() {
    if (!modal && window.bootstrap && window.bootstrap.Modal) {
      modal = window.bootstrap.Modal.getOrCreateInstance(el.endModal);
    }
    return modal;
  }
  function hideEndModal() {
    if (modal) modal.hide();
  }

  el.endButton.addEventListener("click", () => {
    const dialog = endModal();
    if (dialog) dialog.show();
    else if (window.confirm(document.getElementById("chat-end-modal-title").textContent)) {
      requestEnd();
    }
  });
  el.endConfirm.addEventListener("click", () => {
    hideEndModal();
    requestEnd();
  });

  function requestEnd() {
    if (!send({ type: "chat.end" })) showError(T.networkError);
  }

  el.csat.querySelectorAll("button[data-score]").forEach((button) => {
    button.addEventListener("click", () => {
      if (button.getAttribute("aria-disabled") === "true") return;
      const score = parseInt(button.dataset.score, 10);
      waitingRequest = "csat";
      if (!send({ type: "csat", score })) {
        waitingRequest = null;
        showError(T.networkError);
        return;
      }
      // aria-disabled, not disabled: a disabled button loses focus to <body>.
      el.csat.querySelectorAll("button").forEach((b) => {
        b.setAttribute("aria-disabled", "true");
      });
      button.setAttribute("aria-pressed", "true");
    });
  });

  el.transcriptForm.addEventListener("submit", (event) => {
    event.preventDefault();
    const to = el.transcriptTo.value.trim();
    if (!to) {
      el.transcriptStatus.textContent = T.transcriptRequired;
      el.transcriptStatus.className = "small mt-1 mb-0 chat-error-text";
      el.transcriptTo.focus();
      return;
    }
    waitingRequest = "transcript";
    const frame = to.includes("@")
      ? { type: "transcript.request", email: to }
      : { type: "transcript.request", phone: to };
    if (send(frame)) {
      el.transcriptStatus.textContent = T.transcriptSending;
      el.transcriptStatus.className = "small mt-1 mb-0";
    } else {
      waitingRequest = null;
      el.transcriptStatus.textContent = T.networkError;
      el.transcriptStatus.className = "small mt-1 mb-0 chat-error-text";
    }
  });

  el.callbackToggle.addEventListener("click", () => {
    const open = el.callbackForm.hidden;
    show(el.callbackForm, open);
    el.callbackToggle.setAttribute("aria-expanded", String(open));
    if (open) el.callbackPhone.focus();
  });

  el.callbackForm.addEventListener("submit", (event) => {
    event.preventDefault();
    const phone = el.callbackPhone.value.trim();
    show(el.callbackError, false);
    if (!phone) {
      el.callbackError.textContent = T.callbackPhoneRequired;
      show(el.callbackError, true);
      el.callbackPhone.focus();
      return;
    }
    waitingRequest = "callback";
    if (send({ type: "callback.request", phone, note: el.callbackNote.value.trim() })) {
      el.callbackForm.querySelector("button[type=submit]").disabled = true;
    } else {
      waitingRequest = null;
      el.callbackError.textContent = T.networkError;
      show(el.callbackError, true);
    }
  });

  el.newChat.addEventListener("click", () => {
    clearSession();
    resetToStart(null);
    const first = el.startForm.querySelector("input, select, textarea");
    if (first) first.focus();
  });

  // --- start form --------------------------------------------------------------------------
  function clearFieldErrors() {
    el.startForm.querySelectorAll(".chat-field-error").forEach((node) => node.remove());
    el.startForm.querySelectorAll("[aria-invalid]").forEach((input) => {
      input.classList.remove("is-invalid");
      input.removeAttribute("aria-invalid");
      const ids = (input.getAttribute("aria-describedby") || "")
        .split(/\s+/)
        .filter((id) => id && !id.endsWith("-error"));
      if (ids.length) input.setAttribute("aria-describedby", ids.join(" "));
      else input.removeAttribute("aria-describedby");
    });
    show(el.startError, false);
  }

  function fieldError(name, messages) {
    const input = el.startForm.elements[name];
    if (!input || !input.id) return false;
    const feedback = document.createElement("div");
    feedback.className = "invalid-feedback d-block chat-field-error";
    feedback.id = `${input.id}-error`;
    feedback.textContent = messages.join(" ");
    input.classList.add("is-invalid");
    input.setAttribute("aria-invalid", "true");
    const describedBy = (input.getAttribute("aria-describedby") || "").split(/\s+/).filter(Boolean);
    describedBy.push(feedback.id);
    input.setAttribute("aria-describedby", describedBy.join(" "));
    const holder = input.closest(".form-check") || input.parentElement;
    if (input.type === "checkbox") holder.append(feedback);
    else input.insertAdjacentElement("afterend", feedback);
    return true;
  }

  function firstInvalid() {
    const input = el.startForm.querySelector("[aria-invalid=true]");
    if (input) input.focus();
  }

  el.startForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearFieldErrors();
    show(el.startNotice, false);
    const consent = el.startForm.elements.consent;
    if (consent && !consent.checked) {
      fieldError("consent", [T.consentRequired]);
      firstInvalid();
      return;
    }
    el.startSubmit.disabled = true;
    try {
      const body = new FormData(el.startForm);
      const response = await fetch(config.startUrl, {
        method: "POST",
        body,
        headers: { Accept: "application/json" },
      });
      const data = await response.json().catch(() => ({}));
      if (response.status === 201 && data.token) {
        session = { token: data.token, contact_id: data.contact_id };
        saveSession(session);
        const phone = String(body.get("phone") || "").trim();
        if (phone) el.callbackPhone.value = phone;
        enterRoom();
        connect();
        el.input.focus();
      } else if (response.status === 400 && data.fields) {
        const general = [];
        Object.entries(data.fields).forEach(([name, messages]) => {
          if (!fieldError(name, messages)) general.push(...messages);
        });
        if (general.length) {
          el.startError.textContent = general.join(" ");
          show(el.startError, true);
        }
        firstInvalid();
      } else {
        el.startError.textContent = data.message || T.startFailed;
        show(el.startError, true);
      }
    } catch (error) {
      el.startError.textContent = T.networkError;
      show(el.startError, true);
    } finally {
      el.startSubmit.disabled = false;
    }
  });

  // --- screens -----------------------------------------------------------------------------
  function enterRoom() {
    el.shell.classList.remove("is-start");
    show(el.start, false);
    show(el.room, true);
    show(el.endButton, true);
    show(el.compose, true);
    show(el.ended, false);
    show(el.waiting, true);
    showPosition(null, null);
  }

  function resetToStart(notice) {
    session = null;
    window.clearTimeout(forgetTimer);
    forgetTimer = null;
    disconnect();
    showConnection("");
    retryDelay = RETRY_FIRST_MS;
    lastId = 0;
    deliveredUpTo = 0;
    ackWanted = 0;
    ackSent = 0;
    chatState = null;
    hadAgent = false;
    waitingRequest = null;
    callbackSaved = false;
    shown.clear();
    pending.clear();
    hideTyping();
    hideEndModal();
    el.log.replaceChildren();
    el.input.value = "";
    show(el.error, false);
    show(el.noAgents, false);
    show(el.noAgentsText, true);
    show(el.callbackForm, false);
    show(el.callbackToggle, true);
    el.callbackToggle.setAttribute("aria-expanded", "false");
    show(el.callbackSaved, false);
    show(el.callbackError, false);
    el.endedTicket.textContent = "";
    show(el.endedTicket, false);
    el.callbackForm.querySelector("button[type=submit]").disabled = false;
    el.callbackNote.value = "";
    show(el.csat, false);
    show(el.csatThanks, false);
    el.csat.querySelectorAll("button").forEach((b) => {
      b.removeAttribute("aria-disabled");
      b.removeAttribute("aria-pressed");
    });
    el.transcriptTo.value = "";
    el.transcriptStatus.textContent = "";
    show(el.room, false);
    show(el.endButton, false);
    show(el.start, true);
    el.shell.classList.add("is-start");
    if (notice) {
      el.startNotice.textContent = notice;
      show(el.startNotice, true);
    }
  }

  // --- inside the widget's iframe ----------------------------------------------------------
  const framed = window.parent !== window;
  if (el.closeWidget) {
    show(el.closeWidget, framed);
    el.closeWidget.addEventListener("click", () => {
      window.parent.postMessage({ type: "open120-chat:close" }, "*");
    });
  }
  if (framed) {
    document.addEventListener("keydown", (event) => {
      if (event.key === "Escape" && !document.querySelector(".modal.show")) {
        window.parent.postMessage({ type: "open120-chat:close" }, "*");
      }
    });
  }

  // --- start -------------------------------------------------------------------------------
  (function improveStartForm() {
    const fields = el.startForm.elements;
    if (fields.name) fields.name.setAttribute("autocomplete", "name");
    if (fields.phone) {
      fields.phone.setAttribute("autocomplete", "tel");
      fields.phone.setAttribute("inputmode", "tel");
    }
  })();

  session = loadSession();
  if (session) {
    enterRoom();
    restoreOutbox();
    connect();
  }
})();
