// Open120 video calls: one side of a sign-language video call (the citizen's page or the
// agent's console), browser to browser over WebRTC, signalled through /ws/video/<room>/.
//
// The agent's browser always makes the offers and the citizen's answers, so offers never
// cross. Each fresh connection (a party joined or came back) is a new generation ("gen"):
// frames of an older one are dropped. When the connection breaks, the agent's browser
// restarts ICE (the citizen's asks it to) and both keep trying for recovery_seconds before
// giving up. What happens is reported to the server ("status") for the contact's timeline.
(function () {
  "use strict";

  const RECONNECT_MAX_MS = 10000;
  const DISCONNECTED_GRACE_MS = 2500; // "disconnected" often heals by itself; then restart

  function mediaError(error) {
    const wrapped = new Error(error && error.message ? error.message : String(error));
    const name = error && error.name;
    if (!window.isSecureContext || !navigator.mediaDevices) wrapped.code = "insecure";
    else if (name === "NotAllowedError" || name === "SecurityError") wrapped.code = "denied";
    else if (name === "NotFoundError" || name === "OverconstrainedError") wrapped.code = "no_device";
    else wrapped.code = "failed";
    return wrapped;
  }

  // The camera and microphone (a signer needs the camera; sound helps a hearing relative).
  async function getMedia(options) {
    const opts = options || {};
    if (!window.isSecureContext || !navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
      throw mediaError(new Error("insecure"));
    }
    const video = { width: { ideal: 1280 }, height: { ideal: 720 }, frameRate: { ideal: 30 } };
    if (opts.deviceId) video.deviceId = { exact: opts.deviceId };
    else video.facingMode = opts.facingMode || "user";
    try {
      return await navigator.mediaDevices.getUserMedia({ video, audio: opts.audio !== false });
    } catch (error) {
      throw mediaError(error);
    }
  }

  function wsUrl(path) {
    if (/^wss?:/.test(path)) return path;
    const scheme = window.location.protocol === "https:" ? "wss:" : "ws:";
    return `${scheme}//${window.location.host}${path}`;
  }

  const isLoopback = (line) => / (127\.0\.0\.1|::1) \d+ typ /.test(line || "");

  class Peer {
    constructor(options) {
      this.opts = options;
      this.role = options.role;
      this.stream = options.stream || null;
      this.localVideo = options.localVideo || null;
      this.remoteVideo = options.remoteVideo || null;
      this.state = "idle";
      this.pc = null;
      // The agent's connections are numbered from a random start, so a console reloaded
      // mid-call never reuses the number of the connection the citizen still holds.
      this.gen = this.role === "agent" ? Math.floor(Math.random() * 2 ** 30) : -1;
      this.remoteStream = null;
      this.connectedAt = null;
      this.connectedWallAt = null;
      this.iceServers = [];
      this.loopbackOnly = false;
      this.recoveryMs = 20000;
      this.peerPresent = false;
      this.ws = null;
      this.closed = false;
      this.ended = false;
      this.attempt = 0;
      this.pendingCandidates = [];
      this.recoveryTimer = null;
      this.graceTimer = null;
      this.negotiateTimer = null;
      this.everConnected = false;
      // When each step first happened (Date.now()): where a slow setup spent its time.
      this.marks = { created: Date.now() };
      if (this.localVideo && this.stream) this.showLocal();
    }

    // --- the socket ---------------------------------------------------------------------------
    start() {
      this.closed = false;
      this.connectSocket();
    }

    connectSocket() {
      const ws = this.opts.protocols ? new WebSocket(wsUrl(this.opts.url), this.opts.protocols) : new WebSocket(wsUrl(this.opts.url));
      this.ws = ws;
      ws.onopen = () => { this.attempt = 0; this.mark("socket"); };
      ws.onmessage = (event) => {
        let frame = null;
        try { frame = JSON.parse(event.data); } catch (e) { return; }
        this.handle(frame).catch((error) => this.emitError("client", String(error && error.message ? error.message : error)));
      };
      ws.onclose = (event) => {
        if (this.ws !== ws) return;
        this.ws = null;
        if (this.closed || this.ended) return;
        if (event.code === 4409) { this.end("system"); return; }
        if (event.code === 4403 || event.code === 4404) { this.closed = true; this.setState("refused", { code: event.code }); return; }
        // A dropped socket does not drop the media: try again, a bit later each time.
        const delay = Math.min(RECONNECT_MAX_MS, 500 * 2 ** this.attempt++);
        window.setTimeout(() => { if (!this.closed && !this.ended) this.connectSocket(); }, delay);
      };
    }

    send(frame) {
      if (this.ws && this.ws.readyState === WebSocket.OPEN) this.ws.send(JSON.stringify(frame));
    }

    report(state, extra) {
      this.send(Object.assign({ type: "status", state }, extra || {}));
    }

    mark(name) {
      if (!(name in this.marks)) this.marks[name] = Date.now();
    }

    async handle(frame) {
      this.mark(frame.type);
      switch (frame.type) {
        case "hello":
          this.iceServers = Array.isArray(frame.ice_servers) ? frame.ice_servers : [];
          this.loopbackOnly = !!frame.loopback_only;
          if (frame.recovery_seconds) this.recoveryMs = frame.recovery_seconds * 1000;
          if (this.state === "idle" || this.state === "refused") this.setState("waiting_peer");
          break;
        case "peer.joined":
        case "peer.present":
          this.peerPresent = true;
          if (this.opts.onPeer) this.opts.onPeer(true);
          if (this.role === "agent") this.negotiateSoon();
          else if (this.state !== "connected") this.setState("connecting");
          break;
        case "peer.left":
          this.peerPresent = false;
          if (this.opts.onPeer) this.opts.onPeer(false);
          break;
        case "offer":
          await this.onOffer(frame);
          break;
        case "answer":
          if (this.pc && frame.gen === this.gen) {
            await this.pc.setRemoteDescription({ type: "answer", sdp: frame.sdp });
            await this.flushCandidates();
          }
          break;
        case "ice":
          await this.onRemoteCandidate(frame);
          break;
        case "restart.request":
          if (this.role === "agent") await this.restartIce();
          break;
        case "call.ended":
          this.end(frame.by || "");
          break;
        case "error":
          this.emitError(frame.code, frame.message);
          break;
        default:
          break;
      }
    }

    emitError(code, message) {
      if (this.opts.onError) this.opts.onError(code, message);
    }

    setState(state, detail) {
      this.state = state;
      if (this.opts.onState) this.opts.onState(state, detail || {});
    }

    // --- the peer connection ------------------------------------------------------------------
    newPc() {
      this.closePc();
      const pc = new RTCPeerConnection({ iceServers: this.iceServers });
      this.pc = pc;
      this.pendingCandidates = [];
      if (this.stream) {
        for (const track of this.stream.getTracks()) pc.addTrack(track, this.stream);
      } else {
        pc.addTransceiver("video", { direction: "recvonly" });
        pc.addTransceiver("audio", { direction: "recvonly" });
      }
      pc.ontrack = (event) => {
        if (pc !== this.pc) return;
        if (!this.remoteStream || (event.streams[0] && event.streams[0] !== this.remoteStream)) {
          this.remoteStream = event.streams[0] || new MediaStream();
        }
        if (!event.streams[0]) this.remoteStream.addTrack(event.track);
        if (this.remoteVideo && this.remoteVideo.srcObject !== this.remoteStream) {
          this.remoteVideo.srcObject = this.remoteStream;
          const playing = this.remoteVideo.play();
          if (playing && playing.catch) playing.catch(() => {});
        }
      };
      const gen = this.gen;
      pc.onicecandidate = (event) => {
        if (pc !== this.pc) return;
        if (event.candidate && event.candidate.candidate) {
          if (this.loopbackOnly && !isLoopback(event.candidate.candidate)) return;
          this.send({ type: "ice", candidate: event.candidate.toJSON(), gen });
        } else {
          this.send({ type: "ice", candidate: null, gen });
        }
      };
      pc.onconnectionstatechange = () => { if (pc === this.pc) this.onConnectionState(pc.connectionState); };
      return pc;
    }

    closePc() {
      if (!this.pc) return;
      const pc = this.pc;
      this.pc = null;
      pc.ontrack = pc.onicecandidate = pc.onconnectionstatechange = null;
      try { pc.close(); } catch (e) { /* already closed */ }
    }

    negotiateSoon() {
      // Both "present" and "joined" may arrive together: one negotiation for both.
      window.clearTimeout(this.negotiateTimer);
      this.negotiateTimer = window.setTimeout(() => {
        this.negotiate().catch((error) => this.emitError("client", String(error)));
      }, 10);
    }

    async negotiate() {
      if (this.ended || this.closed) return;
      this.gen += 1;
      const pc = this.newPc();
      this.setState("connecting");
      const offer = await pc.createOffer();
      await pc.setLocalDescription(offer);
      this.mark("offer_sent");
      this.send({ type: "offer", sdp: pc.localDescription.sdp, gen: this.gen });
    }

    async restartIce() {
      if (!this.pc || this.role !== "agent" || this.ended) return;
      if (!this.pc.remoteDescription) { this.negotiateSoon(); return; }
      this.report("restarting");
      const offer = await this.pc.createOffer({ iceRestart: true });
      await this.pc.setLocalDescription(offer);
      this.send({ type: "offer", sdp: this.pc.localDescription.sdp, gen: this.gen });
    }

    async onOffer(frame) {
      if (this.role !== "citizen" || this.ended) return;
      if (!this.pc || frame.gen !== this.gen) {
        this.gen = frame.gen;
        this.newPc();
      }
      const pc = this.pc;
      // An ICE restart's offer: still "reconnecting" (with its countdown) until it works.
      if (this.state !== "connected" && this.state !== "reconnecting") this.setState("connecting");
      await pc.setRemoteDescription({ type: "offer", sdp: frame.sdp });
      await this.flushCandidates();
      const answer = await pc.createAnswer();
      await pc.setLocalDescription(answer);
      this.mark("answer_sent");
      this.send({ type: "answer", sdp: pc.localDescription.sdp, gen: this.gen });
    }

    async onRemoteCandidate(frame) {
      if (frame.gen !== undefined && frame.gen !== this.gen) return; // an older connection's
      const candidate = frame.candidate;
      if (candidate && candidate.candidate && this.loopbackOnly && !isLoopback(candidate.candidate)) return;
      if (!this.pc || !this.pc.remoteDescription) {
        this.pendingCandidates.push(candidate);
        return;
      }
      await this.addCandidate(candidate);
    }

    async addCandidate(candidate) {
      try {
        if (candidate && candidate.candidate) await this.pc.addIceCandidate(candidate);
        else await this.pc.addIceCandidate();
      } catch (error) {
        // A candidate of a restarted or finished gathering: harmless.
      }
    }

    async flushCandidates() {
      const queued = this.pendingCandidates;
      this.pendingCandidates = [];
      for (const candidate of queued) await this.addCandidate(candidate);
    }

    onConnectionState(state) {
      if (state === "connected") {
        window.clearTimeout(this.recoveryTimer);
        window.clearTimeout(this.graceTimer);
        this.recoveryTimer = this.graceTimer = null;
        this.mark("connected");
        if (this.connectedAt === null) {
          this.connectedAt = performance.now();
          this.connectedWallAt = Date.now(); // comparable across pages of one machine
        }
        this.everConnected = true;
        this.setState("connected");
        this.report("connected");
      } else if (state === "disconnected") {
        this.report("disconnected");
        this.beginRecovery();
        window.clearTimeout(this.graceTimer);
        this.graceTimer = window.setTimeout(() => this.askRestart(), DISCONNECTED_GRACE_MS);
      } else if (state === "failed") {
        this.report("failed");
        this.beginRecovery();
        this.askRestart();
      }
    }

    askRestart() {
      if (!this.pc || this.pc.connectionState === "connected") return;
      if (this.role === "agent") this.restartIce().catch(() => {});
      else this.send({ type: "restart.request" });
    }

    beginRecovery() {
      if (this.recoveryTimer) return;
      const deadline = performance.now() + this.recoveryMs;
      const tick = () => {
        if (this.ended || (this.pc && this.pc.connectionState === "connected")) { this.recoveryTimer = null; return; }
        const left = Math.max(0, Math.round((deadline - performance.now()) / 1000));
        if (left <= 0) {
          this.recoveryTimer = null;
          this.report("failed", { gave_up: true });
          this.setState("failed");
          return;
        }
        this.setState("reconnecting", { secondsLeft: left });
        this.recoveryTimer = window.setTimeout(tick, 1000);
      };
      tick();
    }

    // --- the citizen's controls ----------------------------------------------------------------
    showLocal() {
      this.localVideo.muted = true;
      this.localVideo.srcObject = this.stream;
      const playing = this.localVideo.play();
      if (playing && playing.catch) playing.catch(() => {});
    }

    setMuted(muted) {
      if (this.stream) for (const track of this.stream.getAudioTracks()) track.enabled = !muted;
    }

    setCameraOff(off) {
      if (this.stream) for (const track of this.stream.getVideoTracks()) track.enabled = !off;
    }

    // The next camera (front ↔ back on a phone); resolves to false when there is no other.
    async switchCamera() {
      if (!this.stream || !navigator.mediaDevices.enumerateDevices) return false;
      const cameras = (await navigator.mediaDevices.enumerateDevices()).filter((d) => d.kind === "videoinput");
      if (cameras.length < 2) return false;
      const current = this.stream.getVideoTracks()[0];
      const currentId = current && current.getSettings ? current.getSettings().deviceId : "";
      const index = cameras.findIndex((d) => d.deviceId === currentId);
      const next = cameras[(index + 1) % cameras.length];
      const fresh = await getMedia({ deviceId: next.deviceId, audio: false });
      const track = fresh.getVideoTracks()[0];
      if (current) {
        track.enabled = current.enabled;
        this.stream.removeTrack(current);
        current.stop();
      }
      this.stream.addTrack(track);
      if (this.pc) {
        const sender = this.pc.getSenders().find((s) => s.track && s.track.kind === "video");
        if (sender) await sender.replaceTrack(track);
      }
      if (this.localVideo) this.showLocal();
      return true;
    }

    hangUp() {
      this.send({ type: "hangup" });
      this.setState("ending");
    }

    end(by) {
      if (this.ended) return;
      this.ended = true;
      window.clearTimeout(this.recoveryTimer);
      window.clearTimeout(this.graceTimer);
      window.clearTimeout(this.negotiateTimer);
      this.closePc();
      if (this.ws) { const ws = this.ws; this.ws = null; ws.close(); }
      this.setState("ended", { by });
      if (this.opts.onEnded) this.opts.onEnded(by);
    }

    close() {
      this.closed = true;
      window.clearTimeout(this.recoveryTimer);
      window.clearTimeout(this.graceTimer);
      window.clearTimeout(this.negotiateTimer);
      this.closePc();
      if (this.ws) { const ws = this.ws; this.ws = null; ws.close(); }
      if (this.stream) for (const track of this.stream.getTracks()) track.stop();
    }
  }

  window.Open120Video = { Peer, getMedia, isLoopback };
})();
