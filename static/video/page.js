// Open120 video page: before a call — whether a signing agent can answer now, the start
// form, the video call-back request — and resuming a call after a reload. Loads last.
(function (K) {
  "use strict";
  const { T, el, show, state: S } = K;
  const RECHECK_MS = 60000;

  // --- a booked call-back's link (?callback=…): kept in this tab, dropped from the address ------
  const LINK_KEY = "open120.video.callback";
  const banner = document.getElementById("video-callback-banner");
  const linkStore = {
    get() {
      try {
        return window.sessionStorage.getItem(LINK_KEY) || "";
      } catch (error) {
        return ""; // storage blocked: the link lives as long as the page
      }
    },
    set(value) {
      try {
        if (value) window.sessionStorage.setItem(LINK_KEY, value);
        else window.sessionStorage.removeItem(LINK_KEY);
      } catch (error) {
        /* storage blocked */
      }
    },
  };
  const params = new URLSearchParams(window.location.search);
  if (params.has("callback")) {
    linkStore.set(el.main.dataset.callbackLink ? params.get("callback") : "");
    params.delete("callback");
    const query = params.toString();
    window.history.replaceState(null, "", `${window.location.pathname}${query ? `?${query}` : ""}${window.location.hash}`);
  }
  let callbackLink = linkStore.get();
  function forgetLink() {
    callbackLink = "";
    linkStore.set("");
    show(banner, false);
  }

  // --- availability ------------------------------------------------------------------------------
  const REASONS = { closed: "reasonClosed", no_agents: "reasonNoAgents", no_queue: "reasonNoQueue" };

  function showAvailability(data) {
    const available = Boolean(data.available);
    el.availability.classList.remove("is-available", "is-unavailable", "is-checking");
    el.availability.classList.add(available ? "is-available" : "is-unavailable");
    el.availabilityIcon.className = `bi ${available ? "bi-check-circle-fill" : "bi-exclamation-circle-fill"}`;
    el.availabilityText.textContent = available ? T.available : data.message || T[REASONS[data.reason] || "reasonNoAgents"];
    if (data.hours) {
      el.hours.textContent = data.hours;
      if (el.callbackHours) el.callbackHours.textContent = data.hours;
    }
    if (callbackLink) return; // the booked call goes to its agent whoever else is on duty
    if (K.phase === "intro" || K.phase === "unavailable") K.setPhase(available ? "intro" : "unavailable");
  }

  let recheckTimer = null;
  K.checkAvailability = async function checkAvailability() {
    window.clearTimeout(recheckTimer);
    if (K.phase !== "intro" && K.phase !== "unavailable") return;
    try {
      const response = await fetch(K.urls.availability, { headers: { Accept: "application/json" } });
      if (response.ok) showAvailability(await response.json());
    } catch (error) {
      /* keep what the page showed; try again later */
    }
    recheckTimer = window.setTimeout(K.checkAvailability, RECHECK_MS);
  };

  // --- form errors (the start and the call-back forms) ------------------------------------------
  function clearErrors(form) {
    form.querySelectorAll(".video-field-error").forEach((node) => node.remove());
    form.querySelectorAll("[aria-invalid]").forEach((input) => {
      input.classList.remove("is-invalid");
      input.removeAttribute("aria-invalid");
      const ids = (input.getAttribute("aria-describedby") || "").split(/\s+/).filter((id) => id && !id.endsWith("-error"));
      if (ids.length) input.setAttribute("aria-describedby", ids.join(" "));
      else input.removeAttribute("aria-describedby");
    });
  }

  function fieldError(input, messages) {
    if (!input || !input.id) return false;
    const feedback = document.createElement("div");
    feedback.className = "invalid-feedback d-block video-field-error";
    feedback.id = `${input.id}-error`;
    feedback.textContent = messages.join(" ");
    input.classList.add("is-invalid");
    input.setAttribute("aria-invalid", "true");
    const describedBy = (input.getAttribute("aria-describedby") || "").split(/\s+/).filter(Boolean);
    describedBy.push(feedback.id);
    input.setAttribute("aria-describedby", describedBy.join(" "));
    if (input.type === "checkbox") (input.closest(".form-check") || input.parentElement).append(feedback);
    else input.insertAdjacentElement("afterend", feedback);
    return true;
  }

  function focusFirstInvalid(form) {
    const input = form.querySelector("[aria-invalid=true]");
    if (input) input.focus();
  }

  async function postJson(url, body) {
    const response = await fetch(url, {
      method: "POST",
      headers: { "Content-Type": "application/json", Accept: "application/json" },
      body: JSON.stringify(body),
    });
    return { status: response.status, data: await response.json().catch(() => ({})) };
  }

  // --- starting a call -------------------------------------------------------------------------
  el.startForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearErrors(el.startForm);
    K.showError("");
    K.showNotice("");
    const fields = el.startForm.elements;
    if (fields.consent && !fields.consent.checked) {
      fieldError(fields.consent, [T.consentRequired]);
      focusFirstInvalid(el.startForm);
      return;
    }
    el.startSubmit.disabled = true;
    try {
      if (!(await K.openCamera())) {
        K.showError(T.cameraNeeded);
        el.cameraButton.focus();
        return;
      }
      const body = {
        name: fields.name ? fields.name.value : "",
        phone: fields.phone ? fields.phone.value : "",
        consent: fields.consent ? fields.consent.checked : false,
      };
      if (fields.recording_consent) body.recording_consent = fields.recording_consent.checked;
      if (callbackLink) body.callback = callbackLink;
      const { status, data } = await postJson(K.urls.start, body);
      if (status === 201 && data.token) {
        started(data);
      } else if (status === 400 && data.error === "bad_link") {
        forgetLink(); // the normal way to call, as if the link had not been opened
        K.showError(data.message || T.startFailed);
        K.checkAvailability();
      } else if (status === 400 && data.fields) {
        const general = [];
        Object.entries(data.fields).forEach(([name, messages]) => {
          if (!fieldError(fields[name], messages)) general.push(...messages);
        });
        if (general.length) K.showError(general.join(" "));
        focusFirstInvalid(el.startForm);
      } else if (status === 503) {
        showAvailability({ available: false, reason: data.reason, message: data.message });
        document.getElementById("video-unavailable-heading").focus();
      } else {
        K.showError(data.message || T.startFailed);
      }
    } catch (error) {
      K.showError(T.networkError);
    } finally {
      el.startSubmit.disabled = false;
    }
  });

  function started(data) {
    forgetLink(); // used: the call is kept in this tab from now on
    S.session = {
      token: data.token,
      contact_id: data.contact_id,
      ws_url: data.ws_url,
      ws_protocols: data.ws_protocols,
      video_ws_url: data.video_ws_url,
      video_ws_protocols: data.video_ws_protocols,
    };
    K.saveSession(S.session);
    window.clearTimeout(recheckTimer);
    S.chatState = "waiting";
    K.setPhase("waiting");
    el.waitingHeading.focus();
    K.startPeer();
    K.connectChat();
  }

  // --- the video call-back (offered while the video queue exists) ------------------------------
  if (el.callbackForm) el.callbackForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearErrors(el.callbackForm);
    const phone = el.callbackPhone.value.trim();
    const date = el.callbackDate.value;
    const time = el.callbackTime.value;
    if (!phone) fieldError(el.callbackPhone, [T.callbackPhoneRequired]);
    if (!date || !time) fieldError(date ? el.callbackTime : el.callbackDate, [T.callbackTimeRequired]);
    if (!phone || !date || !time) {
      focusFirstInvalid(el.callbackForm);
      return;
    }
    el.callbackSubmit.disabled = true;
    try {
      const { status, data } = await postJson(K.urls.callback, {
        phone,
        name: el.callbackName.value.trim(),
        preferred_at: `${date}T${time}`,
        note: el.callbackNote.value.trim(),
      });
      if (status === 201) {
        show(el.callbackForm, false);
        el.callbackSaved.textContent = data.message;
        show(el.callbackSaved, true);
        el.callbackSaved.focus();
        return;
      }
      if (status === 400 && data.fields) {
        const targets = { phone: el.callbackPhone, name: el.callbackName, note: el.callbackNote, preferred_at: el.callbackTime };
        const general = [];
        Object.entries(data.fields).forEach(([name, messages]) => {
          if (!fieldError(targets[name], messages)) general.push(...messages);
        });
        if (general.length) K.showError(general.join(" "));
        focusFirstInvalid(el.callbackForm);
      } else {
        K.showError(data.message || T.callbackFailed);
      }
    } catch (error) {
      K.showError(T.networkError);
    } finally {
      el.callbackSubmit.disabled = false;
    }
  });

  // --- after the end: back to the start ------------------------------------------------------
  el.newCall.addEventListener("click", () => {
    K.clearSession();
    K.stopPeer();
    K.resetChat();
    S.session = null;
    K.showError("");
    K.showNotice("");
    K.setPhase("intro");
    K.checkAvailability();
    el.main.focus();
  });

  // --- a reload resumes the call kept in this tab ------------------------------------------------
  async function resume() {
    K.setPhase("waiting");
    // The camera, if the browser still allows it; without it the call goes on receiving only.
    await K.openCamera();
    K.startPeer();
    K.connectChat();
  }

  S.session = K.loadSession();
  if (S.session) {
    forgetLink();
    resume();
  } else if (callbackLink) {
    show(banner, true);
    K.setPhase("intro");
  } else K.checkAvailability();
})(window.Open120VideoPage = window.Open120VideoPage || {});
