// Agent console: one tab per contact I hold — its header, state and composer wiring. The
// conversation, knowledge and side panel methods are added by messages.js, knowledge.js
// and panel.js.
(function (C) {
  "use strict";
  if (!C.root) return;
  const { t, el } = C;
  const tabList = document.getElementById("contact-tabs");
  const paneBox = document.getElementById("contact-panes");

  const CHANNEL_ICONS = {
    webchat: "bi-chat-dots",
    kakao: "bi-chat-fill",
    sms: "bi-phone",
    whatsapp: "bi-whatsapp",
    voice: "bi-telephone",
    video: "bi-camera-video",
    open311: "bi-geo-alt",
  };

  class ContactTab {
    constructor(contact) {
      this.id = contact.id;
      this.contact = contact;
      this.messages = new Map(); // message id → li
      this.pending = new Map(); // client_id → {li, frame}: the socket's outbox resends frames
      this.deliveries = new Map(); // message id → delivery heard before the message was shown
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

      this.li = C.clone("tpl-tab");
      this.pane = C.clone("tpl-pane");
      C.suffixIds([this.li, this.pane], this.id);
      this.button = this.li.querySelector("button");
      this.findElements();
      this.buildCanned();
      this.bind();
      this.update(contact);
      this.els.kbCaption.textContent = t("kbHint");
      tabList.append(this.li);
      paneBox.append(this.pane);
      if (window.bootstrap) window.bootstrap.Tab.getOrCreateInstance(this.button);
      this.loadPanel();
      this.requestHistory();
      if (contact.channel === "voice" && C.attachSoftphone) C.attachSoftphone(this);
      if (contact.channel === "video" && C.attachVideo) C.attachVideo(this);
    }

    findElements() {
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
        channelNote: q(".js-channel-note"),
        panel: q(".js-panel"),
        kbForm: q(".js-kb-form"),
        kbInput: q(".js-kb-q"),
        kbCaption: q(".js-kb-caption"),
        kbResults: q(".js-kb-results"),
      };
      const tabQ = (sel) => this.li.querySelector(sel);
      this.tabEls = {
        name: tabQ(".js-tab-name"),
        icon: tabQ(".js-channel-icon"),
        wrapup: tabQ(".js-tab-wrapup"),
        typing: tabQ(".js-tab-typing"),
        unread: tabQ(".js-tab-unread"),
        unreadSr: tabQ(".js-tab-unread-sr"),
        assist: tabQ(".js-tab-assist"),
      };
    }

    get name() {
      return C.citizenName(this.contact.citizen, this.id);
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
      this.els.channel.textContent = C.channelLabel(c);
      this.els.queue.hidden = !c.queue;
      if (c.queue) this.els.queue.textContent = c.queue.name;
      this.els.language.hidden = !c.language || c.language === "ko";
      this.els.language.textContent = C.LANGUAGE[c.language] || c.language || "";
      this.els.assist.hidden = !(c.citizen && c.citizen.needs_assistance);
      this.tabEls.assist.hidden = this.els.assist.hidden;
      this.els.log.setAttribute("aria-label", `${this.els.log.getAttribute("aria-label").split(" · ")[0]} · ${this.name}`);
      if (c.ticket) this.setTicket(c.ticket.number);
      this.showChannelNote();
      this.setState(c.state);
    }

    // How replies reach the citizen, where it is not at once: said once, above the box.
    showChannelNote() {
      const note = { kakao: "kakaoReplyNote", sms: "textReplyNote", whatsapp: "textReplyNote" }[this.contact.channel];
      this.els.channelNote.hidden = !note;
      this.els.channelNote.querySelector("span").textContent = note ? t(note) : "";
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
      if (this.softphone) this.softphone.setContactState(state);
      if (this.video) this.video.setContactState(state);
      // Files cannot be texted: on SMS, WhatsApp and KakaoTalk replies are text only.
      this.els.attach.disabled = wrapup || this.isMessenger();
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
      e.reply.addEventListener("input", () => this.sendTyping());
      e.note.addEventListener("change", () => this.syncComposer());
      e.attach.addEventListener("click", () => e.file.click());
      e.file.addEventListener("change", () => {
        const file = e.file.files && e.file.files[0];
        e.file.value = "";
        if (file) this.upload(file);
      });
      e.end.addEventListener("click", () => {
        if (window.confirm(t("confirmEnd", { name: this.name }))) C.send({ type: "contact.end", contact_id: this.id });
      });
      e.finish.addEventListener("click", () => C.send({ type: "wrapup.complete", contact_id: this.id }));
      e.transfer.addEventListener("click", () => C.openTransfer(this));
      this.bindKnowledge();
      e.log.addEventListener("click", (event) => {
        const retry = event.target.closest(".js-retry");
        if (retry) this.retry(retry.closest("li").dataset.clientId);
      });
    }

    sendTyping() {
      const e = this.els;
      if (e.note.checked || this.isWrapup() || !e.reply.value.trim()) return;
      const now = Date.now();
      if (now - this.lastTypingSent >= 2000 && C.send({ type: "typing", contact_id: this.id })) {
        this.lastTypingSent = now;
      }
    }

    buildCanned() {
      const menu = this.els.canned;
      menu.textContent = "";
      if (!C.CANNED.length) {
        menu.append(el("li", {}, el("span", { class: "dropdown-item-text text-body-secondary", text: t("noCanned") })));
        return;
      }
      const language = this.contact.language || "ko";
      const mine = C.CANNED.filter((r) => r.language === language);
      const others = C.CANNED.filter((r) => r.language !== language);
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

    destroy() {
      window.clearTimeout(this.typingTimer);
      window.clearTimeout(this.kbTimer);
      window.clearTimeout(this.autoTimer);
      for (const clientId of this.pending.keys()) C.socket.forget(clientId);
      if (this.softphone) this.softphone.destroy();
      if (this.video) this.video.destroy();
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

  C.ContactTab = ContactTab;
})(window.Open120Console = window.Open120Console || {});
