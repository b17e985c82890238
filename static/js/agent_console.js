// Agent console socket: live presence, reconnecting with exponential back-off.
(function () {
  "use strict";
  const script = document.getElementById("agent-console-script");
  const stateEl = document.getElementById("socket-state");
  const badge = document.getElementById("presence-badge");
  const presenceSelect = document.getElementById("id_presence");
  let delay = 500;

  function labelFor(presence) {
    const option = presenceSelect && presenceSelect.querySelector(`option[value="${presence}"]`);
    return option ? option.textContent : presence;
  }

  function showPresence(presence) {
    badge.className = `badge rounded-pill presence-badge presence-${presence}`;
    badge.textContent = labelFor(presence);
  }

  function connect() {
    const scheme = window.location.protocol === "https:" ? "wss" : "ws";
    const socket = new WebSocket(`${scheme}://${window.location.host}/ws/agent/`);
    socket.addEventListener("open", () => {
      delay = 500;
      stateEl.textContent = script.dataset.connected;
    });
    socket.addEventListener("message", (event) => {
      const frame = JSON.parse(event.data);
      if (frame.type === "hello" || frame.type === "presence.changed") {
        showPresence(frame.presence);
      }
    });
    socket.addEventListener("close", (event) => {
      if (event.code === 4403) {
        window.location.reload();  // the session ended: the page sends the user to log in
        return;
      }
      stateEl.textContent = script.dataset.disconnected;
      setTimeout(connect, delay);
      delay = Math.min(delay * 2, 15000);
    });
  }

  connect();
})();
