// Open120 citizen web chat: the live conversation over /ws/chat/ (the token travels as the
// second subprotocol) with the shared socket client (static/js/socket.js). The other parts
// are base.js, messages.js, screens.js and forms.js; this file loads last. Texts come from
// #chat-i18n (translated by the template); the protocol is described in docs/realtime.md.
(function (K) {
  "use strict";
  const { T, el, fill, show, state: S } = K;
  // 4404: unknown token; 4410: the chat ended and its after-end window has passed.
  const SESSION_GONE = [4404, 4410];

  K.connect = function connect() {
    if (!S.session) return;
    K.disconnect();
    // The token travels as a WebSocket subprotocol, not in the URL: URLs end up in access logs.
    K.client = window.Open120Socket.open("/ws/chat/", {
      protocols: ["open120.chat", S.session.token],
      lastMessageId: () => S.lastId,
      stopCodes: SESSION_GONE,
      onStop: () => {
        K.clearSession();
        K.resetToStart(T.sessionGone);
      },
      onStatus: (status) => {
        if (status === "connecting") K.showConnection(T.connecting);
        else if (status === "reconnecting") K.showConnection(T.reconnecting);
      },
      onFrame: handleFrame,
      onRefused: handleRefusal,
    });
  };

  K.disconnect = function disconnect() {
    const client = K.client;
    K.client = null;
    if (client) client.close();
  };

  function onHello(frame) {
    K.showConnection("");
    if (frame.contact_id && S.session.contact_id !== frame.contact_id) {
      S.session.contact_id = frame.contact_id;
      K.saveSession(S.session);
    }
    K.applyState(frame.state, frame.agent_name, { live: false });
    K.forgetAfter(frame.closes_in_seconds);
    if (S.chatState === "waiting") {
      K.showPosition(frame.position, frame.eta_seconds);
      if (frame.no_agents) K.showNoAgents();
      else K.hideNoAgents();
    }
    K.showTicketNumber(frame.ticket_number);
  }

  function onMoved(frame) {
    S.session.contact_id = frame.new_contact_id;
    K.saveSession(S.session);
    K.addLocalNotice(T.moved);
    K.showPosition(null, null);
    K.applyState("waiting", null, { live: true });
  }

  function onCsatSaved() {
    S.waitingRequest = null;
    S.session.rated = true;
    K.saveSession(S.session);
    show(el.csat, false);
    el.csatThanks.textContent = T.csatThanks;
    show(el.csatThanks, true);
    el.csatThanks.focus(); // the pressed button is gone: keep the reader's place
  }

  function onCallbackSaved() {
    S.waitingRequest = null;
    S.callbackSaved = true;
    show(el.callbackForm, false);
    show(el.callbackToggle, false);
    show(el.noAgentsText, false);
    el.callbackSaved.textContent = T.callbackSaved;
    show(el.callbackSaved, true);
  }

  const HANDLERS = {
    hello: onHello,
    "chat.ticket": (f) => K.showTicketNumber(f.number),
    "queue.position": (f) => {
      // Positions are only announced while someone who can answer is logged in.
      if (S.chatState !== "waiting") return;
      K.showPosition(f.position, f.eta_seconds);
      K.hideNoAgents();
    },
    "queue.no_agents": () => { if (S.chatState === "waiting") K.showNoAgents(); },
    "chat.state": (f) => K.applyState(f.state, f.agent_name, { live: true }),
    "message.created": (f) => { if (f.message) K.addMessage(f.message); },
    "message.delivered": (f) => K.markDelivered(f.up_to_id),
    typing: (f) => K.showTyping(f.name),
    "chat.ended": (f) => {
      K.endChat(f.by, null, { live: true });
      K.forgetAfter(f.closes_in_seconds);
    },
    "chat.moved": onMoved,
    "csat.saved": onCsatSaved,
    "callback.saved": onCallbackSaved,
    "transcript.sent": (f) => {
      S.waitingRequest = null;
      el.transcriptStatus.textContent = f.via === "sms" ? T.transcriptSms : T.transcriptEmail;
      el.transcriptStatus.className = "small mt-1 mb-0 chat-confirm";
    },
    // The socket has sent the outbox again by now.
    "resume.done": (f) => {
      if (Number.isInteger(f.last_message_id)) S.lastId = Math.max(S.lastId, f.last_message_id);
      K.sendAck();
    },
    error: handleRefusal,
  };

  function handleFrame(frame) {
    if (Object.hasOwn(HANDLERS, frame.type)) HANDLERS[frame.type](frame);
  }

  function handleRefusal(frame) {
    if (frame.code === "unknown_session" || frame.code === "session_expired") return; // the close follows
    const text = fill(T.refused, { message: frame.message || frame.code });
    const refused = typeof frame.client_id === "string" ? S.pending.get(frame.client_id) : null;
    if (refused) {
      // The server will never store this one: the socket does not send it again either.
      S.pending.delete(frame.client_id);
      K.saveOutbox();
      refused.node.classList.remove("msg-pending");
      K.setDelivery(refused.node, "failed");
      K.showError(text);
      return;
    }
    showRefusalAt(S.waitingRequest, text);
    S.waitingRequest = null;
  }

  // A refusal shows next to the request that waited for an answer.
  function showRefusalAt(request, text) {
    if (request === "callback") {
      el.callbackError.textContent = text;
      show(el.callbackError, true);
      el.callbackForm.querySelector("button[type=submit]").disabled = false;
    } else if (request === "csat") {
      el.csatThanks.textContent = text;
      show(el.csatThanks, true);
      el.csat.querySelectorAll("button").forEach((b) => {
        b.removeAttribute("aria-disabled");
        b.removeAttribute("aria-pressed");
      });
    } else if (request === "transcript") {
      el.transcriptStatus.textContent = text;
      el.transcriptStatus.className = "small mt-1 mb-0 chat-error-text";
    } else {
      K.showError(text);
    }
  }

  // A KakaoTalk citizen continuing here: the bot's link carries a session token in its
  // fragment (never sent to a server); kept like a chat started here, then out of the URL.
  const continued = /(?:^#|&)continue=([A-Za-z0-9_-]{20,200})/.exec(window.location.hash);
  if (continued) {
    K.saveSession({ token: continued[1], contact_id: null });
    window.history.replaceState(null, "", window.location.pathname + window.location.search);
  }

  S.session = K.loadSession();
  if (S.session) {
    K.enterRoom();
    K.connect();
    K.restoreOutbox();
  }
})(window.Open120Chat = window.Open120Chat || {});
