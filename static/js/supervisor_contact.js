// Supervisor listens to one conversation over the agent socket (silently), may whisper to the
// agent, and conferences in only with the Join button (docs/realtime.md).
(function () {
  "use strict";
  const script = document.getElementById("live-script");
  const contactId = JSON.parse(document.getElementById("live-contact-id").textContent);
  const log = document.getElementById("live-log");
  const state = document.getElementById("live-state");
  const form = document.getElementById("live-form");
  const input = document.getElementById("live-text");
  const whisper = document.getElementById("live-whisper");
  const joinButton = document.getElementById("live-join");
  let joined = false;
  const seen = new Set();

  // As the console names them: system lines never carry a person's name.
  const SENDER_LABELS = {
    system: script.dataset.senderSystem,
    bot: script.dataset.senderBot,
    citizen: script.dataset.senderCitizen,
    agent: script.dataset.senderAgent,
  };

  function senderLabel(message) {
    if (message.sender === "system") return SENDER_LABELS.system;
    return message.sender_name || SENDER_LABELS[message.sender] || message.sender;
  }

  function show(message) {
    if (seen.has(message.id)) return;
    seen.add(message.id);
    const item = document.createElement("li");
    item.className = `live-message live-${message.sender}` + (message.internal ? " live-internal" : "");
    const time = new Date(message.created_at).toLocaleTimeString("ko-KR", { hour: "2-digit", minute: "2-digit", timeZone: "Asia/Seoul" });
    const who = document.createElement("strong");
    const note = message.sender === "supervisor" ? script.dataset.whisper : script.dataset.internal;
    who.textContent = senderLabel(message) + (message.internal ? ` (${note})` : "");
    const text = document.createElement("span");
    text.textContent = " " + message.text;
    const when = document.createElement("small");
    when.className = "text-body-secondary ms-2";
    when.textContent = time;
    item.append(who, text, when);
    log.append(item);
    item.scrollIntoView({ block: "end" });
  }

  function onFrame(frame) {
    if (frame.type === "hello") {
      socket.send({ type: "contact.listen", contact_id: contactId });
    } else if (frame.type === "contact.listening" && frame.contact.id === contactId) {
      showJoined(frame.joined);
      socket.send({ type: "history", contact_id: contactId });
    } else if (frame.type === "contact.assigned" && frame.contact.id === contactId) {
      showJoined(true);
    } else if (frame.type === "history") {
      frame.messages.forEach(show);
    } else if (frame.type === "message.created" && frame.message.contact_id === contactId) {
      show(frame.message);
    } else if (frame.type === "call.updated" && frame.contact_id === contactId) {
      showCall(frame.call, frame.state);
    } else if (frame.type === "error") {
      state.textContent = frame.message;
    }
  }

  // --- A phone contact: the call's state and parties, live (call.updated frames) -----------
  const callCard = document.getElementById("call-live");
  const CALL = {};
  const callStrings = document.getElementById("call-live-strings");
  if (callStrings) {
    for (const node of callStrings.content.querySelectorAll("[data-k]")) CALL[node.dataset.k] = node.textContent.trim();
  }
  let call = null;

  function callPhase(summary, contactState) {
    if (contactState === "waiting") return "waiting";
    if (contactState !== "active" || !summary) return contactState === "active" ? "connecting" : "ended";
    if (summary.on_hold) return "hold";
    const legs = summary.legs || [];
    const caller = legs.find((leg) => leg.role === "caller");
    const agent = legs.find((leg) => leg.role === "agent");
    return caller && agent && caller.state === "joined" && agent.state === "joined" ? "connected" : "connecting";
  }

  function party(leg) {
    const item = document.createElement("li");
    item.className = `call-party party-${leg.role}`;
    const who = document.createElement("strong");
    const role = { caller: CALL.caller, agent: CALL.agent, interpreter: CALL.interpreter, consult: CALL.colleague }[leg.role] || leg.role;
    who.textContent = role;
    item.append(who);
    const detail = leg.agent_name || (leg.role === "interpreter" ? CALL[leg.language] || leg.language : "");
    if (detail) item.append(` ${detail}`);
    const legState = document.createElement("span");
    legState.className = "small text-body-secondary ms-1";
    legState.textContent = leg.state === "joined" ? CALL.joined : CALL.dialling;
    item.append(legState);
    for (const [flag, label, look] of [["on_hold", CALL.onHold, "text-bg-info"], ["muted", CALL.muted, "text-bg-secondary"]]) {
      if (!leg[flag]) continue;
      const badge = document.createElement("span");
      badge.className = `badge ${look} ms-1`;
      badge.textContent = label;
      item.append(badge);
    }
    return item;
  }

  function showCall(summary, contactState) {
    if (!callCard) return;
    call = summary;
    const phase = callPhase(summary, contactState);
    callCard.dataset.state = phase;
    const badge = document.getElementById("call-live-state");
    const looks = { waiting: "text-bg-secondary", connecting: "text-bg-warning", connected: "text-bg-success", hold: "text-bg-info", ended: "text-bg-secondary" };
    badge.className = `badge ${looks[phase]}`;
    badge.textContent = CALL[{ waiting: "waiting", connecting: "connecting", connected: "connected", hold: "onHold", ended: "ended" }[phase]];
    const parties = document.getElementById("call-live-parties");
    parties.textContent = "";
    if (phase !== "ended") for (const leg of (summary && summary.legs) || []) parties.append(party(leg));
    tickCall();
  }

  function tickCall() {
    const timer = document.getElementById("call-live-timer");
    if (!timer) return;
    const holding = callCard.dataset.state === "hold" && call && call.hold_started_at;
    timer.hidden = !holding;
    if (!holding) return;
    const seconds = Math.max(0, Math.round((Date.now() - Date.parse(call.hold_started_at)) / 1000));
    timer.textContent = `${Math.floor(seconds / 60)}:${String(seconds % 60).padStart(2, "0")}`;
  }

  if (callCard) {
    fetch(callCard.dataset.callUrl, { credentials: "same-origin" })
      .then((response) => (response.ok ? response.json() : null))
      .then((data) => { if (data && call === null) showCall(data.call, data.state); })
      .catch(() => {});
    window.setInterval(tickCall, 1000);
  }

  // Every (re)connect listens again and reloads the history; `seen` keeps lines single.
  const socket = window.Open120Socket.open("/ws/agent/", {
    stopCodes: [4403],
    onStop: () => window.location.reload(),
    onStatus: (status) => {
      if (status === "reconnecting") state.textContent = script.dataset.disconnected;
    },
    onFrame,
  });

  function showJoined(value) {
    joined = value;
    state.textContent = joined ? script.dataset.connected : script.dataset.listening;
    joinButton.hidden = joined;
  }

  joinButton.addEventListener("click", () => {
    socket.send({ type: "contact.join", contact_id: contactId });
  });

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const text = input.value.trim();
    if (!text || !socket.isOpen) return;
    const clientId = `s-${Date.now()}`;
    if (whisper.checked) {
      socket.send({ type: "whisper", contact_id: contactId, text, client_id: clientId });
    } else if (!joined) {
      state.textContent = script.dataset.joinFirst;
      return;
    } else {
      socket.send({ type: "message.send", contact_id: contactId, text, client_id: clientId });
    }
    input.value = "";
  });
  input.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey) { event.preventDefault(); form.requestSubmit(); }
  });
})();
