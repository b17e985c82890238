// Open120 video page: the camera, the video peer (window.Open120Video from
// static/js/video_peer.js does all WebRTC work), the call's controls and status line, and
// the screens of a call: waiting, in the call, ended.
(function (K) {
  "use strict";
  const { T, el, fill, show, state: S } = K;

  // --- the camera ------------------------------------------------------------------------------
  const CAMERA_ERRORS = {
    denied: ["cameraDenied", "cameraDeniedHelp"],
    no_device: ["cameraNone", "cameraNoneHelp"],
    insecure: ["cameraInsecure", "cameraInsecureHelp"],
    failed: ["cameraFailed", "cameraFailedHelp"],
  };

  function showCameraError(code) {
    const [text, help] = CAMERA_ERRORS[code] || CAMERA_ERRORS.failed;
    el.cameraErrorText.textContent = T[text];
    el.cameraErrorHelp.textContent = T[help];
    show(el.cameraError, true);
  }

  function attach(video, stream) {
    if (!video) return;
    video.muted = true;
    video.srcObject = stream;
    const playing = video.play();
    if (playing && playing.catch) playing.catch(() => {});
  }

  // Ask for the camera and microphone; null (and the reason shown) when they are refused.
  K.openCamera = async function openCamera() {
    if (K.stream) return K.stream;
    show(el.cameraError, false);
    el.cameraButton.disabled = true;
    el.cameraLabel.textContent = T.cameraAsking;
    try {
      K.stream = await window.Open120Video.getMedia({ facingMode: "user" });
    } catch (error) {
      el.cameraButton.disabled = false;
      el.cameraLabel.textContent = T.cameraAsk;
      showCameraError(error && error.code);
      return null;
    }
    attach(el.preview, K.stream);
    attach(el.waitingPreview, K.stream);
    show(el.preview, true);
    show(el.previewEmpty, false);
    const focused = document.activeElement === el.cameraButton;
    show(el.cameraButton, false);
    show(el.cameraOk, true);
    if (focused) el.startForm.elements[0].focus(); // the pressed button is gone: go on to step 2
    return K.stream;
  };

  el.cameraButton.addEventListener("click", () => { K.openCamera(); });

  // --- the peer ----------------------------------------------------------------------------------
  function onPeerState(state, detail) {
    if (S.chatState === "ended") return;
    if (state === "connected") {
      show(el.remoteEmpty, false);
      show(el.failed, false);
      K.refreshStatus();
    } else if (state === "reconnecting") {
      K.setStatus(fill(T.reconnecting, { seconds: detail.secondsLeft }), "warn");
    } else if (state === "failed") {
      K.setStatus(T.failed, "error");
      if (!S.textOnly) {
        show(el.failed, true);
        show(el.remoteEmpty, true);
        el.remoteEmptyText.textContent = T.failed;
      }
    } else if (state === "refused") {
      K.sessionGone();
    } else if (S.chatState === "active") {
      K.refreshStatus();
    }
  }

  // The status line from what is known now: the chat's state and the peer's.
  K.refreshStatus = function refreshStatus() {
    if (S.chatState !== "active") {
      K.setStatus("");
      return;
    }
    if (S.textOnly) {
      K.setStatus(T.textOnly, "info");
      return;
    }
    const state = K.peer ? K.peer.state : "idle";
    if (state === "connected") {
      K.setStatus(S.agentName ? fill(T.connectedWith, { agent: S.agentName }) : T.connected, "ok");
    } else if (state === "failed") {
      K.setStatus(T.failed, "error");
    } else if (state !== "reconnecting") {
      K.setStatus(T.connecting, "info");
    }
  };

  K.startPeer = function startPeer() {
    if (K.peer || !S.session || !S.session.video_ws_url || !window.Open120Video) return;
    const peer = new window.Open120Video.Peer({
      url: S.session.video_ws_url,
      protocols: S.session.video_ws_protocols || ["open120.video", S.session.token],
      role: "citizen",
      stream: K.stream,
      localVideo: el.local,
      remoteVideo: el.remote,
      onState: onPeerState,
      onError: (code, message) => {
        if (["forbidden", "unknown_room", "call_ended"].includes(code)) return; // the close follows
        if (code === "client") return; // a browser hiccup the peer recovers from
        if (message) K.showError(fill(T.refused, { message }));
      },
      onEnded: (by) => K.endCall(by === "system" ? null : by, null),
    });
    K.peer = peer;
    window.open120Video = peer;
    peer.start();
  };

  K.stopPeer = function stopPeer() {
    if (K.peer) K.peer.close();
    K.peer = null;
    if (K.stream) for (const track of K.stream.getTracks()) track.stop();
    K.stream = null;
    for (const video of [el.preview, el.waitingPreview, el.local, el.remote]) video.srcObject = null;
    show(el.preview, false);
    show(el.previewEmpty, true);
    el.cameraButton.disabled = false;
    el.cameraLabel.textContent = T.cameraAsk;
    show(el.cameraButton, true);
    show(el.cameraOk, false);
  };

  // --- the screens of a call ---------------------------------------------------------------------
  K.enterWaiting = function enterWaiting() {
    if (K.phase === "waiting") return;
    K.setPhase("waiting");
    K.setStatus("");
  };

  K.enterCall = function enterCall() {
    const first = K.phase !== "call";
    K.setPhase("call");
    show(el.confirmEnd, false);
    if (first) {
      if (!K.peer || K.peer.state !== "connected") {
        show(el.remoteEmpty, true);
        el.remoteEmptyText.textContent = T.remoteWaiting;
      }
      el.callHeading.focus();
    }
    K.refreshStatus();
  };

  // The end, whoever ended it: the thank-you screen with the rating (if an agent answered).
  K.endCall = function endCall(by, state) {
    const wasEnded = S.chatState === "ended";
    S.chatState = "ended";
    K.stopPeer();
    if (!wasEnded) {
      if (by === "agent") el.endedDetail.textContent = T.endedAgent;
      else if (by === "citizen") el.endedDetail.textContent = S.hadAgent ? T.endedCitizen : T.endedCancelled;
      else el.endedDetail.textContent = T.ended;
    }
    const answered = state ? state === "wrapup" || state === "done" : S.hadAgent;
    if (!wasEnded) show(el.csat, answered && !(S.session && S.session.rated));
    K.setPhase("ended");
    if (!wasEnded) el.endedHeading.focus();
  };

  // The socket says this call no longer exists (ended long ago, or not ours).
  K.sessionGone = function sessionGone() {
    K.clearSession();
    K.stopPeer();
    K.resetChat();
    S.session = null;
    K.setPhase("intro");
    K.showNotice(T.sessionGone);
    K.checkAvailability();
  };

  // --- the controls --------------------------------------------------------------------------
  function toggle(button, pressed, labelOn, labelOff, iconOn, iconOff) {
    button.setAttribute("aria-pressed", String(pressed));
    button.querySelector(".video-control-label").textContent = pressed ? labelOn : labelOff;
    button.querySelector(".bi").className = `bi ${pressed ? iconOn : iconOff}`;
  }

  el.mute.addEventListener("click", () => {
    const muted = el.mute.getAttribute("aria-pressed") !== "true";
    if (K.peer) K.peer.setMuted(muted);
    toggle(el.mute, muted, T.unmute, T.mute, "bi-mic-mute-fill", "bi-mic-fill");
  });

  el.cameraOff.addEventListener("click", () => {
    const off = el.cameraOff.getAttribute("aria-pressed") !== "true";
    if (K.peer) K.peer.setCameraOff(off);
    toggle(el.cameraOff, off, T.cameraOnButton, T.cameraOff, "bi-camera-video-off-fill", "bi-camera-video-fill");
  });

  el.switchCamera.addEventListener("click", async () => {
    if (!K.peer) return;
    el.switchCamera.disabled = true;
    try {
      const switched = await K.peer.switchCamera();
      K.showNotice(switched ? T.cameraSwitched : T.noOtherCamera);
    } catch (error) {
      K.showNotice(T.cameraFailed);
    } finally {
      el.switchCamera.disabled = false;
    }
  });

  function hangUp() {
    show(el.confirmEnd, false);
    const peerOpen = K.peer && K.peer.ws && K.peer.ws.readyState === WebSocket.OPEN;
    if (peerOpen) K.peer.hangUp();
    else if (!K.send({ type: "chat.end" })) K.showError(T.networkError);
  }

  el.hangup.addEventListener("click", () => {
    show(el.confirmEnd, true);
    el.confirmEndYes.focus();
  });
  el.confirmEndYes.addEventListener("click", hangUp);
  el.confirmEndNo.addEventListener("click", () => {
    show(el.confirmEnd, false);
    el.hangup.focus();
  });
  el.failedEnd.addEventListener("click", hangUp);

  // Video failed: go on in the side chat (the agent keeps the contact).
  el.keepChat.addEventListener("click", () => {
    S.textOnly = true;
    show(el.failed, false);
    K.refreshStatus();
    el.input.focus();
  });
})(window.Open120VideoPage = window.Open120VideoPage || {});
