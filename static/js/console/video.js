// Agent console: the video workspace of a sign-language video contact. Its tab gets a panel
// above the conversation (which is the side chat: a video contact is a chat session): the
// citizen's video large, my self-view in a corner, the connection's state and the call's
// time, and controls (mute, camera off, switch camera, relay a voice party, hang up). The
// media runs browser to browser through Open120Video.Peer (static/js/video_peer.js); this
// panel asks /api/video/calls/<id> for the room and ICE servers. With the citizen's consent
// and VIDEO_RECORDING on, the browser records the call and uploads it when it ends.
(function (C) {
  "use strict";
  if (!C.root) return;

  // --- Configuration and strings from the page -------------------------------------------
  const STR = {};
  const stringsTpl = document.getElementById("video-strings");
  if (stringsTpl) {
    for (const node of stringsTpl.content.querySelectorAll("[data-k]")) STR[node.dataset.k] = node.textContent.trim();
  }
  const s = (key, vars) => {
    const text = STR[key] !== undefined ? STR[key] : key;
    return vars ? text.replace(/\{(\w+)\}/g, (m, name) => (name in vars ? String(vars[name]) : m)) : text;
  };
  const cfg = { callUrl: C.root.dataset.videoCallUrl };
  const callUrl = (contactId, action) => cfg.callUrl.replace(/\/0$/, `/${contactId}`) + (action ? `/${action}` : "");

  const LOOKS = {
    connecting: "text-bg-warning",
    waiting: "text-bg-warning",
    connected: "text-bg-success",
    reconnecting: "text-bg-warning",
    failed: "text-bg-danger",
    ended: "text-bg-secondary",
  };
  // The peer's states, as the badge shows them.
  const PHASES = {
    signalling: "connecting",
    waiting_peer: "waiting",
    connecting: "connecting",
    connected: "connected",
    reconnecting: "reconnecting",
    failed: "failed",
    ended: "ended",
  };
  const RECORDING_TYPES = ["video/webm;codecs=vp8,opus", "video/webm;codecs=vp9,opus", "video/webm"];
  const RECORDING_SLICE_MS = 10000;
  const HANG_UP_FALLBACK_MS = 3000;

  async function getJson(url) {
    const response = await fetch(url, { credentials: "same-origin", headers: { "X-Requested-With": "fetch" } });
    let data = null;
    try { data = await response.json(); } catch (e) { data = null; }
    if (!response.ok) {
      const error = new Error((data && data.message) || s("loadFailed"));
      error.status = response.status;
      throw error;
    }
    return data;
  }

  // --- The video panel of a video contact's tab ---------------------------------------------
  class VideoPanel {
    constructor(tab) {
      this.tab = tab;
      tab.pane.classList.add("has-video"); // the side chat makes room for the video
      this.info = null; // GET /api/video/calls/<id>
      this.peer = null;
      this.stream = null; // my camera and microphone; null when refused
      this.contactState = tab.contact.state;
      this.phase = "connecting";
      this.reconnectUntil = 0;
      this.connectedSince = null; // ms (Date.now()) of the first connection
      this.endedAt = null;
      this.restarts = 0;
      this.muted = false;
      this.cameraOff = false;
      this.closed = false;
      this.finished = false;
      this.hangingUp = false;
      this.recorder = null;
      this.node = C.clone("tpl-video");
      C.suffixIds(this.node, `v${tab.id}`);
      const q = (sel) => this.node.querySelector(sel);
      this.els = {
        state: q(".js-video-state"),
        timer: q(".js-video-timer"),
        elapsed: q(".js-video-elapsed"),
        recording: q(".js-video-recording"),
        citizen: q(".js-video-citizen"),
        stage: q(".js-video-stage"),
        remote: q(".js-video-remote"),
        remoteNote: q(".js-video-remote-note"),
        remoteText: q(".js-video-remote-text"),
        local: q(".js-video-local"),
        localNote: q(".js-video-local-note"),
        localText: q(".js-video-local-text"),
        controls: q(".js-video-controls"),
        mute: q(".js-video-mute"),
        muteLabel: q(".js-video-mute-label"),
        camera: q(".js-video-camera"),
        cameraLabel: q(".js-video-camera-label"),
        switchCamera: q(".js-video-switch"),
        relay: q(".js-video-relay"),
        hangup: q(".js-video-hangup"),
        alerts: q(".js-video-alerts"),
        summary: q(".js-video-summary"),
      };
      this.bind();
      tab.els.alerts.before(this.node);
      this.timer = window.setInterval(() => this.tick(), 1000);
      this.render();
      this.start();
    }

    bind() {
      const e = this.els;
      e.mute.addEventListener("click", () => {
        if (!this.peer) return;
        this.muted = !this.muted;
        this.peer.setMuted(this.muted);
        this.render();
      });
      e.camera.addEventListener("click", () => {
        if (!this.peer) return;
        this.cameraOff = !this.cameraOff;
        this.peer.setCameraOff(this.cameraOff);
        this.render();
      });
      e.switchCamera.addEventListener("click", async () => {
        if (!this.peer) return;
        e.switchCamera.disabled = true;
        try {
          await this.peer.switchCamera();
        } catch (error) {
          this.alert(s("switchFailed"), "warning");
        } finally {
          this.render();
        }
      });
      e.relay.addEventListener("click", () => { if (C.videoRelay) C.videoRelay.open(this.tab); });
      e.hangup.addEventListener("click", () => {
        if (window.confirm(s("confirmHangUp", { name: this.tab.name }))) this.hangUp();
      });
      e.remote.addEventListener("loadeddata", () => this.render());
      e.remote.addEventListener("emptied", () => this.render());
    }

    async start() {
      // The camera starts while the call's room is fetched: both take a moment.
      const live = this.contactState === "active" && window.Open120Video;
      const media = live ? window.Open120Video.getMedia({ facingMode: "user" }) : null;
      if (media) media.catch(() => {}); // handled where it is awaited
      try {
        this.info = await getJson(callUrl(this.tab.id));
      } catch (error) {
        if (media) media.then((stream) => stream.getTracks().forEach((t) => t.stop()), () => {});
        this.alert(error.message);
        this.render();
        return;
      }
      if (this.info.connected_at && this.connectedSince === null) this.connectedSince = Date.parse(this.info.connected_at);
      this.restarts = this.info.ice_restarts || 0;
      this.els.citizen.textContent = C.citizenName(this.info.citizen || this.tab.contact.citizen, this.tab.id);
      if (this.contactState !== "active" || this.closed) {
        if (media) media.then((stream) => stream.getTracks().forEach((t) => t.stop()), () => {});
        this.finish();
        return;
      }
      if (!window.Open120Video || !window.Open120Video.Peer) {
        this.alert(s("noPeer"));
        this.render();
        return;
      }
      try {
        this.stream = await (media || window.Open120Video.getMedia({ facingMode: "user" }));
      } catch (error) {
        // Without my camera the citizen cannot see me, but I can still see them sign.
        this.stream = null;
        const key = `camera_${error && error.code}`;
        const text = s(STR[key] !== undefined ? key : "camera_failed");
        this.alert(text, "warning");
        C.announce(text, true);
      }
      if (this.closed || this.contactState !== "active") {
        this.stopStream();
        this.finish();
        return;
      }
      this.peer = new window.Open120Video.Peer({
        url: this.info.ws_url,
        role: "agent",
        stream: this.stream,
        localVideo: this.els.local,
        remoteVideo: this.els.remote,
        onState: (state, detail) => this.onState(state, detail),
        onError: (code, message) => this.onError(code, message),
        onEnded: (by) => this.onEnded(by),
      });
      window.open120Video = this.peer;
      this.peer.start();
      this.render();
    }

    onState(state, detail) {
      const phase = PHASES[state] || "connecting";
      if (phase === "reconnecting") {
        const left = detail && Number.isFinite(detail.secondsLeft) ? detail.secondsLeft : 0;
        this.reconnectUntil = Date.now() + left * 1000;
        if (this.phase !== "reconnecting") this.restarts += 1;
      }
      if (phase === "connected") {
        if (this.connectedSince === null) this.connectedSince = Date.now();
        if (this.phase !== "connected") C.announce(s("callConnected"));
        this.startRecording();
      }
      if (phase === "failed" && this.phase !== "failed") {
        this.alert(s("failedAlert"));
        C.announce(s("failedAlert"), true);
      }
      this.phase = phase;
      if (phase === "ended") this.finish();
      this.render();
    }

    onError(code, message) {
      if (code === 4409 || code === "ended") return this.finish();
      if (message) this.alert(message);
      return null;
    }

    onEnded(by) {
      if (by === "citizen") C.announce(s("endedByCitizen"));
      this.endedBy = by;
      this.finish();
    }

    hangUp() {
      this.hangingUp = true;
      this.render();
      const live = this.peer && !["failed", "ended"].includes(this.phase);
      if (live) {
        this.peer.hangUp();
        // The signalling socket may be gone: end the contact the way "End conversation" does.
        window.setTimeout(() => {
          if (this.contactState === "active") C.send({ type: "contact.end", contact_id: this.tab.id });
        }, HANG_UP_FALLBACK_MS);
      } else {
        C.send({ type: "contact.end", contact_id: this.tab.id });
      }
    }

    // From the tab: the contact went to wrap-up (or is still active after a reconnect).
    setContactState(state) {
      const ended = this.contactState === "active" && state !== "active";
      this.contactState = state;
      this.tab.els.end.hidden = true; // a video call ends with Hang up
      if (ended) this.finish();
      this.render();
    }

    // The call is over: close the media, keep the recording, show what the call was.
    finish() {
      if (this.finished) return;
      this.finished = true;
      this.endedAt = Date.now();
      this.phase = "ended";
      this.stopRecording();
      if (this.peer) this.peer.close();
      this.stopStream();
      C.announce(s("callEnded"));
      this.showSummary();
      this.render();
    }

    showSummary() {
      const e = this.els;
      const parts = [];
      if (this.connectedSince !== null) {
        parts.push(s("summary", { duration: C.mmss(((this.endedAt || Date.now()) - this.connectedSince) / 1000) }));
      } else {
        parts.push(s("summaryNeverConnected"));
      }
      if (this.restarts) parts.push(s("summaryRestarts", { n: this.restarts }));
      e.summary.textContent = parts.join(" · ");
      e.summary.hidden = false;
    }

    stopStream() {
      if (this.stream) for (const track of this.stream.getTracks()) track.stop();
      this.stream = null;
    }

    alert(text, kind) {
      return C.showAlert(this.els.alerts, text, kind || "danger");
    }

    render() {
      const e = this.els;
      const phase = this.contactState === "active" ? this.phase : "ended";
      this.node.dataset.state = phase;
      e.state.className = `badge video-state ${LOOKS[phase]} js-video-state`;
      e.state.textContent = phase === "reconnecting"
        ? s("reconnecting", { seconds: Math.max(0, Math.ceil((this.reconnectUntil - Date.now()) / 1000)) })
        : s({ connecting: "connecting", waiting: "waitingPeer", connected: "connected", failed: "failed", ended: "ended" }[phase]);
      const live = phase !== "ended";
      const hasCamera = Boolean(this.stream && this.stream.getVideoTracks().length);
      const hasMic = Boolean(this.stream && this.stream.getAudioTracks().length);
      e.mute.disabled = !live || !this.peer || !hasMic;
      e.mute.setAttribute("aria-pressed", String(this.muted));
      e.mute.classList.toggle("active", this.muted);
      e.muteLabel.textContent = this.muted ? s("unmute") : s("mute");
      e.camera.disabled = !live || !this.peer || !hasCamera;
      e.camera.setAttribute("aria-pressed", String(this.cameraOff));
      e.camera.classList.toggle("active", this.cameraOff);
      e.cameraLabel.textContent = this.cameraOff ? s("cameraOn") : s("cameraOff");
      e.switchCamera.disabled = !live || !this.peer || !hasCamera || this.cameraOff;
      e.relay.disabled = !live || !this.info || this.contactState !== "active";
      e.relay.hidden = !C.videoRelay;
      e.hangup.disabled = this.contactState !== "active" || this.hangingUp;
      e.controls.hidden = !live;
      const remoteShowing = live && e.remote.srcObject && e.remote.readyState >= 2 && e.remote.videoWidth > 0;
      e.remoteNote.hidden = Boolean(remoteShowing) || !live;
      e.remoteText.textContent = phase === "failed" ? s("noRemoteVideo") : s("waitingVideo");
      e.localNote.hidden = hasCamera && !this.cameraOff;
      e.localText.textContent = hasCamera ? s("cameraIsOff") : s("noCamera");
      e.stage.hidden = !live;
      this.tab.els.end.hidden = true;
      this.tick();
    }

    tick() {
      const e = this.els;
      const since = this.connectedSince;
      e.timer.hidden = since === null;
      if (since !== null) e.elapsed.textContent = C.mmss(((this.endedAt || Date.now()) - since) / 1000);
      if (this.phase === "reconnecting" && this.contactState === "active") {
        e.state.textContent = s("reconnecting", { seconds: Math.max(0, Math.ceil((this.reconnectUntil - Date.now()) / 1000)) });
      }
      e.recording.hidden = !(this.recorder && this.recorder.state === "recording");
    }

    // --- Recording (the citizen consented and VIDEO_RECORDING is on) -----------------------
    recordingStream() {
      const remote = this.peer && this.peer.remoteStream;
      if (!remote || !remote.getVideoTracks().length) return null;
      const tracks = [...remote.getVideoTracks()];
      const voices = [remote, this.stream].filter((stream) => stream && stream.getAudioTracks().length);
      try {
        // Both sides' sound in one track: a recorder takes one audio track.
        const Ctx = window.AudioContext || window.webkitAudioContext;
        if (voices.length && Ctx) {
          this.audioMix = new Ctx();
          const out = this.audioMix.createMediaStreamDestination();
          for (const stream of voices) this.audioMix.createMediaStreamSource(stream).connect(out);
          tracks.push(...out.stream.getAudioTracks());
        }
      } catch (error) {
        tracks.push(...remote.getAudioTracks());
      }
      return new MediaStream(tracks);
    }

    startRecording() {
      if (this.recorder || !this.info || !this.info.recording_enabled || !window.MediaRecorder) return;
      const stream = this.recordingStream();
      if (!stream) return;
      const mimeType = RECORDING_TYPES.find((type) => MediaRecorder.isTypeSupported(type)) || "";
      const recorder = new MediaRecorder(stream, mimeType ? { mimeType } : undefined);
      const chunks = [];
      let bytes = 0;
      const started = Date.now();
      const limit = this.info.recording_max_bytes || Infinity;
      recorder.addEventListener("dataavailable", (event) => {
        if (!event.data || !event.data.size) return;
        if (bytes + event.data.size > limit) {
          if (recorder.state !== "inactive") recorder.stop();
          this.alert(s("recordingFull"), "warning");
          return;
        }
        bytes += event.data.size;
        chunks.push(event.data);
      });
      recorder.addEventListener("stop", () => {
        if (this.audioMix) this.audioMix.close().catch(() => {});
        this.audioMix = null;
        this.tick();
        if (chunks.length) this.upload(new Blob(chunks, { type: "video/webm" }), Math.round((Date.now() - started) / 1000));
      });
      recorder.start(RECORDING_SLICE_MS);
      this.recorder = recorder;
      this.tick();
    }

    stopRecording() {
      if (this.recorder && this.recorder.state !== "inactive") this.recorder.stop();
    }

    async upload(blob, seconds) {
      const form = new FormData();
      form.append("file", blob, `contact-${this.tab.id}.webm`);
      form.append("seconds", String(seconds));
      const saving = this.alert(s("recordingSaving"), "info");
      try {
        const response = await fetch(callUrl(this.tab.id, "recording"), {
          method: "POST",
          credentials: "same-origin",
          headers: { "X-CSRFToken": C.cfg.csrf, "X-Requested-With": "fetch" },
          body: form,
        });
        if (!response.ok) {
          let data = null;
          try { data = await response.json(); } catch (e) { data = null; }
          throw new Error((data && data.message) || s("recordingFailed"));
        }
        saving.remove();
        C.announce(s("recordingSaved"));
        if (this.node.isConnected) this.alert(s("recordingSaved"), "info");
      } catch (error) {
        saving.remove();
        if (!this.node.isConnected) return;
        const failed = this.alert(`${s("recordingFailed")} ${error.message === s("recordingFailed") ? "" : error.message}`);
        const retry = C.el("button", { type: "button", class: "btn btn-sm btn-outline-danger ms-2", text: s("recordingRetry") });
        retry.addEventListener("click", () => { failed.remove(); this.upload(blob, seconds); });
        failed.append(retry);
      }
    }

    destroy() {
      if (this.tab.relay) {
        this.tab.relay.destroy();
        this.tab.relay = null;
      }
      this.closed = true;
      window.clearInterval(this.timer);
      this.stopRecording();
      if (this.peer) this.peer.close();
      this.stopStream();
      this.node.remove();
    }
  }

  C.attachVideo = (tab) => {
    tab.video = new VideoPanel(tab);
    if (C.videoRelay) C.videoRelay.attach(tab);
  };
})(window.Open120Console = window.Open120Console || {});
