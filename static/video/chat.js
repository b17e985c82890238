// Open120 video page: the chat socket (/ws/chat/, the token as the second subprotocol) that
// carries the queue place, the agent joining, the side chat, the end and the rating.
// The protocol is the web chat's (docs/realtime.md); the socket client is static/js/socket.js.
(function (K) {
  "use strict";
  const { T, el, fill, show, state: S } = K;
  // 4404: unknown token; 4410: the call ended and its after-end window has passed.
  const SESSION_GONE = [4404, 4410];
  const ENDED_STATES = ["wrapup", "done", "abandoned", "ended"];

  K.connectChat = function connectChat() {
    if (!S.session) return;
    K.disconnectChat();
    K.client = window.Open120Socket.open(S.session.ws_url || "/ws/chat/", {
      protocols: S.session.ws_protocols || ["open120.chat", S.session.token],
      lastMessageId: () => S.lastId,
      stopCodes: SESSION_GONE,
      onStop: () => K.sessionGone(),
      onStatus: (status) => {
        if (status === "reconnecting" && S.chatState !== "ended") K.setStatus(T.chatReconnecting, "warn");
        else if (status === "open" && K.el.statusText.textContent === T.chatReconnecting) K.refreshStatus();
      },
      onFrame: handleFrame,
      onRefused: (frame, sent) => {
        const node = S.pending.get(sent.client_id);
        if (node) markFailed(node);
        S.pending.delete(sent.client_id);
        K.showError(fill(T.refused, { message: frame.message || frame.code }));
      },
    });
  };

  K.disconnectChat = function disconnectChat() {
    const client = K.client;
    K.client = null;
    if (client) client.close();
  };

  // --- what the server says ------------------------------------------------------------------
  function applyState(state, agentName) {
    if (agentName) S.agentName = agentName;
    if (ENDED_STATES.includes(state)) {
      K.endCall(null, state);
      return;
    }
    if (state === "active") {
      S.chatState = "active";
      S.hadAgent = true;
      K.enterCall();
    } else {
      S.chatState = "waiting";
      K.enterWaiting();
    }
  }

  function showPosition(position, eta) {
    const hasPosition = Number.isInteger(position) && position > 0;
    el.position.textContent = hasPosition
      ? position === 1 ? T.positionNext : fill(T.position, { position })
      : "";
    show(el.positionLine, hasPosition);
    const hasEta = typeof eta === "number" && eta >= 0 && hasPosition;
    el.eta.textContent = hasEta
      ? eta < 60 ? T.etaSoon : fill(T.etaMinutes, { minutes: Math.max(1, Math.round(eta / 60)) })
      : "";
    show(el.etaLine, hasEta);
  }

  function showNoAgents(visible) {
    show(el.noAgents, visible);
    if (visible) showPosition(null, null);
  }

  K.showTicketNumber = function showTicketNumber(number) {
    if (!number) return;
    el.endedTicket.textContent = fill(T.ticketNumber, { number });
    show(el.endedTicket, true);
  };

  const HANDLERS = {
    hello: (f) => {
      if (f.contact_id && S.session.contact_id !== f.contact_id) {
        S.session.contact_id = f.contact_id;
        K.saveSession(S.session);
      }
      applyState(f.state, f.agent_name);
      if (S.chatState === "waiting") {
        showNoAgents(Boolean(f.no_agents));
        if (!f.no_agents) showPosition(f.position, f.eta_seconds);
      }
      K.showTicketNumber(f.ticket_number);
    },
    "queue.position": (f) => {
      if (S.chatState !== "waiting") return;
      showNoAgents(false);
      showPosition(f.position, f.eta_seconds);
    },
    "queue.no_agents": () => { if (S.chatState === "waiting") showNoAgents(true); },
    "chat.state": (f) => applyState(f.state, f.agent_name),
    "chat.ticket": (f) => K.showTicketNumber(f.number),
    "chat.moved": () => { S.chatState = "waiting"; K.enterWaiting(); },
    "message.created": (f) => { if (f.message) addMessage(f.message); },
    "resume.done": (f) => {
      if (Number.isInteger(f.last_message_id)) S.lastId = Math.max(S.lastId, f.last_message_id);
    },
    "chat.ended": (f) => K.endCall(f.by, null),
    "csat.saved": () => {
      S.session.rated = true;
      K.saveSession(S.session);
      show(el.csat, false);
      el.csatThanks.textContent = T.csatThanks;
      show(el.csatThanks, true);
      el.csatThanks.focus(); // the pressed button is gone: keep the reader's place
    },
    error: (f) => {
      if (f.code === "unknown_session" || f.code === "session_expired") return; // the close follows
      K.showError(fill(T.refused, { message: f.message || f.code }));
    },
  };

  function handleFrame(frame) {
    if (Object.hasOwn(HANDLERS, frame.type)) HANDLERS[frame.type](frame);
  }

  // --- the side chat -------------------------------------------------------------------------
  function bubble(message, { pending = false } = {}) {
    const node = document.createElement("div");
    if (message.sender === "system") {
      node.className = "vmsg-system";
      const label = document.createElement("span");
      label.className = "visually-hidden";
      label.textContent = `${T.notice}: `;
      node.append(label, message.text || "");
      return node;
    }
    const mine = message.sender === "citizen";
    node.className = `vmsg ${mine ? "vmsg-mine" : "vmsg-theirs"}${pending ? " vmsg-pending" : ""}`;
    const who = document.createElement(mine ? "span" : "p");
    who.className = mine ? "visually-hidden" : "vmsg-sender";
    who.textContent = mine ? `${T.you}: ` : message.sender_name || T.agent;
    const text = document.createElement("div");
    text.className = "vmsg-bubble";
    text.textContent = message.text || (message.attachments || []).map((a) => a.name).join(", ");
    const meta = document.createElement("div");
    meta.className = "vmsg-meta";
    const time = document.createElement("time");
    if (message.created_at) time.dateTime = message.created_at;
    time.textContent = K.hhmm(message.created_at);
    meta.append(time);
    node.append(who, text, meta);
    return node;
  }

  function markFailed(node) {
    node.classList.remove("vmsg-pending");
    node.classList.add("vmsg-failed");
    const meta = node.querySelector(".vmsg-meta");
    if (meta) meta.textContent = T.notSent;
  }

  function scrollDown() {
    el.log.scrollTop = el.log.scrollHeight;
  }

  function addMessage(message) {
    if (message.internal || !Number.isInteger(message.id) || S.shown.has(message.id)) return;
    S.shown.add(message.id);
    S.lastId = Math.max(S.lastId, message.id);
    const own = message.client_id ? S.pending.get(message.client_id) : null;
    if (own) {
      S.pending.delete(message.client_id);
      own.replaceWith(bubble(message));
    } else {
      el.log.append(bubble(message));
    }
    scrollDown();
    if (message.sender !== "citizen") K.send({ type: "ack", up_to_id: message.id });
  }

  function sendMessage(text) {
    if (!K.client) return;
    const clientId = window.Open120Socket.newClientId();
    const node = bubble({ sender: "citizen", text, created_at: null }, { pending: true });
    el.log.append(node);
    S.pending.set(clientId, node);
    K.client.sendTracked({ type: "message.send", text, client_id: clientId });
    scrollDown();
  }

  el.compose.addEventListener("submit", (event) => {
    event.preventDefault();
    const text = el.input.value.trim();
    if (!text || S.chatState === "ended") return;
    sendMessage(text);
    el.input.value = "";
    el.input.focus();
  });
  el.input.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing && event.keyCode !== 229) {
      event.preventDefault();
      el.compose.requestSubmit();
    }
  });

  // --- leaving the queue, the rating ---------------------------------------------------------
  el.cancel.addEventListener("click", () => {
    S.cancelled = true;
    if (!K.send({ type: "chat.end" })) K.showError(T.networkError);
  });

  el.csat.querySelectorAll("button[data-score]").forEach((button) => {
    button.addEventListener("click", () => {
      if (button.getAttribute("aria-disabled") === "true") return;
      const score = Number(button.dataset.score);
      if (!K.send({ type: "csat", score })) {
        K.showError(T.networkError);
        return;
      }
      el.csat.querySelectorAll("button").forEach((b) => {
        b.setAttribute("aria-disabled", "true");
        b.setAttribute("aria-pressed", String(b === button));
      });
    });
  });

  K.resetChat = function resetChat() {
    K.disconnectChat();
    Object.assign(S, { chatState: null, hadAgent: false, agentName: null, lastId: 0, cancelled: false, textOnly: false });
    S.shown.clear();
    S.pending.clear();
    el.log.replaceChildren();
    showPosition(null, null);
    showNoAgents(false);
    show(el.endedTicket, false);
    show(el.csat, false);
    show(el.csatThanks, false);
    el.csat.querySelectorAll("button").forEach((b) => {
      b.removeAttribute("aria-disabled");
      b.removeAttribute("aria-pressed");
    });
  };
})(window.Open120VideoPage = window.Open120VideoPage || {});
