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
    } else if (frame.type === "error") {
      state.textContent = frame.message;
    }
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
