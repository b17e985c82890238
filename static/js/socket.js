// One reconnecting WebSocket client for every live page (protocol: docs/realtime.md).
// It reconnects with exponential backoff and jitter, asks the server to resume after the last
// message the page saw, keeps sent messages (by client_id) until the server echoes them and
// sends them again after a reconnect, drops for good a message the server refuses, and stops
// on the close codes after which reconnecting cannot help (session gone, expired, forbidden).
//
// A classic script with one global (Open120Socket), not an ES module: pages link every file
// with {% static %}, which names it by its hash in production, and imports between modules
// would keep the unhashed names.
(function () {
  "use strict";

  const FIRST_DELAY_MS = 500;
  const MAX_DELAY_MS = 15000;
  // A connection that stayed up this long was not a flap: the next drop starts backoff anew.
  const STABLE_AFTER_MS = 5000;

  function newClientId() {
    if (window.crypto && typeof window.crypto.randomUUID === "function") return window.crypto.randomUUID();
    // randomUUID needs a secure context; fall back to the same format from getRandomValues.
    const bytes = window.crypto.getRandomValues(new Uint8Array(16));
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    const hex = [...bytes].map((b) => b.toString(16).padStart(2, "0")).join("");
    return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
  }

  function socketUrl(path) {
    const scheme = window.location.protocol === "https:" ? "wss" : "ws";
    return `${scheme}://${window.location.host}${path}`;
  }

  // Half the backoff step plus a random part of the other half, so that many pages dropped
  // by one server restart do not all come back in the same instant.
  function backoff(attempt) {
    const step = Math.min(MAX_DELAY_MS, FIRST_DELAY_MS * 2 ** attempt);
    return step / 2 + Math.random() * (step / 2);
  }

  function parse(data) {
    try {
      const frame = JSON.parse(data);
      return frame && typeof frame.type === "string" ? frame : null;
    } catch (error) {
      return null;
    }
  }

  const NOOP = () => {};

  /**
   * Open a socket to `path` on this host and keep it open.
   *
   * options:
   *   protocols       WebSocket subprotocols (the chat passes its token as the second one)
   *   onFrame(frame)  every frame, except refusals of a tracked message (see onRefused)
   *   onStatus(s)     "connecting" | "reconnecting" | "open" | "stopped" | "closed"
   *   lastMessageId() when given, every (re)open sends {type: "resume", last_message_id}
   *                   and tracked messages wait for the server's resume.done
   *   stopCodes       close codes after which the client gives up; onStop(code) follows
   *   onRefused(errorFrame, sentFrame)  the server refused a tracked message: never resent
   *   onGiveUp(clientId)  a tracked message was dropped: no echo in sendTimeoutMs, more
   *                   than maxSends tries, or shouldResend(frame) said no after a reconnect
   *   onSend(frame)   after each frame goes out (resends included)
   *   pingEvery       ms between pings (0: none)
   */
  function open(path, options) {
    const opts = Object.assign({
      protocols: null, onFrame: NOOP, onStatus: NOOP, onStop: NOOP, onRefused: NOOP,
      onGiveUp: NOOP, onSend: NOOP, lastMessageId: null, stopCodes: [], pingEvery: 0,
      sendTimeoutMs: 0, maxSends: Infinity, shouldResend: () => true,
    }, options);
    const outbox = new Map(); // client_id → {frame, sentOn, sends, timer}
    let ws = null;
    let connection = 0; // counts sockets, so a tracked message goes once per socket
    let attempt = 0;
    let resuming = false;
    let stopped = false;
    let retryTimer = null;
    let pingTimer = null;
    let stableTimer = null;
    let pingId = 0;

    const isOpen = () => ws !== null && ws.readyState === WebSocket.OPEN;
    const isReady = () => isOpen() && !resuming;

    function send(frame) {
      if (!isOpen()) return false;
      ws.send(JSON.stringify(frame));
      opts.onSend(frame);
      return true;
    }

    function connect() {
      retryTimer = null;
      opts.onStatus(connection === 0 ? "connecting" : "reconnecting");
      let socket;
      try {
        socket = opts.protocols ? new window.WebSocket(socketUrl(path), opts.protocols)
          : new window.WebSocket(socketUrl(path));
      } catch (error) {
        scheduleReconnect();
        return;
      }
      ws = socket;
      connection += 1;
      resuming = false;
      socket.addEventListener("open", () => { if (ws === socket) onOpen(); });
      socket.addEventListener("message", (event) => { if (ws === socket) onMessage(event.data); });
      socket.addEventListener("close", (event) => { if (ws === socket) onClose(event.code); });
    }

    function onOpen() {
      stableTimer = window.setTimeout(() => { attempt = 0; }, STABLE_AFTER_MS);
      if (opts.pingEvery) {
        pingTimer = window.setInterval(() => send({ type: "ping", id: ++pingId }), opts.pingEvery);
      }
      if (opts.lastMessageId) {
        // Missed messages come first, then resume.done; the same call serves a page reload.
        resuming = true;
        send({ type: "resume", last_message_id: opts.lastMessageId() });
      }
      opts.onStatus("open");
      flush();
    }

    function onMessage(data) {
      const frame = parse(data);
      if (!frame) return;
      if (frame.type === "message.created" && frame.message) settle(frame.message.client_id);
      if (frame.type === "error" && outbox.has(frame.client_id)) {
        const sent = settle(frame.client_id);
        opts.onRefused(frame, sent.frame);
        return;
      }
      if (frame.type === "resume.done") {
        resuming = false;
        flush();
      }
      opts.onFrame(frame);
    }

    function onClose(code) {
      ws = null;
      resuming = false;
      window.clearInterval(pingTimer);
      window.clearTimeout(stableTimer);
      // Offline time does not count against a message: its clock restarts when it is resent.
      for (const entry of outbox.values()) window.clearTimeout(entry.timer);
      if (opts.stopCodes.includes(code)) {
        stop();
        opts.onStatus("stopped");
        opts.onStop(code);
        return;
      }
      if (stopped) return;
      opts.onStatus("reconnecting");
      scheduleReconnect();
    }

    function scheduleReconnect() {
      window.clearTimeout(retryTimer);
      retryTimer = window.setTimeout(connect, backoff(attempt));
      attempt += 1;
    }

    // --- tracked messages ------------------------------------------------------------------
    function settle(clientId) {
      const entry = typeof clientId === "string" ? outbox.get(clientId) : undefined;
      if (!entry) return null;
      window.clearTimeout(entry.timer);
      outbox.delete(clientId);
      return entry;
    }

    function giveUp(clientId) {
      if (settle(clientId)) opts.onGiveUp(clientId);
    }

    function transmit(clientId, entry) {
      if (entry.sentOn !== 0 && !opts.shouldResend(entry.frame)) return giveUp(clientId);
      if (entry.sends >= opts.maxSends) return giveUp(clientId);
      if (!send(entry.frame)) return;
      entry.sentOn = connection;
      entry.sends += 1;
      if (opts.sendTimeoutMs) {
        window.clearTimeout(entry.timer);
        entry.timer = window.setTimeout(() => giveUp(clientId), opts.sendTimeoutMs);
      }
    }

    function flush() {
      if (!isReady()) return;
      for (const [clientId, entry] of [...outbox]) {
        if (entry.sentOn !== connection) transmit(clientId, entry);
      }
    }

    // Back online: try at once instead of waiting out the backoff.
    function onOnline() {
      if (retryTimer === null) return;
      window.clearTimeout(retryTimer);
      attempt = 0;
      connect();
    }
    window.addEventListener("online", onOnline);

    function stop() {
      stopped = true;
      window.clearTimeout(retryTimer);
      retryTimer = null;
      window.removeEventListener("online", onOnline);
    }

    connect();

    return {
      get isOpen() { return isOpen(); },
      // Open, and the server has replayed what the page missed.
      get isReady() { return isReady(); },
      get isResuming() { return resuming; },
      send,
      // Send a frame with a client_id now or when ready; again after every reconnect until
      // the server echoes it (message.created with that client_id) or refuses it.
      sendTracked(frame) {
        settle(frame.client_id);
        const entry = { frame, sentOn: 0, sends: 0, timer: null };
        outbox.set(frame.client_id, entry);
        if (isReady()) transmit(frame.client_id, entry);
      },
      forget(clientId) { settle(clientId); },
      close() {
        stop();
        for (const clientId of [...outbox.keys()]) settle(clientId);
        const socket = ws;
        ws = null;
        window.clearInterval(pingTimer);
        window.clearTimeout(stableTimer);
        if (socket) socket.close(1000);
        opts.onStatus("closed");
      },
    };
  }

  window.Open120Socket = { open, newClientId };
})();
