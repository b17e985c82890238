// Agent console: the voice relay of a sign-language video call. The video panel's relay
// button opens a dialog (departments with a phone, or another number); the relay dials my
// softphone and the party into the call's conference (POST /api/video/calls/<id>/relay), and
// a status block in the tab follows it (call.updated frames) until it ends. With
// VOICE_BACKEND=twilio my leg is answered by the softphone's Twilio device (C.voiceDevice,
// static/js/console/softphone.js); with "simulated" there is no audio and the block says so.
(function (C) {
  "use strict";
  if (!C.root) return;
  const { el } = C;

  const STR = {};
  const stringsTpl = document.getElementById("video-relay-strings");
  if (stringsTpl) {
    for (const node of stringsTpl.content.querySelectorAll("[data-k]")) STR[node.dataset.k] = node.textContent.trim();
  }
  const s = (key, vars) => {
    const text = STR[key] !== undefined ? STR[key] : key;
    return vars ? text.replace(/\{(\w+)\}/g, (m, name) => (name in vars ? String(vars[name]) : m)) : text;
  };
  const relayBase = C.root.dataset.videoRelayUrl; // /api/video/calls/0/relay
  const relayUrl = (contactId, end) => relayBase.replace(/\/0\/relay$/, `/${contactId}/relay`) + (end ? "/end" : "");
  const agentId = JSON.parse(document.getElementById("agent-id").textContent);
  const LIVE = ["dialling", "joined"];
  const LOOKS = { dialling: "text-bg-warning", joined: "text-bg-success", left: "text-bg-secondary" };

  // GET the relay's state, or POST; the answer is {contact_id, relay}.
  async function relayApi(contactId, { end = false, body } = {}) {
    const options = { credentials: "same-origin", headers: { "X-Requested-With": "fetch" } };
    if (body !== undefined || end) {
      options.method = "POST";
      options.headers["X-CSRFToken"] = C.cfg.csrf;
      options.headers["Content-Type"] = "application/json";
      options.body = JSON.stringify(body || {});
    }
    const response = await fetch(relayUrl(contactId, end), options);
    let data = null;
    try { data = await response.json(); } catch (e) { data = null; }
    if (!response.ok) {
      const error = new Error((data && data.message) || s(response.status === 503 ? "unavailable" : "failed"));
      error.status = response.status;
      throw error;
    }
    return data;
  }

  const whoOf = (relay) => (relay.department && relay.department.name) || relay.number || s("otherNumber");

  // --- The status block in a video tab --------------------------------------------------------
  class RelayBlock {
    constructor(tab) {
      this.tab = tab;
      this.relay = null;
      this.audio = null; // the Twilio Call of my leg
      this.busy = false;
      this.node = C.clone("tpl-video-relay");
      C.suffixIds(this.node, `r${tab.id}`);
      const q = (sel) => this.node.querySelector(sel);
      this.els = { who: q(".js-relay-who"), state: q(".js-relay-state"), device: q(".js-relay-device"), end: q(".js-relay-end"), error: q(".js-relay-error") };
      this.els.end.addEventListener("click", () => this.end());
      tab.els.alerts.before(this.node);
      if (C.voiceDevice) C.voiceDevice.claimers.add(this);
    }

    get state() { return this.relay ? this.relay.state : "none"; }

    mine() {
      return this.relay ? this.relay.legs.find((leg) => leg.role === "agent" && leg.agent_id === agentId) : null;
    }

    // From the API (a whole relay) or a call.updated frame (the call's live legs).
    show(relay) {
      const before = this.state;
      this.relay = relay;
      this.render();
      const who = whoOf(relay);
      if (before !== relay.state) {
        if (relay.state === "joined") C.announce(s("connectedAnnounce", { who }));
        if (relay.state === "left" && LIVE.includes(before)) C.announce(s("ended"));
      }
      if (!LIVE.includes(relay.state)) this.hangUpAudio();
      else if (C.voiceDevice) C.voiceDevice.match();
    }

    fromCall(call, contactState) {
      if (!this.relay) return;
      const live = call && call.legs ? call.legs : [];
      const legs = this.relay.legs.map((leg) => {
        const now = live.find((l) => l.id === leg.id);
        return { ...leg, state: now ? now.state : "left" };
      });
      const party = legs.find((leg) => leg.role === "relay");
      const state = contactState !== "active" || !party ? "left" : party.state;
      this.show({ ...this.relay, legs, state });
    }

    render() {
      const relay = this.relay;
      if (!relay) return;
      const state = LIVE.includes(relay.state) ? relay.state : "left";
      this.node.dataset.state = state;
      this.els.who.textContent = whoOf(relay);
      this.els.state.className = `badge ${LOOKS[state]} js-relay-state`;
      this.els.state.textContent = s(state);
      this.els.end.hidden = state === "left";
      this.els.end.disabled = this.busy;
      this.showDevice();
    }

    showDevice() {
      const simulated = !(C.voiceDevice && C.voiceDevice.twilio());
      if (simulated || (this.relay && this.relay.simulated)) this.els.device.textContent = s("simulated");
      else this.els.device.textContent = C.voiceDevice.isReady() ? s("deviceReady") : s("deviceOffline");
    }

    // My leg is being dialled and the device has not answered it yet.
    awaitsAudio() {
      const mine = this.mine();
      return !this.audio && LIVE.includes(this.state) && Boolean(mine) && LIVE.includes(mine.state);
    }

    attachAudio(call) {
      this.audio = call;
      call.on("disconnect", () => { if (this.audio === call) this.audio = null; this.showDevice(); });
      this.showDevice();
    }

    hangUpAudio() {
      if (!this.audio) return;
      const call = this.audio;
      this.audio = null;
      call.disconnect();
    }

    async end() {
      if (this.busy) return;
      this.busy = true;
      this.els.error.textContent = "";
      this.render();
      try {
        const data = await relayApi(this.tab.id, { end: true });
        this.busy = false;
        this.show(data.relay);
      } catch (error) {
        this.els.error.textContent = error.message;
        C.announce(error.message, true);
      } finally {
        this.busy = false;
        this.render();
      }
    }

    destroy() {
      this.hangUpAudio();
      if (C.voiceDevice) C.voiceDevice.claimers.delete(this);
      this.node.remove();
    }
  }

  function blockFor(tab) {
    if (!tab.relay) tab.relay = new RelayBlock(tab); // video.js destroys it with the panel
    return tab.relay;
  }

  // --- The dialog -----------------------------------------------------------------------------
  const modalEl = document.getElementById("video-relay-modal");
  const modal = modalEl && window.bootstrap ? window.bootstrap.Modal.getOrCreateInstance(modalEl) : null;
  const form = document.getElementById("video-relay-form");
  const departmentsBox = document.getElementById("video-relay-departments");
  const numberBox = document.getElementById("video-relay-number");
  const otherRadio = document.getElementById("video-relay-other");
  const errorBox = document.getElementById("video-relay-error");
  let dialogTab = null;

  function departmentOption(department) {
    const inputId = `video-relay-department-${department.id}`;
    return el("div", { class: "form-check" },
      el("input", { class: "form-check-input", type: "radio", name: "video-relay-target", id: inputId, value: String(department.id) }),
      el("label", { class: "form-check-label", for: inputId },
        el("span", { text: department.name }),
        el("span", { class: "text-body-secondary ms-2 small", text: department.phone })));
  }

  async function open(tab) {
    if (!modal || !tab) return;
    dialogTab = tab;
    departmentsBox.textContent = "";
    numberBox.value = "";
    otherRadio.checked = false;
    errorBox.textContent = "";
    modalEl.querySelector(".js-video-relay-who").textContent = s("who", { name: tab.name });
    const loading = modalEl.querySelector(".js-video-relay-loading");
    loading.hidden = false;
    modal.show();
    try {
      const response = await fetch(modalEl.dataset.targetsUrl, { credentials: "same-origin" });
      if (!response.ok) throw new Error(String(response.status));
      const data = await response.json();
      if (dialogTab !== tab) return;
      for (const department of data.departments || []) departmentsBox.append(departmentOption(department));
      if (!departmentsBox.children.length) departmentsBox.append(el("p", { class: "small text-body-secondary mb-0", text: s("noDepartments") }));
      if (data.available === false) errorBox.textContent = s("unavailable");
    } catch (e) {
      errorBox.textContent = s("loadFailed");
    } finally {
      loading.hidden = true;
    }
  }

  if (form) {
    numberBox.addEventListener("input", () => { if (numberBox.value.trim()) otherRadio.checked = true; });
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const tab = dialogTab;
      const chosen = form.querySelector("input[name=video-relay-target]:checked");
      if (!tab || !chosen || (chosen === otherRadio && !numberBox.value.trim())) {
        errorBox.textContent = s("choose");
        return;
      }
      const body = chosen === otherRadio ? { number: numberBox.value.trim() } : { department_id: Number(chosen.value) };
      const submit = form.querySelector(".js-video-relay-submit");
      submit.disabled = true;
      errorBox.textContent = "";
      try {
        const data = await relayApi(tab.id, { body });
        if (C.tabs.has(tab.id)) {
          blockFor(tab).show(data.relay);
          C.announce(s("started", { who: whoOf(data.relay) }));
        }
        modal.hide();
      } catch (error) {
        errorBox.textContent = error.message;
      } finally {
        submit.disabled = false;
      }
    });
    modalEl.addEventListener("hidden.bs.modal", () => {
      const tab = dialogTab;
      dialogTab = null;
      const button = tab && C.tabs.has(tab.id) && tab.video && tab.video.els ? tab.video.els.relay : null;
      if (button) button.focus();
    });
  }

  // --- Following the relay ----------------------------------------------------------------------
  // call.updated frames carry a video call's conference too (its relay legs).
  const onCallUpdated = C.onCallUpdated;
  C.onCallUpdated = function onRelayUpdated(frame) {
    if (onCallUpdated) onCallUpdated(frame);
    const tab = C.tabs.get(frame.contact_id);
    if (!tab || tab.contact.channel !== "video") return;
    const relayLive = frame.call && (frame.call.legs || []).some((leg) => leg.role === "relay");
    if (tab.relay) tab.relay.fromCall(frame.call, frame.state);
    else if (relayLive) restore(tab); // started elsewhere (another window of my console)
  };

  // A video tab opened (or reopened after a reload) shows a relay that is still live.
  async function restore(tab) {
    try {
      const data = await relayApi(tab.id);
      if (C.tabs.has(tab.id) && LIVE.includes(data.relay.state)) blockFor(tab).show(data.relay);
    } catch (e) { /* no relay to show */ }
  }

  // video.js: open() from its relay button; attach() when a video tab opens (a relay still
  // on the line after a reload comes back).
  C.videoRelay = {
    open,
    attach(tab) {
      if (tab.contact.state === "active") restore(tab);
    },
  };
})(window.Open120Console = window.Open120Console || {});
