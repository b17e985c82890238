// Open120 sign-language video page, shared ground: texts and URLs from the page, its
// elements, which screen shows (intro, unavailable, waiting, call, ended), the status line,
// and the call kept in sessionStorage so that a reload resumes it. The page's files share
// one namespace, Open120VideoPage, and load in order (templates/video/video.html).
(function (K) {
  "use strict";

  const STORAGE_KEY = "open120.video";
  const $ = (id) => document.getElementById(id);
  const main = $("main");
  K.T = $("video-i18n").dataset;
  K.urls = {
    start: main.dataset.startUrl,
    availability: main.dataset.availabilityUrl,
    callback: main.dataset.callbackUrl,
  };

  K.el = {
    main,
    status: $("video-status"),
    statusIcon: $("video-status-icon"),
    statusText: $("video-status-text"),
    error: $("video-error"),
    notice: $("video-notice"),
    about: $("video-about"),
    hours: $("video-hours"),
    availability: $("video-availability"),
    availabilityIcon: $("video-availability-icon"),
    availabilityText: $("video-availability-text"),
    intro: $("video-intro"),
    preview: $("video-preview"),
    previewEmpty: $("video-preview-empty"),
    cameraButton: $("video-camera-button"),
    cameraLabel: $("video-camera-label"),
    cameraOk: $("video-camera-ok"),
    cameraError: $("video-camera-error"),
    cameraErrorText: $("video-camera-error-text"),
    cameraErrorHelp: $("video-camera-error-help"),
    startForm: $("video-start-form"),
    startSubmit: $("video-start-submit"),
    unavailable: $("video-unavailable"),
    callbackForm: $("video-callback-form"),
    callbackPhone: $("video-callback-phone"),
    callbackName: $("video-callback-name"),
    callbackDate: $("video-callback-date"),
    callbackTime: $("video-callback-time"),
    callbackNote: $("video-callback-note"),
    callbackSubmit: $("video-callback-submit"),
    callbackSaved: $("video-callback-saved"),
    callbackHours: $("video-callback-hours"),
    waiting: $("video-waiting"),
    waitingHeading: $("video-waiting-heading"),
    positionLine: $("video-position-line"),
    position: $("video-position"),
    etaLine: $("video-eta-line"),
    eta: $("video-eta"),
    noAgents: $("video-no-agents"),
    waitingPreview: $("video-waiting-preview"),
    cancel: $("video-cancel"),
    call: $("video-call"),
    callHeading: $("video-call-heading"),
    remote: $("video-remote"),
    remoteEmpty: $("video-remote-empty"),
    remoteEmptyText: $("video-remote-empty-text"),
    local: $("video-local"),
    failed: $("video-failed"),
    keepChat: $("video-keep-chat"),
    failedEnd: $("video-failed-end"),
    switchCamera: $("video-switch"),
    mute: $("video-mute"),
    cameraOff: $("video-camera-off"),
    hangup: $("video-hangup"),
    confirmEnd: $("video-confirm-end"),
    confirmEndYes: $("video-confirm-end-yes"),
    confirmEndNo: $("video-confirm-end-no"),
    log: $("video-log"),
    compose: $("video-compose"),
    input: $("video-input"),
    ended: $("video-ended"),
    endedHeading: $("video-ended-heading"),
    endedDetail: $("video-ended-detail"),
    endedTicket: $("video-ended-ticket"),
    csat: $("video-csat"),
    csatThanks: $("video-csat-thanks"),
    newCall: $("video-new"),
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

  // The call's one status line, with an icon as well as words (never colour or sound alone).
  const TONE_ICONS = {
    info: "bi-info-circle-fill",
    ok: "bi-check-circle-fill",
    warn: "bi-exclamation-triangle-fill",
    error: "bi-x-circle-fill",
  };
  K.setStatus = function setStatus(text, tone) {
    const { status, statusIcon, statusText } = K.el;
    if (statusText.textContent === (text || "") && status.dataset.tone === (tone || "info")) return;
    status.dataset.tone = tone || "info";
    statusIcon.className = `bi ${TONE_ICONS[tone || "info"]}`;
    statusText.textContent = text || "";
    status.classList.toggle("is-empty", !text);
  };

  K.showError = function showError(text) {
    K.el.error.textContent = text || "";
    K.show(K.el.error, Boolean(text));
  };

  K.showNotice = function showNotice(text) {
    K.el.notice.textContent = text || "";
    K.show(K.el.notice, Boolean(text));
  };

  // created_at is already in Asia/Seoul ("2026-11-26T17:40:00+09:00"): show it as given.
  K.hhmm = function hhmm(iso) {
    const match = /T(\d{2}):(\d{2})/.exec(iso || "");
    return match ? `${match[1]}:${match[2]}` : "";
  };

  // --- screens -----------------------------------------------------------------------------
  const PHASES = ["intro", "unavailable", "waiting", "call", "ended"];
  K.phase = main.dataset.phase;

  K.setPhase = function setPhase(phase) {
    if (!PHASES.includes(phase)) return;
    K.phase = phase;
    main.dataset.phase = phase;
    const before = phase === "intro" || phase === "unavailable";
    K.show(K.el.about, before);
    K.show(K.el.intro, phase === "intro");
    K.show(K.el.unavailable, phase === "unavailable");
    K.show(K.el.waiting, phase === "waiting");
    K.show(K.el.call, phase === "call");
    K.show(K.el.ended, phase === "ended");
    if (before || phase === "ended") K.setStatus("");
  };

  // --- the call survives a reload of this tab (not other tabs: sessionStorage) --------------
  const stored = window.Open120StoredSession("sessionStorage", STORAGE_KEY);
  K.loadSession = stored.load;
  K.saveSession = stored.save;
  K.clearSession = stored.clear;

  // --- state the files share -------------------------------------------------------------
  K.state = {
    session: null, // {token, contact_id, ws_url, ws_protocols, video_ws_url, video_ws_protocols, rated?}
    chatState: null, // waiting | active | ended
    hadAgent: false,
    agentName: null,
    lastId: 0,
    shown: new Set(),
    pending: new Map(), // client_id → bubble
    textOnly: false, // the citizen chose to go on without video
  };
  K.client = null; // the chat socket (static/js/socket.js)
  K.peer = null; // the video peer (static/js/video_peer.js)
  K.stream = null; // the camera and microphone
  K.send = (frame) => K.client !== null && K.client.send(frame);
})(window.Open120VideoPage = window.Open120VideoPage || {});
