// Citizen web chat, shared ground: texts and settings from the page, the page's elements,
// small helpers, the session kept across reloads, and the state the other files share.
// The chat's files share one namespace, Open120Chat, and load in order (chat.html).
(function (K) {
  "use strict";

  const STORAGE_KEY = "open120.chat";
  const $ = (id) => document.getElementById(id);
  const main = $("main");
  K.T = $("chat-i18n").dataset;
  K.config = {
    startUrl: main.dataset.startUrl,
    maxBytes: parseInt(main.dataset.maxUploadBytes, 10) || 5 * 1024 * 1024,
    maxLabel: main.dataset.maxUploadLabel,
    embed: main.dataset.embed === "1",
  };

  K.el = {
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
  K.fill = function fill(template, values) {
    return String(template || "").replace(/\{(\w+)\}/g, (whole, key) =>
      Object.prototype.hasOwnProperty.call(values, key) ? String(values[key]) : whole
    );
  };

  K.show = function show(node, visible) {
    if (node) node.hidden = !visible;
  };

  // created_at is already in Asia/Seoul ("2026-11-26T17:40:00+09:00"): show it as given.
  K.hhmm = function hhmm(iso) {
    const match = /T(\d{2}):(\d{2})/.exec(iso || "");
    return match ? `${match[1]}:${match[2]}` : "";
  };

  K.humanSize = function humanSize(bytes) {
    if (bytes >= 1024 * 1024) return `${(bytes / (1024 * 1024)).toFixed(1)} MB`;
    if (bytes >= 1024) return `${Math.round(bytes / 1024)} KB`;
    return `${bytes} B`;
  };

  K.showConnection = function showConnection(text) {
    K.el.conn.textContent = text || "";
    K.show(K.el.conn, Boolean(text));
  };

  K.showError = function showError(text) {
    K.el.errorText.textContent = text;
    K.show(K.el.error, true);
  };

  // --- the session survives reloads; storage may be unavailable (privacy modes, iframes) ---
  const stored = window.Open120StoredSession("localStorage", STORAGE_KEY);
  K.loadSession = stored.load;
  K.saveSession = stored.save;
  K.clearSession = stored.clear;

  // --- state the files share -------------------------------------------------------------
  K.state = {
    session: null, // {token, contact_id, rated?, outbox?}
    lastId: 0, // the highest message id shown
    deliveredUpTo: 0,
    ackWanted: 0,
    ackSent: 0,
    chatState: null, // waiting | active | ended
    hadAgent: false,
    lastTypingSent: 0,
    waitingRequest: null, // callback | csat | transcript: where a refusal is shown
    callbackSaved: false,
    shown: new Map(), // message id → element
    pending: new Map(), // client_id → {text, node}: sent by the socket until echoed
  };

  K.client = null; // the socket (static/js/socket.js) while a chat is open
  K.send = (frame) => K.client !== null && K.client.send(frame);
})(window.Open120Chat = window.Open120Chat || {});
