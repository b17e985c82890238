// Ticket notices as Bootstrap toasts linking to the ticket: a department answered, asked
// for information or returned a ticket; a ticket was transferred to a department; an SLA
// clock warned or was breached.
//
// Frames arrive as "open120:ticket-notice" events on the document: the agent console hands
// over those of its own socket; when this script's tag names a socket (data-ws-path), the
// script opens it itself and does the same (supervisor dashboard, department pages); such a
// page loads static/js/socket.js first.
// Tag options: data-ticket-url (a ticket URL with 0 as the id, for pages whose users open
// tickets elsewhere than the staff ticket page), data-open-label, data-close-label.
(function () {
  "use strict";
  const cfg = document.currentScript.dataset;
  const LOOK = {
    transferred: "primary",
    department_answered: "success",
    info_provided: "info",
    info_requested: "warning",
    returned: "warning",
    sla_warning: "warning",
    sla_breached: "danger",
  };
  let container = null;

  function toastContainer() {
    if (container === null) {
      container = document.createElement("div");
      container.className = "toast-container position-fixed bottom-0 end-0 p-3";
      container.id = "ticket-notices";
      document.body.appendChild(container);
    }
    return container;
  }

  function ticketUrl(ticket) {
    if (cfg.ticketUrl) return cfg.ticketUrl.replace(/\/0\/$/, `/${ticket.id}/`);
    return ticket.url;
  }

  function el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text) node.textContent = text;
    return node;
  }

  function show(frame) {
    const ticket = frame.ticket || {};
    const urgent = frame.kind === "sla_breached";
    const toast = el("div", "toast");
    toast.setAttribute("role", urgent ? "alert" : "status");
    toast.setAttribute("aria-live", urgent ? "assertive" : "polite");
    toast.setAttribute("aria-atomic", "true");
    toast.dataset.kind = frame.kind || "";

    const header = el("div", "toast-header");
    header.appendChild(el("span", `badge rounded-pill text-bg-${LOOK[frame.kind] || "secondary"} me-2`, " "));
    header.appendChild(el("strong", "me-auto font-monospace", ticket.number || ""));
    if (frame.at) header.appendChild(el("small", "text-body-secondary", frame.at.slice(11, 16)));
    const close = el("button", "btn-close");
    close.type = "button";
    close.dataset.bsDismiss = "toast";
    close.setAttribute("aria-label", cfg.closeLabel || "Close");
    header.appendChild(close);

    const body = el("div", "toast-body");
    if (ticket.subject) body.appendChild(el("div", "fw-semibold", ticket.subject));
    body.appendChild(el("p", "mb-2", frame.message || ""));
    if (ticket.id) {
      const link = el("a", "btn btn-sm btn-primary", cfg.openLabel || "Open ticket");
      link.href = ticketUrl(ticket);
      body.appendChild(link);
    }
    toast.append(header, body);
    toastContainer().appendChild(toast);
    toast.addEventListener("hidden.bs.toast", () => toast.remove());
    window.bootstrap.Toast.getOrCreateInstance(toast, { autohide: !urgent, delay: 15000 }).show();
  }

  document.addEventListener("open120:ticket-notice", (event) => show(event.detail));

  // --- this script's own socket (static/js/socket.js) --------------------------------------
  if (!cfg.wsPath) return;
  window.Open120Socket.open(cfg.wsPath, {
    pingEvery: 25000,
    stopCodes: [4403], // not allowed here: reconnecting would not help
    onFrame: (frame) => {
      if (frame.type === "ticket.notice") {
        document.dispatchEvent(new CustomEvent("open120:ticket-notice", { detail: frame }));
      } else if (frame.type === "call.updated") {
        // The supervisor dashboard's live list shows calls on hold and with an interpreter.
        document.dispatchEvent(new CustomEvent("open120:call-updated", { detail: frame }));
      } else if (frame.type === "video.connected") {
        // The dashboard's live list marks a sign-language video call as connected.
        document.dispatchEvent(new CustomEvent("open120:video-connected", { detail: frame }));
      }
    },
  });
})();
