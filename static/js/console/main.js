// Agent console: the agent socket (static/js/socket.js) and what each frame does to the
// panels — presence, offers, contact tabs (docs/realtime.md). Loads last of the console files.
(function (C) {
  "use strict";
  if (!C.root) return;
  const { t, tabs, offers } = C;

  // --- Socket --------------------------------------------------------------------------------
  let highestId = 0; // the highest message id seen, for resume
  let lastSent = { frame: null, at: 0 };
  let myAgentId = null; // from hello; null on a supervisor's console without an agent profile
  const socketState = document.getElementById("socket-state");
  const emptyState = document.getElementById("workspace-empty");
  const UNTRACED = ["ping", "typing", "ack"];

  C.sawMessage = (id) => { if (id > highestId) highestId = id; };
  C.send = (frame) => C.socket.send(frame);

  function setSocketState(state) {
    socketState.dataset.state = state;
    socketState.querySelector(".js-socket-text").textContent = t(state);
  }

  // "connected" waits for hello: until then the console does not know what I hold.
  function onStatus(status) {
    if (status === "connecting" || status === "reconnecting") setSocketState(status);
    if (status === "reconnecting") for (const tab of tabs.values()) tab.onDisconnect();
  }

  // A refusal without a client_id names no frame: the one sent just before is the likely cause.
  function onSend(frame) {
    if (!UNTRACED.includes(frame.type)) lastSent = { frame, at: Date.now() };
  }

  function tabOf(frame) {
    return tabs.get(frame.contact_id);
  }

  function tabWithPending(clientId) {
    return typeof clientId === "string" ? Array.from(tabs.values()).find((tab) => tab.pending.has(clientId)) : null;
  }

  function showQueues(queues) {
    for (const queue of queues || []) {
      const badge = document.querySelector(`[data-queue-id="${queue.id}"]`);
      if (!badge) continue;
      badge.textContent = t("queueWaiting", { n: queue.waiting });
      badge.classList.toggle("text-bg-warning", queue.waiting > 0);
      badge.classList.toggle("text-bg-light", queue.waiting === 0);
      badge.classList.toggle("border", queue.waiting === 0);
    }
  }

  const HANDLERS = {
    hello: onHello,
    "presence.changed": onPresenceChanged,
    "offer.created": (f) => C.addOffer(f.offer, true, true),
    "offer.cancelled": (f) => C.removeOffer(f.offer_id, f.reason),
    "contact.assigned": (f) => onContactAssigned(f.contact),
    "contact.updated": (f) => { const tab = tabs.get(f.contact.id); if (tab) tab.update(f.contact); },
    "contact.removed": (f) => removeTab(f.contact_id, f.reason, false, f.by_name),
    "message.created": (f) => onMessage(f.message, !C.socket.isResuming),
    "message.delivered": (f) => { const tab = tabOf(f); if (tab) tab.markDelivered(f.up_to_id); },
    "message.delivery": (f) => { const tab = tabOf(f); if (tab) tab.setDelivery(f.message_id, f.delivery); },
    typing: (f) => { const tab = tabOf(f); if (tab) tab.showTyping(f.who, f.name); },
    "chat.ended": (f) => { const tab = tabOf(f); if (tab) tab.setState("wrapup"); },
    history: (f) => { const tab = tabOf(f); if (tab) tab.onHistory(f.messages || []); },
    "queues.updated": (f) => showQueues(f.queues),
    "knowledge.suggestions": (f) => { const tab = tabOf(f); if (tab) tab.showSuggestions(f.results || [], f.query || ""); },
    // Shown by softphone.js: the call's parties, also for a colleague consulted before a transfer.
    "call.updated": (f) => C.onCallUpdated(f),
    // Shown by ticket_notices.js.
    "ticket.notice": (f) => document.dispatchEvent(new CustomEvent("open120:ticket-notice", { detail: f })),
    error: onErrorFrame,
  };

  function onHello(frame) {
    setSocketState("connected");
    myAgentId = frame.agent_id;
    if (frame.presence) C.showPresence(frame.presence, frame.presence_reason, frame.presence_changed_at);
    // Rebuild the tabs from what the server says I hold; keep tabs that stay (and their forms).
    const held = new Set((frame.contacts || []).map((c) => c.id));
    for (const id of [...tabs.keys()]) if (!held.has(id)) removeTab(id, "gone", true);
    for (const contact of frame.contacts || []) upsertTab(contact, false);
    // The same for offers.
    const offered = new Set((frame.offers || []).map((o) => o.id));
    for (const id of [...offers.keys()]) if (!offered.has(id)) C.removeOffer(id, "gone");
    for (const offer of frame.offers || []) C.addOffer(offer, !offers.has(offer.id));
    // Messages missed while away come with the socket's resume; history fills new tabs.
    for (const tab of tabs.values()) tab.requestHistory();
    if (!C.activeTab() && tabs.size) tabs.values().next().value.activate();
    updateEmptyState();
    viewing = undefined; // a new socket knows nothing of what is on screen
    reportView();
  }

  // Supervisors' consoles hear every agent's presence changes: only mine moves my badge.
  function onPresenceChanged(frame) {
    if (myAgentId === null || frame.agent_id !== myAgentId) return;
    C.showPresence(frame.presence, frame.reason, frame.changed_at);
    if (frame.changed_by) {
      const state = C.PRESENCE[frame.presence] || frame.presence;
      showNotice(josa(t("presenceSetBySupervisor", { name: frame.changed_by, state })));
    }
  }

  // The Korean strings write "(으)로" where the particle depends on the word before it
  // (callcenter/korean.py): 로 after a vowel or ㄹ, 으로 after another consonant.
  function josa(text) {
    return text.replace(/([가-힣])(['"’”)\]\s]*)\(으\)로/g, (match, syllable, between) => {
      const final = (syllable.charCodeAt(0) - 0xac00) % 28;
      return `${syllable}${between}${final === 0 || final === 8 ? "로" : "으로"}`;
    });
  }

  // What a supervisor did to my console (set my state, took a conversation over): visible
  // until dismissed, and read out politely.
  function showNotice(text) {
    const notice = C.showAlert(C.consoleAlerts, text, "info");
    notice.setAttribute("role", "status");
    C.announce(text);
  }

  function onErrorFrame(frame) {
    const text = C.errorText(frame.message || frame.code);
    const recent = lastSent.frame && Date.now() - lastSent.at < 4000 ? lastSent.frame : null;
    // A refused message is named by its client_id: it fails for good (never resent).
    const refusedIn = tabWithPending(frame.client_id);
    const tab = refusedIn || (recent && recent.contact_id ? tabs.get(recent.contact_id) : null);
    if (refusedIn) refusedIn.failPending(frame.client_id);
    else if (recent && recent.type === "message.send" && tab) tab.failPending(recent.client_id);
    if (recent && recent.type && recent.type.startsWith("offer.")) {
      const offer = offers.get(recent.offer_id);
      if (offer) offer.setBusy(false);
    }
    if (recent && recent.type === "presence.set") C.presenceError(text);
    C.showAlert(tab ? tab.els.alerts : C.consoleAlerts, text, "danger");
    C.announce(text, true);
  }

  // --- Tabs ------------------------------------------------------------------------------------
  function updateEmptyState() {
    emptyState.hidden = tabs.size > 0;
  }

  function upsertTab(contact, activate) {
    let tab = tabs.get(contact.id);
    if (tab) tab.update(contact);
    else {
      tab = new C.ContactTab(contact);
      tabs.set(contact.id, tab);
    }
    if (activate || !C.activeTab()) tab.activate();
    updateEmptyState();
    return tab;
  }

  function onContactAssigned(contact) {
    const isNew = !tabs.has(contact.id);
    const clicked = C.acceptedContacts.delete(contact.id);
    for (const [id, offer] of offers) if (offer.data.contact_id === contact.id) C.removeOffer(id, "accepted");
    const tab = upsertTab(contact, clicked);
    if (isNew) C.announce(t("newContact", { name: tab.name }));
    if (clicked) tab.els.reply.focus();
  }

  function removeTab(contactId, reason, quiet, byName) {
    const tab = tabs.get(contactId);
    if (!tab) return;
    tabs.delete(contactId);
    C.closeTransferFor(tab);
    const name = tab.name;
    const { wasActive, hadFocus } = tab.destroy();
    if (wasActive && tabs.size) tabs.values().next().value.activate();
    if (hadFocus) C.focusWorkspace();
    if (!quiet) tellRemoved(reason, name, byName);
    updateEmptyState();
    C.updateTitle();
  }

  function tellRemoved(reason, name, byName) {
    if (reason === "taken_over") showNotice(t("contactTakenOver", { supervisor: byName || "", name }));
    else C.announce(t(reason === "transferred" ? "contactTransferred" : "contactRemoved", { name }));
  }

  function onMessage(message, live) {
    if (!message) return;
    C.sawMessage(message.id);
    const tab = tabs.get(message.contact_id);
    if (tab) tab.addMessage(message, live);
  }

  // Knowledge suggestions come only for the conversation on screen (the server searches a
  // moment after the citizen writes): tell it which one that is, or none while hidden.
  let viewing;
  function reportView() {
    const tab = C.activeTab();
    const id = tab && document.visibilityState === "visible" ? tab.id : null;
    if (id !== viewing && C.send({ type: "console.view", contact_id: id })) viewing = id;
  }
  document.addEventListener("shown.bs.tab", reportView);

  document.addEventListener("visibilitychange", () => {
    reportView();
    const tab = C.activeTab();
    if (tab && document.visibilityState === "visible") {
      tab.unread = 0;
      tab.renderUnread();
      tab.maybeAck();
    }
  });

  // A reply is resent once after a reconnect, and fails when the server has not echoed it
  // within 10 s; the agent then decides (Retry).
  function shouldResend(frame) {
    const tab = tabs.get(frame.contact_id);
    return Boolean(tab) && (frame.internal || !tab.isWrapup());
  }

  C.socket = window.Open120Socket.open(C.cfg.wsPath, {
    lastMessageId: () => highestId,
    stopCodes: [4403],
    // The session ended: the page sends the user to log in.
    onStop: () => window.location.reload(),
    pingEvery: 25000,
    sendTimeoutMs: 10000,
    maxSends: 2,
    shouldResend,
    onSend,
    onStatus,
    onFrame: (frame) => { if (Object.hasOwn(HANDLERS, frame.type)) HANDLERS[frame.type](frame); },
    onRefused: onErrorFrame,
    onGiveUp: (clientId) => { const tab = tabWithPending(clientId); if (tab) tab.failPending(clientId); },
  });
})(window.Open120Console = window.Open120Console || {});
