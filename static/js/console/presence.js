// Agent console: my presence (badge, since when, the form to change it).
(function (C) {
  "use strict";
  if (!C.root) return;
  const { t, el } = C;

  const presenceBadge = document.getElementById("presence-badge");
  const presenceSince = document.getElementById("presence-since");
  const presenceForm = document.querySelector("#presence-control form");
  const presenceSelect = presenceForm && presenceForm.querySelector("select[name=presence]");
  const reasonInput = presenceForm && presenceForm.querySelector("input[name=reason]");

  // The presence the page shows (rendered by the server, then from frames). The list follows
  // real changes only, so a hello after a reconnect never undoes a choice being made.
  let shownPresence = presenceSelect ? presenceSelect.value : null;

  C.showPresence = function showPresence(presence, reason, changedAt) {
    const changed = presence !== shownPresence;
    shownPresence = presence;
    presenceBadge.className = `badge rounded-pill presence-badge presence-${presence}`;
    presenceBadge.textContent = C.PRESENCE[presence] || presence;
    if (changedAt !== undefined) {
      presenceSince.textContent = t("since", { time: C.hhmm(changedAt) }) + (reason ? ` · ${reason}` : "");
    }
    if (changed && presenceSelect && presenceSelect.querySelector(`option[value="${presence}"]`)) {
      presenceSelect.value = presence;
    }
    C.presenceError("");
  };

  C.presenceError = function presenceError(text) {
    if (!reasonInput) return;
    let feedback = presenceForm.querySelector(".js-presence-error");
    if (!feedback) {
      feedback = el("div", { class: "invalid-feedback d-block js-presence-error", id: "presence-error" });
      reasonInput.insertAdjacentElement("afterend", feedback);
    }
    feedback.textContent = text;
    reasonInput.classList.toggle("is-invalid", Boolean(text));
    if (text) reasonInput.setAttribute("aria-describedby", "presence-error");
    else reasonInput.removeAttribute("aria-describedby");
  };

  if (presenceForm && presenceSelect) {
    presenceForm.addEventListener("submit", (event) => {
      if (!C.socket.isOpen) return; // no socket: the plain form posts to the server
      event.preventDefault();
      const presence = presenceSelect.value;
      const reason = reasonInput ? reasonInput.value.trim() : "";
      if (presence === "break" && !reason) {
        C.presenceError(t("breakNeedsReason"));
        reasonInput.focus();
        return;
      }
      C.presenceError("");
      C.send({ type: "presence.set", presence, reason });
    });
  }
})(window.Open120Console = window.Open120Console || {});
