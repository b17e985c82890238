// Agent console: the softphone. A phone contact's tab gets a call panel (state, parties,
// controls: mute, hold, transfer, interpreter, hang up) that posts to /api/voice/calls/ and
// follows call.updated frames; a colleague dialled in for a warm transfer gets a panel of
// its own (they hold no contact until the transfer completes). With VOICE_BACKEND=twilio
// the Twilio Voice SDK (static/vendor/twilio-voice) carries the audio: the conference dials
// this agent's client identity and the device answers its own leg at once and rings for a
// colleague's. With "simulated" the same panel works without audio.
(function (C) {
  "use strict";
  if (!C.root) return;
  const { el } = C;

  // --- Configuration and strings from the page -------------------------------------------
  const STR = {};
  const stringsTpl = document.getElementById("softphone-strings");
  if (stringsTpl) {
    for (const node of stringsTpl.content.querySelectorAll("[data-k]")) STR[node.dataset.k] = node.textContent.trim();
  }
  const s = (key, vars) => {
    const text = STR[key] !== undefined ? STR[key] : key;
    return vars ? text.replace(/\{(\w+)\}/g, (m, name) => (name in vars ? String(vars[name]) : m)) : text;
  };
  const cfg = {
    backend: C.root.dataset.voiceBackend || "simulated",
    tokenUrl: C.root.dataset.voiceTokenUrl,
    callUrl: C.root.dataset.voiceCallUrl,
  };
  const agentId = JSON.parse(document.getElementById("agent-id").textContent);
  const twilioMode = () => cfg.backend === "twilio";
  const LIVE = ["dialling", "joined"];

  function callUrl(contactId, action) {
    return cfg.callUrl.replace(/\/0$/, `/${contactId}`) + (action ? `/${action}` : "");
  }

  // GET the call's state, or POST one action; the answer is {contact_id, state, call}.
  async function callApi(contactId, action, body) {
    const options = { credentials: "same-origin", headers: { "X-Requested-With": "fetch" } };
    if (action) {
      options.method = "POST";
      options.headers["X-CSRFToken"] = C.cfg.csrf;
      options.headers["Content-Type"] = "application/json";
      options.body = JSON.stringify(body || {});
    }
    const response = await fetch(callUrl(contactId, action), options);
    let data = null;
    try { data = await response.json(); } catch (e) { data = null; }
    if (!response.ok) {
      const error = new Error((data && data.message) || s("failed"));
      error.status = response.status;
      throw error;
    }
    return data;
  }

  const legsOf = (call) => (call && call.legs ? call.legs.filter((leg) => LIVE.includes(leg.state)) : []);
  const legOf = (call, role, agent) => legsOf(call).find((leg) => leg.role === role && (agent === undefined || leg.agent_id === agent));

  // --- The call panel of a phone contact's tab ---------------------------------------------
  class Softphone {
    constructor(tab) {
      this.tab = tab;
      this.call = null;
      this.contactState = tab.contact.state;
      this.busy = false;
      this.audio = null; // the Twilio Call of my own leg
      this.node = C.clone("tpl-softphone");
      C.suffixIds(this.node, `c${tab.id}`);
      const q = (sel) => this.node.querySelector(sel);
      this.els = {
        label: q(".js-sp-label"),
        state: q(".js-sp-state"),
        timer: q(".js-sp-timer"),
        device: q(".js-sp-device"),
        parties: q(".js-sp-parties"),
        consult: q(".js-sp-consult"),
        consultText: q(".js-sp-consult-text"),
        complete: q(".js-sp-complete"),
        cancel: q(".js-sp-cancel"),
        controls: q(".js-sp-controls"),
        mute: q(".js-sp-mute"),
        muteLabel: q(".js-sp-mute-label"),
        hold: q(".js-sp-hold"),
        holdLabel: q(".js-sp-hold-label"),
        transfer: q(".js-sp-transfer"),
        interpreterBox: q(".js-sp-interpreter-box"),
        language: q(".js-sp-language"),
        interpreter: q(".js-sp-interpreter"),
        interpreterRemove: q(".js-sp-interpreter-remove"),
        hangup: q(".js-sp-hangup"),
        error: q(".js-sp-error"),
      };
      this.els.label.textContent = twilioMode() ? s("phone") : s("simulated");
      this.node.classList.toggle("is-simulated", !twilioMode());
      this.showDevice();
      this.chooseLanguage(tab.contact.language);
      this.bind();
      tab.els.alerts.before(this.node);
      this.timer = window.setInterval(() => this.tick(), 1000);
      this.render();
      this.refresh();
    }

    chooseLanguage(language) {
      const options = Array.from(this.els.language.options).map((option) => option.value);
      if (options.includes(language)) this.els.language.value = language;
    }

    bind() {
      const e = this.els;
      e.mute.addEventListener("click", () => {
        const mine = this.mine();
        const muted = !(mine && mine.muted);
        if (this.audio) this.audio.mute(muted);
        this.act(muted ? "mute" : "unmute");
      });
      e.hold.addEventListener("click", () => this.act(this.call && this.call.on_hold ? "resume" : "hold"));
      e.transfer.addEventListener("click", () => C.openCallTransfer(this.tab));
      e.interpreter.addEventListener("click", () => this.act("interpreter", { language: e.language.value }));
      e.interpreterRemove.addEventListener("click", () => this.act("interpreter-remove"));
      e.complete.addEventListener("click", () => this.act("transfer-complete"));
      e.cancel.addEventListener("click", () => this.act("transfer-cancel"));
      e.hangup.addEventListener("click", () => {
        if (window.confirm(s("confirmHangUp", { name: this.tab.name }))) this.act("hang-up");
      });
    }

    async refresh() {
      try {
        const data = await callApi(this.tab.id);
        this.show(data.call, data.state);
      } catch (e) { /* the next frame tells */ }
    }

    show(call, state) {
      const wasOnHold = Boolean(this.call && this.call.on_hold);
      if (call !== undefined) this.call = call;
      if (state) this.contactState = state;
      this.render();
      const onHold = Boolean(this.call && this.call.on_hold);
      if (onHold !== wasOnHold && this.phase() !== "ended") C.announce(onHold ? s("callHeld") : s("callResumed"));
      if (this.phase() === "ended") this.hangUpAudio();
      else matchIncoming();
    }

    // From the tab: the contact went to wrap-up (or is still active after a reconnect).
    setContactState(state) {
      const ended = this.contactState === "active" && state !== "active";
      this.contactState = state;
      this.tab.els.end.hidden = true; // a call ends with Hang up
      this.render();
      if (ended) {
        this.hangUpAudio();
        C.announce(s("callEnded"));
      }
    }

    mine() { return legOf(this.call, "agent", agentId); }

    phase() {
      if (this.contactState !== "active") return "ended";
      if (this.call && this.call.on_hold) return "hold";
      const mine = this.mine();
      const caller = legOf(this.call, "caller");
      return mine && caller && mine.state === "joined" && caller.state === "joined" ? "connected" : "connecting";
    }

    // My leg is being dialled and the device has not answered it yet.
    awaitsAudio() {
      const mine = this.mine();
      return !this.audio && this.contactState === "active" && Boolean(mine);
    }

    attachAudio(call) {
      this.audio = call;
      const mine = this.mine();
      if (mine && mine.muted) call.mute(true);
      call.on("disconnect", () => { if (this.audio === call) this.audio = null; this.showDevice(); });
      this.showDevice();
    }

    hangUpAudio() {
      if (this.audio) {
        const call = this.audio;
        this.audio = null;
        call.disconnect();
      }
    }

    showDevice() {
      if (!twilioMode()) this.els.device.textContent = s("simulatedNote");
      else this.els.device.textContent = phone.ready ? s("deviceReady") : s("deviceOffline");
    }

    partyItem(icon, who, leg, extra) {
      const state = leg ? s(leg.state === "joined" ? "joined" : "dialling") : "";
      return el("li", { class: `softphone-party party-${leg ? leg.state : "left"}` },
        el("i", { class: `bi ${icon} me-1`, "aria-hidden": "true" }),
        el("span", { class: "fw-semibold", text: who }),
        extra || null,
        state ? el("span", { class: "small text-body-secondary ms-2", text: state }) : null,
        leg && leg.muted ? el("span", { class: "badge text-bg-secondary ms-2" }, el("i", { class: "bi bi-mic-mute me-1", "aria-hidden": "true" }), s("muted")) : null,
        leg && leg.on_hold ? el("span", { class: "badge text-bg-warning ms-2", text: s("onHold") }) : null);
    }

    render() {
      const e = this.els;
      const phase = this.phase();
      const call = this.call;
      this.node.dataset.state = phase;
      const looks = { connecting: "text-bg-warning", connected: "text-bg-success", hold: "text-bg-info", ended: "text-bg-secondary" };
      e.state.className = `badge softphone-state ${looks[phase]} js-sp-state`;
      e.state.textContent = s({ connecting: "connecting", connected: "connected", hold: "onHold", ended: "ended" }[phase]);

      const caller = legOf(call, "caller");
      const mine = this.mine();
      const interpreter = legOf(call, "interpreter");
      const consult = legOf(call, "consult");
      e.parties.textContent = "";
      if (phase !== "ended") {
        e.parties.append(this.partyItem("bi-person", s("caller"), caller,
          el("span", { class: "text-body-secondary ms-1", text: (call && call.caller_phone) || C.citizenName(this.tab.contact.citizen, this.tab.id) })));
        e.parties.append(this.partyItem("bi-headset", s("me"), mine));
        for (const leg of legsOf(call).filter((l) => l.role === "agent" && l.agent_id !== agentId)) {
          e.parties.append(this.partyItem("bi-headset", s("agent"), leg, el("span", { class: "ms-1", text: leg.agent_name || "" })));
        }
        if (interpreter) {
          e.parties.append(this.partyItem("bi-translate", s("interpreter"), interpreter,
            el("span", { class: "ms-1", text: C.LANGUAGE[interpreter.language] || interpreter.language || "" })));
        }
        if (consult) e.parties.append(this.partyItem("bi-people", s("colleague"), consult, el("span", { class: "ms-1", text: consult.agent_name || "" })));
      }

      e.consult.hidden = !consult || phase === "ended";
      if (consult) {
        const name = consult.agent_name || s("colleague");
        e.consultText.textContent = consult.state === "joined" ? s("consultText", { name }) : s("consultDialling", { name });
      }

      const live = phase === "connected" || phase === "hold";
      const onHold = Boolean(call && call.on_hold);
      const muted = Boolean(mine && mine.muted);
      e.controls.hidden = phase === "ended";
      e.mute.disabled = this.busy || !live;
      e.mute.setAttribute("aria-pressed", String(muted));
      e.mute.classList.toggle("active", muted);
      e.muteLabel.textContent = muted ? s("unmute") : s("mute");
      e.hold.disabled = this.busy || !live || Boolean(consult);
      e.hold.setAttribute("aria-pressed", String(onHold));
      e.hold.classList.toggle("active", onHold);
      e.holdLabel.textContent = onHold ? s("resume") : s("hold");
      e.hold.querySelector("i").className = `bi ${onHold ? "bi-play-circle" : "bi-pause-circle"}`;
      e.transfer.disabled = this.busy || !live || Boolean(consult);
      e.interpreterBox.hidden = Boolean(interpreter) || !e.language.options.length;
      e.interpreter.disabled = this.busy || !live;
      e.language.disabled = this.busy || !live;
      e.interpreterRemove.hidden = !interpreter;
      e.interpreterRemove.disabled = this.busy || !live;
      e.complete.disabled = this.busy || !consult || consult.state !== "joined";
      e.cancel.disabled = this.busy;
      e.hangup.disabled = this.busy || this.contactState !== "active";
      this.tab.els.end.hidden = true;
      this.tick();
    }

    tick() {
      const call = this.call;
      const holding = this.phase() === "hold" && call && call.hold_started_at;
      this.els.timer.hidden = !holding;
      if (holding) this.els.timer.textContent = C.mmss((Date.now() - Date.parse(call.hold_started_at)) / 1000);
    }

    // One action; the answer (or null when refused: the reason shows in ``errorBox`` too).
    async act(action, body, errorBox) {
      if (this.busy) return null;
      this.busy = true;
      this.els.error.textContent = "";
      this.render();
      try {
        const data = await callApi(this.tab.id, action, body);
        this.busy = false;
        this.show(data.call, data.state);
        return data;
      } catch (error) {
        (errorBox || this.els.error).textContent = error.message;
        C.announce(error.message, true);
        return null;
      } finally {
        this.busy = false;
        this.render();
      }
    }

    destroy() {
      window.clearInterval(this.timer);
      this.hangUpAudio();
      this.node.remove();
    }
  }

  C.attachSoftphone = function attachSoftphone(tab) {
    tab.softphone = new Softphone(tab);
  };

  // --- A colleague's warm transfer: the call rings here before it is mine --------------------
  const consultBox = document.getElementById("consult-calls");
  const consults = new Map(); // contact id → ConsultPanel

  class ConsultPanel {
    constructor(contactId) {
      this.contactId = contactId;
      this.audio = null;
      this.ringing = null; // an incoming Twilio Call not answered yet
      this.node = C.clone("tpl-consult");
      C.suffixIds(this.node, `k${contactId}`);
      const q = (sel) => this.node.querySelector(sel);
      this.els = {
        simulated: q(".js-consult-simulated"),
        from: q(".js-consult-from"),
        caller: q(".js-consult-caller"),
        state: q(".js-consult-state"),
        answer: q(".js-consult-answer"),
        decline: q(".js-consult-decline"),
      };
      this.els.simulated.hidden = twilioMode();
      this.els.answer.addEventListener("click", () => this.answer());
      this.els.decline.addEventListener("click", () => this.decline());
      consultBox.append(this.node);
    }

    async refresh() {
      try {
        const data = await callApi(this.contactId);
        updateConsult(this.contactId, data.call, data.state);
      } catch (error) {
        if (error.status === 403 || error.status === 404) removeConsult(this.contactId);
      }
    }

    show(call, leg) {
      const from = legOf(call, "agent");
      this.els.from.textContent = s("consultFrom", { name: (from && from.agent_name) || s("colleague") });
      this.els.caller.textContent = (call && call.caller_phone) || "–";
      let state = leg.state === "joined" ? s("consultOnLine", { name: (from && from.agent_name) || s("colleague") }) : s("dialling");
      if (this.ringing) state = s("consultRinging");
      this.els.state.textContent = state;
      this.els.answer.hidden = !this.ringing;
      this.els.decline.hidden = !this.ringing;
    }

    ring(call) {
      this.ringing = call;
      const gone = () => { if (this.ringing === call) this.ringing = null; this.refresh(); };
      call.on("cancel", gone);
      call.on("disconnect", gone);
      call.on("reject", gone);
      C.beep();
      this.els.state.textContent = s("consultRinging");
      this.els.answer.hidden = false;
      this.els.decline.hidden = false;
      this.els.answer.focus();
    }

    answer() {
      if (!this.ringing) return;
      this.audio = this.ringing;
      this.ringing = null;
      this.audio.accept();
      this.els.answer.hidden = true;
      this.els.decline.hidden = true;
    }

    decline() {
      if (!this.ringing) return;
      const call = this.ringing;
      this.ringing = null;
      call.reject();
      this.els.answer.hidden = true;
      this.els.decline.hidden = true;
    }

    // The transfer completed: the call is mine now, its audio goes with the new tab.
    handOver() {
      const tab = C.tabs.get(this.contactId);
      if (this.audio && tab && tab.softphone && !tab.softphone.audio) tab.softphone.attachAudio(this.audio);
      else if (this.audio) this.audio.disconnect();
      this.audio = null;
    }

    destroy() {
      if (this.ringing) this.ringing.reject();
      this.node.remove();
    }
  }

  function removeConsult(contactId) {
    const panel = consults.get(contactId);
    if (!panel) return;
    consults.delete(contactId);
    panel.handOver();
    panel.destroy();
  }

  function updateConsult(contactId, call, state) {
    const leg = legOf(call, "consult", agentId);
    if (!leg || state !== "active") {
      removeConsult(contactId);
      return;
    }
    let panel = consults.get(contactId);
    if (!panel) {
      panel = new ConsultPanel(contactId);
      consults.set(contactId, panel);
      if (!twilioMode()) C.beep();
      const from = legOf(call, "agent");
      C.announce(`${s("consultFrom", { name: (from && from.agent_name) || s("colleague") })} · ${s("caller")} ${(call && call.caller_phone) || ""}`, true);
    }
    panel.show(call, leg);
  }

  C.onCallUpdated = function onCallUpdated(frame) {
    const tab = C.tabs.get(frame.contact_id);
    if (tab && tab.softphone) tab.softphone.show(frame.call, frame.state);
    updateConsult(frame.contact_id, frame.call, frame.state);
    matchIncoming();
  };

  // --- The call transfer dialog ----------------------------------------------------------
  const modalEl = document.getElementById("call-transfer-modal");
  const modal = modalEl && window.bootstrap ? window.bootstrap.Modal.getOrCreateInstance(modalEl) : null;
  const form = document.getElementById("call-transfer-form");
  const agentsBox = document.getElementById("call-transfer-agents");
  const queuesBox = document.getElementById("call-transfer-queues");
  const noteBox = document.getElementById("call-transfer-note");
  const errorBox = document.getElementById("call-transfer-error");
  let transferTab = null;

  function option(kind, value, label, id) {
    const inputId = `call-transfer-${kind}-${id}`;
    return el("div", { class: "form-check" },
      el("input", { class: "form-check-input", type: "radio", name: "call-transfer-target", id: inputId, value: `${kind}:${value}` }),
      el("label", { class: "form-check-label", for: inputId, text: label }));
  }

  function syncMode() {
    const warm = form.querySelector("input[name=call-transfer-mode]:checked").value === "warm";
    for (const input of queuesBox.querySelectorAll("input")) {
      input.disabled = warm;
      if (warm) input.checked = false;
    }
  }

  C.openCallTransfer = async function openCallTransfer(tab) {
    if (!modal) return;
    transferTab = tab;
    agentsBox.textContent = "";
    queuesBox.textContent = "";
    noteBox.value = "";
    errorBox.textContent = "";
    form.querySelector("#call-transfer-blind").checked = true;
    const loading = modalEl.querySelector(".js-call-transfer-loading");
    loading.hidden = false;
    modalEl.querySelector(".js-call-transfer-who").textContent = s("transferWho", { name: tab.name });
    modal.show();
    try {
      const response = await fetch(C.cfg.transferTargetsUrl, { credentials: "same-origin" });
      if (!response.ok) throw new Error(String(response.status));
      const data = await response.json();
      if (transferTab !== tab) return;
      for (const agent of data.agents || []) agentsBox.append(option("agent", agent.id, agent.name, agent.id));
      if (!agentsBox.children.length) agentsBox.append(el("p", { class: "small text-body-secondary mb-0", text: s("transferNoAgents") }));
      const queues = (data.queues || []).filter((q) => q.code && (!q.channels || q.channels.includes("voice")));
      for (const queue of queues) queuesBox.append(option("queue", queue.code, queue.name, queue.id));
      if (!queues.length) queuesBox.append(el("p", { class: "small text-body-secondary mb-0", text: s("transferNoQueues") }));
      syncMode();
    } catch (e) {
      errorBox.textContent = s("transferFailed");
    } finally {
      loading.hidden = true;
    }
  };

  if (form) {
    form.addEventListener("change", (event) => { if (event.target.name === "call-transfer-mode") syncMode(); });
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const tab = transferTab;
      const chosen = form.querySelector("input[name=call-transfer-target]:checked");
      if (!tab || !tab.softphone || !chosen) {
        errorBox.textContent = s("transferChoose");
        return;
      }
      const mode = form.querySelector("input[name=call-transfer-mode]:checked").value;
      const [kind, value] = chosen.value.split(":");
      if (kind === "queue" && mode === "warm") {
        errorBox.textContent = s("transferWarmQueue");
        return;
      }
      const body = { mode, note: noteBox.value.trim() };
      if (kind === "agent") body.agent = Number(value);
      else body.queue = value;
      if (await tab.softphone.act("transfer", body, errorBox)) modal.hide();
    });
    modalEl.addEventListener("hidden.bs.modal", () => {
      const tab = transferTab;
      transferTab = null;
      if (tab && C.tabs.has(tab.id) && tab.softphone) tab.softphone.els.transfer.focus();
    });
  }

  // --- Twilio Voice SDK: the device that rings and carries the audio -----------------------
  const phone = { device: null, ready: false, incoming: [] };
  // Other panels that answer their own leg (a video call's voice relay) register here:
  // {awaitsAudio(), attachAudio(call), showDevice()}.
  C.voiceDevice = { twilio: twilioMode, isReady: () => phone.ready, claimers: new Set(), match: () => matchIncoming() };

  function showDeviceEverywhere() {
    for (const tab of C.tabs.values()) if (tab.softphone) tab.softphone.showDevice();
    for (const claimer of C.voiceDevice.claimers) claimer.showDevice();
  }

  async function fetchToken() {
    const response = await fetch(cfg.tokenUrl, { credentials: "same-origin", cache: "no-store" });
    if (!response.ok) throw new Error(String(response.status));
    return response.json();
  }

  // An incoming call is the conference dialling me: my own leg of a call I hold is answered
  // at once; a colleague's warm transfer rings in its panel. A call that matches nothing yet
  // may be ahead of its frame: it waits a little, then is refused.
  function matchIncoming() {
    for (const call of [...phone.incoming]) {
      const tab = Array.from(C.tabs.values()).find((t) => t.softphone && t.softphone.awaitsAudio());
      const consult = Array.from(consults.values()).find((p) => !p.ringing && !p.audio);
      const claimer = Array.from(C.voiceDevice.claimers).find((c) => c.awaitsAudio());
      if (tab) {
        call.accept();
        tab.softphone.attachAudio(call);
      } else if (claimer) {
        call.accept();
        claimer.attachAudio(call);
      } else if (consult) {
        consult.ring(call);
      } else {
        continue;
      }
      phone.incoming.splice(phone.incoming.indexOf(call), 1);
    }
  }

  function onIncoming(call) {
    phone.incoming.push(call);
    const forget = () => {
      const at = phone.incoming.indexOf(call);
      if (at >= 0) phone.incoming.splice(at, 1);
    };
    call.on("cancel", forget);
    call.on("disconnect", forget);
    window.setTimeout(() => {
      if (phone.incoming.includes(call)) {
        forget();
        call.reject();
      }
    }, 10000);
    matchIncoming();
  }

  async function startDevice() {
    if (!twilioMode() || !window.Twilio || !window.Twilio.Device) return;
    let data;
    try {
      data = await fetchToken();
    } catch (e) {
      return;
    }
    if (data.backend !== "twilio" || !data.token) return;
    const device = new window.Twilio.Device(data.token, {
      codecPreferences: ["opus", "pcmu"],
      closeProtection: true,
    });
    phone.device = device;
    device.on("registered", () => { phone.ready = true; showDeviceEverywhere(); });
    device.on("unregistered", () => { phone.ready = false; showDeviceEverywhere(); });
    device.on("error", () => { phone.ready = device.state === "registered"; showDeviceEverywhere(); });
    device.on("incoming", onIncoming);
    device.on("tokenWillExpire", async () => {
      try {
        const fresh = await fetchToken();
        if (fresh.token) device.updateToken(fresh.token);
      } catch (e) { /* tried again at the next warning; registration lapses otherwise */ }
    });
    device.register();
  }

  startDevice();
})(window.Open120Console = window.Open120Console || {});
