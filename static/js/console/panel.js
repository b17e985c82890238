// Agent console: the side panel of a contact tab (citizen and ticket form, rendered by the
// server and posted with htmx), attachments, and revealing the citizen's phone.
(function (C) {
  "use strict";
  if (!C.root) return;
  const { t, el } = C;

  // Django forms use id_<field>; several ticket forms live on this page, so make them unique.
  function uniqueFormIds(container, contactId) {
    const suffix = `-c${contactId}`;
    const map = new Map();
    for (const item of container.querySelectorAll("[id]")) {
      // Ids the panel templates made unique already end with the contact id.
      if (item.id.endsWith(suffix) || item.id.endsWith(`-${contactId}`)) continue;
      const fresh = item.id + suffix;
      map.set(item.id, fresh);
      item.id = fresh;
    }
    if (!map.size) return;
    for (const item of container.querySelectorAll("[for], [aria-describedby], [aria-labelledby]")) {
      for (const attr of ["for", "aria-describedby", "aria-labelledby"]) {
        const value = item.getAttribute(attr);
        if (value) item.setAttribute(attr, value.split(/\s+/).map((v) => map.get(v) || v).join(" "));
      }
    }
  }

  Object.assign(C.ContactTab.prototype, {
    async loadPanel() {
      const box = this.els.panel;
      box.setAttribute("aria-busy", "true");
      try {
        const response = await fetch(C.urlFor(C.cfg.panelUrl, this.id), {
          credentials: "same-origin", headers: { "HX-Request": "true" },
        });
        if (!response.ok) throw new Error(String(response.status));
        const html = await response.text();
        if (!C.tabs.has(this.id)) return;
        box.innerHTML = html;
        this.preparePanel(box);
        if (window.htmx) window.htmx.process(box);
      } catch (e) {
        box.textContent = "";
        const retry = el("button", { type: "button", class: "btn btn-sm btn-outline-secondary ms-2", text: t("retry") });
        retry.addEventListener("click", () => this.loadPanel());
        box.append(el("div", { class: "alert alert-warning py-2", role: "alert" }, t("panelFailed"), retry));
      } finally {
        box.setAttribute("aria-busy", "false");
      }
    },

    preparePanel(container) {
      uniqueFormIds(container, this.id);
      const body = container.querySelector(".ticket-panel-body");
      if (body && body.dataset.ticketNumber) this.setTicket(body.dataset.ticketNumber);
    },

    async upload(file) {
      const button = this.els.attach;
      const label = button.innerHTML;
      button.disabled = true;
      button.textContent = t("uploading");
      const body = new FormData();
      body.append("file", file);
      try {
        const response = await fetch(C.urlFor(C.cfg.attachmentUrl, this.id), {
          method: "POST", credentials: "same-origin", headers: { "X-CSRFToken": C.cfg.csrf }, body,
        });
        let data = null;
        try { data = await response.json(); } catch (e) { data = null; }
        if (response.ok && data && data.message) {
          this.addMessage(data.message, false);
          this.scrollToEnd(true);
        } else {
          C.showAlert(this.els.alerts, (data && data.message) || t("uploadFailed"), "danger");
        }
      } catch (e) {
        C.showAlert(this.els.alerts, t("uploadFailed"), "danger");
      } finally {
        button.innerHTML = label;
        button.disabled = this.isWrapup();
      }
    },
  });

  const panelTab = (target) => C.tabs.get(Number(target.dataset.ticketPanel));

  // --- Citizen panel: reveal the phone (logged server-side) ----------------------------------
  C.root.addEventListener("click", async (event) => {
    const button = event.target.closest(".js-reveal-phone");
    if (!button) return;
    button.disabled = true;
    const slot = button.parentElement.querySelector(".js-phone");
    try {
      const response = await C.postForm(button.dataset.url, { reason: "console" });
      const data = await response.json();
      if (!response.ok || !data.phone) throw new Error(String(response.status));
      slot.textContent = data.phone;
      button.remove();
    } catch (e) {
      button.disabled = false;
      const tab = C.tabs.get(Number(button.closest("[data-contact-panel]").dataset.contactPanel));
      C.showAlert(tab ? tab.els.alerts : C.consoleAlerts, t("phoneFailed"), "warning");
    }
  });

  // --- htmx: the ticket form posts itself; show 422 answers (form errors) too -----------------
  document.body.addEventListener("htmx:beforeSwap", (event) => {
    if (event.detail.xhr && event.detail.xhr.status === 422) {
      event.detail.shouldSwap = true;
      event.detail.isError = false;
    }
  });
  document.body.addEventListener("htmx:afterSwap", (event) => {
    const target = event.detail.target;
    if (!target || !target.matches("[data-ticket-panel]")) return;
    const tab = panelTab(target);
    if (!tab) return;
    tab.preparePanel(target);
    const invalid = target.querySelector(".is-invalid, .alert-danger");
    const message = target.querySelector(".js-ticket-message");
    if (invalid) {
      const field = target.querySelector(".is-invalid") || invalid;
      if (field.focus) field.focus();
    } else if (message) {
      // Saved: refusals such as "save the ticket first" are out of date now.
      tab.els.alerts.textContent = "";
      message.focus();
      C.announce(message.textContent.trim());
    }
  });
  document.body.addEventListener("htmx:responseError", (event) => {
    const target = event.detail.target;
    if (!target || !target.matches("[data-ticket-panel]")) return;
    const tab = panelTab(target);
    if (tab) C.showAlert(tab.els.alerts, t("ticketSaveFailed"), "danger");
  });
  document.body.addEventListener("htmx:sendError", (event) => {
    const target = event.detail.target;
    const tab = target && target.matches("[data-ticket-panel]") ? panelTab(target) : null;
    if (tab) C.showAlert(tab.els.alerts, t("ticketSaveFailed"), "danger");
  });
})(window.Open120Console = window.Open120Console || {});
