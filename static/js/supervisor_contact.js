// Supervisor follows one conversation over the agent socket and may conference in.
(function () {
  "use strict";
  const script = document.getElementById("live-script");
  const contactId = JSON.parse(document.getElementById("live-contact-id").textContent);
  const log = document.getElementById("live-log");
  const state = document.getElementById("live-state");
  const form = document.getElementById("live-form");
  const input = document.getElementById("live-text");
  const internal = document.getElementById("live-internal");
  const seen = new Set();
  let socket = null;
  let lastId = 0;
  let delay = 500;

  function show(message) {
    if (seen.has(message.id)) return;
    seen.add(message.id);
    lastId = Math.max(lastId, message.id);
    const item = document.createElement("li");
    item.className = `live-message live-${message.sender}` + (message.internal ? " live-internal" : "");
    const time = new Date(message.created_at).toLocaleTimeString("ko-KR", { hour: "2-digit", minute: "2-digit", timeZone: "Asia/Seoul" });
    const who = document.createElement("strong");
    who.textContent = (message.sender_name || message.sender) + (message.internal ? ` (${script.dataset.internal})` : "");
    const text = document.createElement("span");
    text.textContent = " " + message.text;
    const when = document.createElement("small");
    when.className = "text-body-secondary ms-2";
    when.textContent = time;
    item.append(who, text, when);
    log.append(item);
    item.scrollIntoView({ block: "end" });
  }

  function connect() {
    const scheme = window.location.protocol === "https:" ? "wss" : "ws";
    socket = new WebSocket(`${scheme}://${window.location.host}/ws/agent/`);
    socket.addEventListener("open", () => { delay = 500; });
    socket.addEventListener("message", (event) => {
      const frame = JSON.parse(event.data);
      if (frame.type === "hello") {
        socket.send(JSON.stringify({ type: "contact.join", contact_id: contactId }));
      } else if (frame.type === "contact.assigned" && frame.contact.id === contactId) {
        state.textContent = script.dataset.connected;
        socket.send(JSON.stringify({ type: "history", contact_id: contactId }));
      } else if (frame.type === "history") {
        frame.messages.forEach(show);
      } else if (frame.type === "message.created" && frame.message.contact_id === contactId) {
        show(frame.message);
      } else if (frame.type === "error") {
        state.textContent = frame.message;
      }
    });
    socket.addEventListener("close", (event) => {
      if (event.code === 4403) { window.location.reload(); return; }
      state.textContent = script.dataset.disconnected;
      setTimeout(connect, delay);
      delay = Math.min(delay * 2, 15000);
    });
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const text = input.value.trim();
    if (!text || !socket || socket.readyState !== WebSocket.OPEN) return;
    socket.send(JSON.stringify({ type: "message.send", contact_id: contactId, text, internal: internal.checked, client_id: `s-${Date.now()}` }));
    input.value = "";
  });
  input.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey) { event.preventDefault(); form.requestSubmit(); }
  });
  connect();
})();
