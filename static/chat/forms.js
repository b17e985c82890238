// Citizen web chat: what the citizen fills in and presses — the start form, the message box
// and attachments, ending the chat, the rating, the transcript and the call-back request.
(function (K) {
  "use strict";
  const { T, el, fill, show, state: S } = K;
  const TYPING_EVERY_MS = 2000;
  const ALLOWED_TYPES = ["image/png", "image/jpeg", "image/gif", "image/webp", "application/pdf"];

  // --- compose -----------------------------------------------------------------------------
  function autoGrow() {
    el.input.style.height = "auto";
    el.input.style.height = `${Math.min(el.input.scrollHeight + 2, 140)}px`;
  }

  el.input.addEventListener("input", () => {
    autoGrow();
    if (!el.input.value.trim() || S.chatState === "ended") return;
    const now = Date.now();
    if (now - S.lastTypingSent >= TYPING_EVERY_MS && K.client && K.client.isReady &&
        K.send({ type: "typing" })) {
      S.lastTypingSent = now;
    }
  });

  el.input.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing && event.keyCode !== 229) {
      event.preventDefault();
      if (el.compose.requestSubmit) el.compose.requestSubmit();
      else submitMessage();
    }
  });

  el.compose.addEventListener("submit", (event) => {
    event.preventDefault();
    submitMessage();
  });

  function submitMessage() {
    const text = el.input.value.trim();
    if (!text || S.chatState === "ended") return;
    K.sendMessage(text);
    el.input.value = "";
    autoGrow();
    S.lastTypingSent = 0;
    el.input.focus();
  }

  el.attach.addEventListener("click", () => el.file.click());

  el.file.addEventListener("change", () => {
    const file = el.file.files && el.file.files[0];
    el.file.value = "";
    if (!file || !S.session) return;
    if (file.type && !ALLOWED_TYPES.includes(file.type)) {
      K.showError(T.fileType);
      return;
    }
    if (file.size > K.config.maxBytes) {
      K.showError(fill(T.fileSize, { size: K.config.maxLabel }));
      return;
    }
    uploadFile(file);
  });

  async function uploadFile(file) {
    const placeholder = K.renderMessage(
      { sender: "citizen", text: fill(T.uploading, { name: file.name }), created_at: null },
      { isPending: true }
    );
    placeholder.classList.add("msg-uploading");
    el.log.append(placeholder);
    K.scrollToBottom();
    const body = new FormData();
    body.append("file", file);
    const base = K.config.startUrl.replace(/start\/?$/, "");
    try {
      const response = await fetch(`${base}${encodeURIComponent(S.session.token)}/attachments`, {
        method: "POST",
        body,
        headers: { Accept: "application/json" },
      });
      const data = await response.json().catch(() => ({}));
      placeholder.remove();
      if (response.status === 201 && data.message) {
        K.addMessage(data.message);
      } else if (response.status === 410) {
        K.clearSession();
        K.resetToStart(T.sessionGone);
      } else {
        K.showError(data.message || T.uploadFailed);
      }
    } catch (error) {
      placeholder.remove();
      K.showError(T.networkError);
    }
  }

  el.errorClose.addEventListener("click", () => {
    show(el.error, false);
    el.input.focus();
  });

  // --- ending, rating, transcript ------------------------------------------------------------
  function requestEnd() {
    if (!K.send({ type: "chat.end" })) K.showError(T.networkError);
  }

  el.endButton.addEventListener("click", () => {
    const dialog = K.endModal();
    if (dialog) dialog.show();
    else if (window.confirm(document.getElementById("chat-end-modal-title").textContent)) {
      requestEnd();
    }
  });
  el.endConfirm.addEventListener("click", () => {
    K.hideEndModal();
    requestEnd();
  });

  el.csat.querySelectorAll("button[data-score]").forEach((button) => {
    button.addEventListener("click", () => {
      if (button.getAttribute("aria-disabled") === "true") return;
      const score = parseInt(button.dataset.score, 10);
      S.waitingRequest = "csat";
      if (!K.send({ type: "csat", score })) {
        S.waitingRequest = null;
        K.showError(T.networkError);
        return;
      }
      // aria-disabled, not disabled: a disabled button loses focus to <body>.
      el.csat.querySelectorAll("button").forEach((b) => {
        b.setAttribute("aria-disabled", "true");
      });
      button.setAttribute("aria-pressed", "true");
    });
  });

  function transcriptStatus(text, kind) {
    el.transcriptStatus.textContent = text;
    el.transcriptStatus.className = `small mt-1 mb-0${kind ? ` ${kind}` : ""}`;
  }

  el.transcriptForm.addEventListener("submit", (event) => {
    event.preventDefault();
    const to = el.transcriptTo.value.trim();
    if (!to) {
      transcriptStatus(T.transcriptRequired, "chat-error-text");
      el.transcriptTo.focus();
      return;
    }
    S.waitingRequest = "transcript";
    const frame = to.includes("@")
      ? { type: "transcript.request", email: to }
      : { type: "transcript.request", phone: to };
    if (K.send(frame)) {
      transcriptStatus(T.transcriptSending, "");
    } else {
      S.waitingRequest = null;
      transcriptStatus(T.networkError, "chat-error-text");
    }
  });

  // --- call-back -------------------------------------------------------------------------------
  el.callbackToggle.addEventListener("click", () => {
    const open = el.callbackForm.hidden;
    show(el.callbackForm, open);
    el.callbackToggle.setAttribute("aria-expanded", String(open));
    if (open) el.callbackPhone.focus();
  });

  el.callbackForm.addEventListener("submit", (event) => {
    event.preventDefault();
    const phone = el.callbackPhone.value.trim();
    show(el.callbackError, false);
    if (!phone) {
      el.callbackError.textContent = T.callbackPhoneRequired;
      show(el.callbackError, true);
      el.callbackPhone.focus();
      return;
    }
    S.waitingRequest = "callback";
    if (K.send({ type: "callback.request", phone, note: el.callbackNote.value.trim() })) {
      el.callbackForm.querySelector("button[type=submit]").disabled = true;
    } else {
      S.waitingRequest = null;
      el.callbackError.textContent = T.networkError;
      show(el.callbackError, true);
    }
  });

  el.newChat.addEventListener("click", () => {
    K.clearSession();
    K.resetToStart(null);
    const first = el.startForm.querySelector("input, select, textarea");
    if (first) first.focus();
  });

  // --- start form --------------------------------------------------------------------------
  function clearFieldErrors() {
    el.startForm.querySelectorAll(".chat-field-error").forEach((node) => node.remove());
    el.startForm.querySelectorAll("[aria-invalid]").forEach((input) => {
      input.classList.remove("is-invalid");
      input.removeAttribute("aria-invalid");
      const ids = (input.getAttribute("aria-describedby") || "")
        .split(/\s+/)
        .filter((id) => id && !id.endsWith("-error"));
      if (ids.length) input.setAttribute("aria-describedby", ids.join(" "));
      else input.removeAttribute("aria-describedby");
    });
    show(el.startError, false);
  }

  function fieldError(name, messages) {
    const input = el.startForm.elements[name];
    if (!input || !input.id) return false;
    const feedback = document.createElement("div");
    feedback.className = "invalid-feedback d-block chat-field-error";
    feedback.id = `${input.id}-error`;
    feedback.textContent = messages.join(" ");
    input.classList.add("is-invalid");
    input.setAttribute("aria-invalid", "true");
    const describedBy = (input.getAttribute("aria-describedby") || "").split(/\s+/).filter(Boolean);
    describedBy.push(feedback.id);
    input.setAttribute("aria-describedby", describedBy.join(" "));
    const holder = input.closest(".form-check") || input.parentElement;
    if (input.type === "checkbox") holder.append(feedback);
    else input.insertAdjacentElement("afterend", feedback);
    return true;
  }

  function firstInvalid() {
    const input = el.startForm.querySelector("[aria-invalid=true]");
    if (input) input.focus();
  }

  function startError(text) {
    el.startError.textContent = text;
    show(el.startError, true);
  }

  function started(data, body) {
    S.session = { token: data.token, contact_id: data.contact_id };
    K.saveSession(S.session);
    const phone = String(body.get("phone") || "").trim();
    if (phone) el.callbackPhone.value = phone;
    K.enterRoom();
    K.connect();
    el.input.focus();
  }

  function showFieldErrors(fields) {
    const general = [];
    Object.entries(fields).forEach(([name, messages]) => {
      if (!fieldError(name, messages)) general.push(...messages);
    });
    if (general.length) startError(general.join(" "));
    firstInvalid();
  }

  el.startForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearFieldErrors();
    show(el.startNotice, false);
    const consent = el.startForm.elements.consent;
    if (consent && !consent.checked) {
      fieldError("consent", [T.consentRequired]);
      firstInvalid();
      return;
    }
    el.startSubmit.disabled = true;
    try {
      const body = new FormData(el.startForm);
      const response = await fetch(K.config.startUrl, {
        method: "POST",
        body,
        headers: { Accept: "application/json" },
      });
      const data = await response.json().catch(() => ({}));
      if (response.status === 201 && data.token) started(data, body);
      else if (response.status === 400 && data.fields) showFieldErrors(data.fields);
      else startError(data.message || T.startFailed);
    } catch (error) {
      startError(T.networkError);
    } finally {
      el.startSubmit.disabled = false;
    }
  });

  (function improveStartForm() {
    const fields = el.startForm.elements;
    if (fields.name) fields.name.setAttribute("autocomplete", "name");
    if (fields.phone) {
      fields.phone.setAttribute("autocomplete", "tel");
      fields.phone.setAttribute("inputmode", "tel");
    }
  })();

  // --- inside the widget's iframe ----------------------------------------------------------
  const framed = window.parent !== window;
  if (el.closeWidget) {
    show(el.closeWidget, framed);
    el.closeWidget.addEventListener("click", () => {
      window.parent.postMessage({ type: "open120-chat:close" }, "*");
    });
  }
  if (framed) {
    document.addEventListener("keydown", (event) => {
      if (event.key === "Escape" && !document.querySelector(".modal.show")) {
        window.parent.postMessage({ type: "open120-chat:close" }, "*");
      }
    });
  }
})(window.Open120Chat = window.Open120Chat || {});
