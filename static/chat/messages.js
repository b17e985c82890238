// Citizen web chat: the conversation — rendering messages, keeping them in id order,
// delivery states, acks, the outbox of messages not yet confirmed, and typing.
(function (K) {
  "use strict";
  const { T, el, fill, show, state: S } = K;
  const TYPING_SHOWN_MS = 3000;
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
    time.textContent = K.hhmm(iso);
    return time;
  }

  function senderLabel(message) {
    if (message.sender === "agent") return message.sender_name || T.agent;
    if (message.sender === "bot") return message.sender_name || T.assistant;
    return "";
  }

  function attachmentLink(item) {
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
      link.append(icon, " ", fill(T.openFile, { name: item.name, size: K.humanSize(item.size || 0) }));
      link.className = "msg-file-link";
    }
    return link;
  }

  function renderAttachments(container, attachments) {
    for (const item of attachments || []) {
      const wrap = document.createElement("div");
      wrap.className = "msg-attachment";
      wrap.append(attachmentLink(item));
      container.append(wrap);
    }
  }

  function renderSystem(node, message) {
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
  }

  function renderBubble(node, message, isPending) {
    const mine = message.sender === "citizen";
    node.className = `msg ${mine ? "msg-mine" : "msg-theirs"}${message.sender === "bot" ? " msg-bot" : ""}`;
    const bubble = document.createElement("div");
    bubble.className = "msg-bubble";
    const who = document.createElement(mine ? "span" : "p");
    who.className = mine ? "visually-hidden" : "msg-sender";
    who.textContent = mine ? `${T.you}: ` : senderLabel(message);
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
      const slot = document.createElement("span");
      slot.className = "msg-state";
      meta.append(slot);
    }
    node.append(bubble, meta);
    if (mine) setDelivery(node, isPending ? "sending" : message.delivered_at ? "delivered" : "sent");
  }

  K.renderMessage = function renderMessage(message, { isPending = false } = {}) {
    const node = document.createElement("div");
    if (message.sender === "system") renderSystem(node, message);
    else renderBubble(node, message, isPending);
    if (message.id) node.dataset.id = String(message.id);
    if (message.client_id) node.dataset.clientId = message.client_id;
    if (isPending) node.classList.add("msg-pending");
    return node;
  };

  const DELIVERY_ICONS = {
    sending: "bi-clock",
    sent: "bi-check2",
    delivered: "bi-check2-all",
    failed: "bi-exclamation-circle",
  };

  function setDelivery(node, state) {
    const slot = node && node.querySelector(".msg-state");
    if (!slot) return;
    if (slot.dataset.state === "delivered" && state !== "delivered") return;
    slot.dataset.state = state;
    const labels = { sending: T.sending, sent: T.sent, delivered: T.delivered, failed: T.notSent };
    const icon = document.createElement("i");
    icon.className = `bi ${DELIVERY_ICONS[state]}`;
    icon.setAttribute("aria-hidden", "true");
    slot.replaceChildren(icon, ` ${labels[state]}`);
  }
  K.setDelivery = setDelivery;

  // --- scrolling ---------------------------------------------------------------------------
  function nearBottom() {
    const log = el.log;
    return log.scrollHeight - log.scrollTop - log.clientHeight < 80;
  }

  // When panels above or below the log open or close, keep the newest message in view.
  let pinnedToBottom = true;
  K.scrollToBottom = function scrollToBottom() {
    el.log.scrollTop = el.log.scrollHeight;
    pinnedToBottom = true;
  };
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

  // --- messages ----------------------------------------------------------------------------
  // The bubble shown while the message was on its way, if this is its echo.
  function ownBubble(message) {
    if (message.sender !== "citizen" || !message.client_id) return null;
    const waiting = S.pending.get(message.client_id);
    if (waiting) {
      S.pending.delete(message.client_id);
      saveOutbox();
      return waiting.node;
    }
    return Array.from(el.log.querySelectorAll(".msg-pending")).find(
      (n) => n.dataset.clientId === message.client_id
    ) || null;
  }

  K.addMessage = function addMessage(message) {
    if (message.internal || !Number.isInteger(message.id)) return;
    if (S.shown.has(message.id)) return; // a resume or an upload answer repeating a message
    const stick = nearBottom();
    S.lastId = Math.max(S.lastId, message.id);
    let node = ownBubble(message);
    if (node) {
      // The echo of our own optimistic bubble: fill it in where it stands.
      node.classList.remove("msg-pending");
      node.dataset.id = String(message.id);
      const time = node.querySelector("time");
      if (time) {
        time.dateTime = message.created_at || "";
        time.textContent = K.hhmm(message.created_at);
      }
      setDelivery(node, message.delivered_at || message.id <= S.deliveredUpTo ? "delivered" : "sent");
    } else {
      node = K.renderMessage(message);
      insertInOrder(node, message.id);
      if (message.sender === "citizen" && message.id <= S.deliveredUpTo) setDelivery(node, "delivered");
    }
    S.shown.set(message.id, node);
    if (message.sender !== "citizen") {
      S.ackWanted = Math.max(S.ackWanted, message.id);
      if (message.sender === "agent") K.hideTyping();
      K.sendAck();
    }
    if (stick || message.sender === "citizen") K.scrollToBottom();
  };

  K.addLocalNotice = function addLocalNotice(text) {
    const node = K.renderMessage({ sender: "system", text, created_at: null });
    node.classList.add("msg-local");
    el.log.append(node);
    K.scrollToBottom();
  };

  K.markDelivered = function markDelivered(upTo) {
    if (!Number.isInteger(upTo)) return;
    S.deliveredUpTo = Math.max(S.deliveredUpTo, upTo);
    S.shown.forEach((node, id) => {
      if (id <= upTo && node.classList.contains("msg-mine")) setDelivery(node, "delivered");
    });
  };

  // Tell the server what the citizen has seen (only while the page is visible).
  K.sendAck = function sendAck() {
    if (S.ackWanted <= S.ackSent || !K.client || !K.client.isReady) return;
    if (document.visibilityState === "hidden") return;
    if (K.send({ type: "ack", up_to_id: S.ackWanted })) S.ackSent = S.ackWanted;
  };
  document.addEventListener("visibilitychange", K.sendAck);

  // --- outbox --------------------------------------------------------------------------------
  // Messages not yet confirmed survive a reload: they are shown again and sent after the
  // resume unless the server's replay shows they were stored (matched by client_id).
  function saveOutbox() {
    const session = S.session;
    if (!session) return;
    session.outbox = Array.from(S.pending, ([clientId, item]) => ({ client_id: clientId, text: item.text }));
    if (!session.outbox.length) delete session.outbox;
    K.saveSession(session);
  }
  K.saveOutbox = saveOutbox;

  function queue(clientId, text, node) {
    S.pending.set(clientId, { text, node });
    K.client.sendTracked({ type: "message.send", text, client_id: clientId });
  }

  K.restoreOutbox = function restoreOutbox() {
    for (const item of (S.session && S.session.outbox) || []) {
      if (!item || typeof item.text !== "string" || typeof item.client_id !== "string") continue;
      const node = K.renderMessage(
        { sender: "citizen", text: item.text, client_id: item.client_id, created_at: null },
        { isPending: true }
      );
      el.log.append(node);
      queue(item.client_id, item.text, node);
    }
  };

  K.sendMessage = function sendMessage(text) {
    const clientId = window.Open120Socket.newClientId();
    const node = K.renderMessage(
      { sender: "citizen", text, client_id: clientId, created_at: null },
      { isPending: true }
    );
    el.log.append(node);
    queue(clientId, text, node);
    saveOutbox();
    K.scrollToBottom();
  };

  // Messages that never reached the server will not go any more.
  K.failPending = function failPending() {
    S.pending.forEach((item, clientId) => {
      if (K.client) K.client.forget(clientId);
      setDelivery(item.node, "failed");
    });
    S.pending.clear();
    saveOutbox();
  };

  // --- typing ------------------------------------------------------------------------------
  let typingTimer = null;
  K.showTyping = function showTyping(name) {
    if (S.chatState === "ended") return;
    el.typing.textContent = name ? fill(T.typing, { name }) : T.typingAgent;
    show(el.typing, true);
    window.clearTimeout(typingTimer);
    typingTimer = window.setTimeout(K.hideTyping, TYPING_SHOWN_MS);
  };

  K.hideTyping = function hideTyping() {
    window.clearTimeout(typingTimer);
    el.typing.textContent = "";
  };
})(window.Open120Chat = window.Open120Chat || {});
