// Agent console: the conversation in a contact tab — history, messages in id order, my
// replies with their sending/sent/delivered/failed state, acks, unread counts and typing.
// On SMS, WhatsApp and KakaoTalk a reply's state is its delivery by the provider
// ("message.delivery" frames): waiting, sent, delivered, not delivered (with the reason), or,
// for a KakaoTalk answer past the callback window, with the citizen's next message.
(function (C) {
  "use strict";
  if (!C.root) return;
  const { t, el } = C;

  const STATE_ICONS = { sending: "bi-clock", sent: "bi-check2", delivered: "bi-check2-all", failed: "bi-exclamation-circle" };
  const STATE_LABELS = { sending: "sending", sent: "sent", delivered: "delivered", failed: "notSent" };
  // A provider's delivery status → [icon, label key, css state].
  const DELIVERY = {
    queued: ["bi-hourglass-split", "deliveryQueued", "queued"],
    pending: ["bi-hourglass-split", "deliveryQueued", "queued"],
    sent: ["bi-check2", "deliverySent", "sent"],
    delivered: ["bi-check2-all", "deliveryDelivered", "delivered"],
    undelivered: ["bi-exclamation-circle", "deliveryFailed", "failed"],
    failed: ["bi-exclamation-circle", "deliveryFailed", "failed"],
  };
  const DELIVERY_RANK = { pending: 0, queued: 0, sent: 1, delivered: 2, undelivered: 2, failed: 2 };
  const MESSENGERS = ["sms", "whatsapp", "kakao"];

  function attachmentLink(item) {
    // A texted picture stays at the provider (item.size is null): linked, not shown inline.
    const remote = item.size === null || item.size === undefined;
    if ((item.content_type || "").startsWith("image/") && !remote) {
      return el("a", { href: item.url, target: "_blank", rel: "noopener" },
        el("img", { src: item.url, alt: t("attachmentImage", { name: item.name }), loading: "lazy" }));
    }
    const icon = item.content_type === "application/pdf" ? "bi-file-earmark-pdf"
      : (item.content_type || "").startsWith("image/") ? "bi-file-earmark-image" : "bi-file-earmark";
    const size = remote ? "" : ` (${Math.max(1, Math.round((item.size || 0) / 1024))} KB)`;
    return el("a", { class: "file-link", href: item.url, target: "_blank", rel: "noopener noreferrer" },
      el("i", { class: `bi ${icon}`, "aria-hidden": "true" }),
      `${item.name}${size}`);
  }

  function senderName(message) {
    if (message.sender === "system") return t("systemMessage");
    if (message.sender === "bot") return t("botMessage");
    if (message.sender === "agent") return message.sender_name || C.cfg.agentName;
    return message.sender_name || t("citizen");
  }

  Object.assign(C.ContactTab.prototype, {
    requestHistory() {
      if (this.historyRequested || this.historyLoaded) return;
      if (C.send({ type: "history", contact_id: this.id })) this.historyRequested = true;
    },

    onDisconnect() {
      if (!this.historyLoaded) this.historyRequested = false;
    },

    onHistory(messages) {
      this.historyLoaded = true;
      for (const message of messages) this.addMessage(message, false);
      this.scrollToEnd(true);
      this.maybeAck();
      this.scheduleSuggestions();
    },

    // Returns true when the message was new here.
    addMessage(message, live) {
      C.sawMessage(message.id);
      if (this.messages.has(message.id)) {
        // Seen already: only the delivery state can have moved on.
        const seen = this.messages.get(message.id);
        if (message.delivery) this.setDelivery(message.id, message.delivery);
        else if (message.delivered_at) this.setDelivered(seen);
        return false;
      }
      const stick = this.isNearEnd();
      const mine = message.sender === "agent" && message.client_id && this.pending.get(message.client_id);
      let li;
      if (mine) {
        this.pending.delete(message.client_id);
        C.socket.forget(message.client_id);
        li = mine.li;
        li.classList.remove("is-pending", "is-failed");
      } else {
        li = el("li");
      }
      this.fillMessage(li, message);
      this.messages.set(message.id, li);
      this.place(li, message.id);
      if (message.sender === "citizen") this.onCitizenMessage(message, live);
      if (stick || mine) this.scrollToEnd(true);
      return true;
    },

    onCitizenMessage(message, live) {
      this.citizenTyping(false);
      if (live) {
        if (!this.isActive() || document.visibilityState !== "visible") {
          this.unread += 1;
          this.renderUnread();
        }
        C.announce(t("newMessage", { name: message.sender_name || this.name, text: (message.text || "").slice(0, 140) }));
        this.scheduleSuggestions();
      }
      this.maybeAck();
    },

    // Keep the list ordered by id; unsent bubbles stay at the end.
    place(li, id) {
      li.dataset.id = String(id);
      for (const item of this.els.log.children) {
        if (item === li) continue;
        const other = item.dataset.id ? Number(item.dataset.id) : Infinity;
        if (other > id) {
          if (item.previousElementSibling !== li) this.els.log.insertBefore(li, item);
          return;
        }
      }
      if (this.els.log.lastElementChild !== li) this.els.log.append(li);
    },

    isMessenger() {
      return MESSENGERS.includes(this.contact.channel);
    },

    fillMessage(li, message) {
      const own = message.sender === "agent";
      const kind = message.internal ? "internal" : message.sender;
      // A supervisor's whisper: internal like a note, but marked as theirs.
      const whisper = message.sender === "supervisor";
      li.className = `msg msg-${kind}` + (whisper ? " msg-whisper" : "");
      li.textContent = "";
      if (message.client_id) li.dataset.clientId = message.client_id;
      const bubble = el("div", { class: "msg-bubble" });
      if (message.sender === "bot") {
        // The bot's answers before the hand-over: marked, so the transcript reads as the bot's.
        bubble.append(el("i", { class: "bi bi-robot msg-bot-icon", "aria-hidden": "true" }), " ");
      }
      if (message.internal) {
        bubble.append(el("span", { class: "msg-label" },
          el("i", { class: `bi ${whisper ? "bi-headset" : "bi-lock-fill"}`, "aria-hidden": "true" }),
          ` ${t(whisper ? "supervisorWhisper" : "internalNote")}: `));
      }
      if (message.text) bubble.append(document.createTextNode(message.text));
      if (message.attachments && message.attachments.length) {
        bubble.append(el("div", { class: "msg-attachments" }, ...message.attachments.map(attachmentLink)));
      }
      li.append(bubble);
      const meta = el("div", { class: "msg-meta" },
        `${senderName(message)} · `,
        el("time", { datetime: message.created_at || "", text: C.hhmm(message.created_at) }));
      if (own && !message.internal) meta.append(el("span", { class: "msg-state js-state" }));
      li.append(meta);
      if (own && !message.internal) {
        const delivery = message.delivery || (message.id && this.deliveries.get(message.id));
        if (!message.id) this.setStateText(li, "sending");
        else if (this.isMessenger()) this.showDelivery(li, delivery || { status: "pending", channel: this.contact.channel, error: "" });
        else if (message.delivered_at || message.id <= this.deliveredUpTo) this.setDelivered(li);
        else this.setStateText(li, "sent");
      }
    },

    // A "message.delivery" frame: the provider's word on one of my replies. Kept for a
    // reply not shown yet (its history still on the way).
    setDelivery(messageId, delivery) {
      const li = this.messages.get(messageId);
      if (!li) {
        this.deliveries.set(messageId, delivery);
        return;
      }
      if (li.querySelector(".js-state")) this.showDelivery(li, delivery);
    },

    // Frames from the worker and from Twilio's callbacks may cross: a state never moves back.
    showDelivery(li, delivery) {
      const slot = li.querySelector(".js-state");
      if (!slot || !delivery) return;
      // (Another way out, a KakaoTalk answer sent again differently, starts afresh.)
      const rank = DELIVERY_RANK[delivery.status] || 0;
      const sameWay = li.dataset.deliveryChannel === delivery.channel;
      if (sameWay && Number(li.dataset.deliveryRank) > rank) return;
      li.dataset.deliveryRank = String(rank);
      li.dataset.deliveryChannel = delivery.channel;
      const kakaoLater = delivery.status === "pending" && delivery.channel === "kakao";
      const [icon, label, state] = kakaoLater
        ? ["bi-clock-history", "deliveryNextMessage", "later"]
        : DELIVERY[delivery.status] || DELIVERY.queued;
      li.dataset.state = `delivery-${state}`;
      li.dataset.delivery = delivery.status;
      slot.className = `msg-state js-state is-${state === "failed" ? "failed" : state === "delivered" ? "delivered" : state}`;
      slot.textContent = "";
      slot.append(el("i", { class: `bi ${icon}`, "aria-hidden": "true" }), ` ${t(label)}`);
      if (state === "failed" && delivery.error) {
        slot.append(el("span", { class: "msg-state-reason" }, ` (${delivery.error})`));
      }
      li.classList.toggle("is-failed", state === "failed");
    },

    setStateText(li, state) {
      const slot = li.querySelector(".js-state");
      if (!slot) return;
      li.dataset.state = state;
      slot.className = `msg-state js-state is-${state}`;
      slot.textContent = "";
      slot.append(el("i", { class: `bi ${STATE_ICONS[state]}`, "aria-hidden": "true" }), ` ${t(STATE_LABELS[state])}`);
      if (state === "failed") {
        slot.append(" ", el("button", { type: "button", class: "btn btn-link js-retry", text: t("retry") }));
      }
    },

    setDelivered(li) {
      if (li && li.querySelector(".js-state") && li.dataset.id) this.setStateText(li, "delivered");
    },

    markDelivered(upTo) {
      if (upTo > this.deliveredUpTo) this.deliveredUpTo = upTo;
      if (this.isMessenger()) return; // their providers tell (setDelivery)
      for (const [id, li] of this.messages) {
        if (id <= upTo && li.dataset.state === "sent") this.setDelivered(li);
      }
    },

    sendReply() {
      const box = this.els.reply;
      const text = box.value.trim();
      if (!text) return;
      const internal = this.els.note.checked || this.isWrapup();
      const clientId = window.Open120Socket.newClientId();
      const li = el("li", { class: "is-pending" });
      this.fillMessage(li, {
        id: null, contact_id: this.id, sender: "agent", sender_name: C.cfg.agentName, text,
        attachments: [], internal, client_id: clientId, created_at: null,
      });
      li.classList.add("is-pending");
      this.els.log.append(li);
      const frame = { type: "message.send", contact_id: this.id, text, client_id: clientId, internal };
      this.pending.set(clientId, { li, frame });
      box.value = "";
      this.scrollToEnd(true);
      this.transmit(clientId);
      box.focus();
    },

    // The socket sends it (after a resume if one is under way) and once more after a
    // reconnect; no echo within 10 s, or a second reconnect, and it fails (C.socket options).
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
      C.socket.sendTracked(item.frame);
    },

    failPending(clientId) {
      const item = clientId && this.pending.get(clientId);
      if (!item) return;
      C.socket.forget(clientId);
      item.li.classList.remove("is-pending");
      item.li.classList.add("is-failed");
      this.setStateText(item.li, "failed");
    },

    retry(clientId) {
      this.transmit(clientId);
    },

    maybeAck() {
      if (!this.isActive() || document.visibilityState !== "visible") return;
      let upTo = 0;
      for (const [id, li] of this.messages) if (id > upTo && li.classList.contains("msg-citizen")) upTo = id;
      if (upTo > this.ackedUpTo && C.send({ type: "ack", contact_id: this.id, up_to_id: upTo })) {
        this.ackedUpTo = upTo;
      }
    },

    renderUnread() {
      this.tabEls.unread.hidden = this.unread === 0;
      this.tabEls.unread.textContent = this.unread ? String(this.unread) : "";
      this.tabEls.unreadSr.textContent = this.unread ? `, ${t("unread", { count: this.unread })}` : "";
      C.updateTitle();
    },

    isNearEnd() {
      const log = this.els.log;
      return log.scrollHeight - log.scrollTop - log.clientHeight < 80;
    },

    scrollToEnd(force) {
      if (force || this.isNearEnd()) this.els.log.scrollTop = this.els.log.scrollHeight;
    },

    showTyping(who, name) {
      if (who === "citizen") this.citizenTyping(true, name);
      else this.citizenTyping(true, name || t("citizen"));
    },

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
    },
  });
})(window.Open120Console = window.Open120Console || {});
