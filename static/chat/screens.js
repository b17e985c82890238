// Citizen web chat: what the page shows in each state — waiting (place in the queue, the
// no-agent notice), talking with an agent, ended (rating, transcript) — and the start screen.
(function (K) {
  "use strict";
  const { T, el, fill, show, state: S } = K;
  const ENDED_STATES = ["wrapup", "done", "abandoned", "ended"];

  K.applyState = function applyState(state, agentName, { live }) {
    if (ENDED_STATES.includes(state)) {
      K.endChat(null, state, { live });
      return;
    }
    show(el.ended, false);
    show(el.compose, true);
    show(el.endButton, true);
    if (state === "active") {
      S.chatState = "active";
      S.hadAgent = true;
      show(el.waiting, false);
      el.agentText.textContent = agentName
        ? fill(T.connectedWith, { agent: agentName })
        : T.connectedAgent;
      show(el.agentBar, true);
    } else {
      S.chatState = "waiting";
      show(el.agentBar, false);
      show(el.waiting, true);
    }
  };

  // --- waiting -----------------------------------------------------------------------------
  let queueInfo = { position: null, eta: null };

  K.showPosition = function showPosition(position, etaSeconds) {
    queueInfo = { position, eta: etaSeconds };
    renderPosition();
  };

  function renderPosition() {
    const { position, eta } = queueInfo;
    const parts = [];
    // With nobody logged in who can answer, a place in the queue or an estimated wait would
    // only mislead: the no-agent notice and its call-back choice stand alone.
    if (!el.noAgents.hidden) {
      el.waitingDetail.textContent = "";
      return;
    }
    if (Number.isInteger(position) && position > 0) {
      parts.push(position === 1 ? T.positionNext : fill(T.position, { position }));
    }
    if (typeof eta === "number" && eta >= 0) {
      parts.push(
        eta < 60 ? T.etaSoon : fill(T.etaMinutes, { minutes: Math.max(1, Math.round(eta / 60)) })
      );
    }
    el.waitingDetail.textContent = parts.join(" ");
  }

  K.showNoAgents = function showNoAgents() {
    show(el.noAgents, true);
    renderPosition();
  };

  K.hideNoAgents = function hideNoAgents() {
    if (S.waitingRequest === "callback" || S.callbackSaved || el.noAgents.hidden) return;
    show(el.noAgents, false);
    renderPosition();
  };

  // The ticket the agent filed: on the end screen, to look it up later on /track/.
  K.showTicketNumber = function showTicketNumber(number) {
    if (!number) return;
    el.endedTicket.textContent = fill(T.ticketNumber, { number });
    show(el.endedTicket, true);
  };

  // --- ended -------------------------------------------------------------------------------
  K.endChat = function endChat(by, state, { live }) {
    const wasEnded = S.chatState === "ended";
    S.chatState = "ended";
    show(el.waiting, false);
    show(el.agentBar, false);
    show(el.compose, false);
    show(el.endButton, false);
    K.hideTyping();
    K.hideEndModal();
    K.failPending();
    if (by === "agent") el.endedDetail.textContent = T.endedAgent;
    else if (by === "citizen") el.endedDetail.textContent = T.endedCitizen;
    else if (by === "callback") el.endedDetail.textContent = T.endedCallback;
    else if (!wasEnded) el.endedDetail.textContent = T.ended;
    const answered = state ? state === "wrapup" || state === "done" : S.hadAgent && by !== "callback";
    if (!wasEnded) show(el.csat, answered && !(S.session && S.session.rated));
    show(el.ended, true);
    if (live && !wasEnded) el.endedHeading.focus();
  };

  let modal = null;
  K.endModal = function endModal() {
    if (!modal && window.bootstrap && window.bootstrap.Modal) {
      modal = window.bootstrap.Modal.getOrCreateInstance(el.endModal);
    }
    return modal;
  };
  K.hideEndModal = function hideEndModal() {
    if (modal) modal.hide();
  };

  // After the end the token works only for a while (rating, transcript): then forget it.
  let forgetTimer = null;
  K.forgetAfter = function forgetAfter(seconds) {
    if (typeof seconds !== "number" || forgetTimer || !S.session) return;
    const token = S.session.token;
    forgetTimer = window.setTimeout(() => {
      forgetTimer = null;
      if (!S.session || S.session.token !== token) return; // a new chat has started since
      K.clearSession();
      K.resetToStart(T.sessionGone);
    }, seconds * 1000);
  };

  // --- screens -----------------------------------------------------------------------------
  K.enterRoom = function enterRoom() {
    el.shell.classList.remove("is-start");
    show(el.start, false);
    show(el.room, true);
    show(el.endButton, true);
    show(el.compose, true);
    show(el.ended, false);
    show(el.waiting, true);
    K.showPosition(null, null);
  };

  function resetState() {
    Object.assign(S, {
      session: null, lastId: 0, deliveredUpTo: 0, ackWanted: 0, ackSent: 0, chatState: null,
      hadAgent: false, waitingRequest: null, callbackSaved: false,
    });
    S.shown.clear();
    S.pending.clear();
  }

  function resetPanels() {
    show(el.error, false);
    show(el.noAgents, false);
    show(el.noAgentsText, true);
    show(el.callbackForm, false);
    show(el.callbackToggle, true);
    el.callbackToggle.setAttribute("aria-expanded", "false");
    show(el.callbackSaved, false);
    show(el.callbackError, false);
    el.endedTicket.textContent = "";
    show(el.endedTicket, false);
    el.callbackForm.querySelector("button[type=submit]").disabled = false;
    el.callbackNote.value = "";
    show(el.csat, false);
    show(el.csatThanks, false);
    el.csat.querySelectorAll("button").forEach((b) => {
      b.removeAttribute("aria-disabled");
      b.removeAttribute("aria-pressed");
    });
    el.transcriptTo.value = "";
    el.transcriptStatus.textContent = "";
  }

  K.resetToStart = function resetToStart(notice) {
    window.clearTimeout(forgetTimer);
    forgetTimer = null;
    K.disconnect();
    K.showConnection("");
    resetState();
    K.hideTyping();
    K.hideEndModal();
    el.log.replaceChildren();
    el.input.value = "";
    resetPanels();
    show(el.room, false);
    show(el.endButton, false);
    show(el.start, true);
    el.shell.classList.add("is-start");
    if (notice) {
      el.startNotice.textContent = notice;
      show(el.startNotice, true);
    }
  };
})(window.Open120Chat = window.Open120Chat || {});
