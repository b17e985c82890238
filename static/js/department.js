// Department pages. The socket (/ws/department/) and its toasts are ticket_notices.js's;
// here the inbox refreshes itself when a notice arrives, and the ticket page shows the
// citizen's phone on request (the server logs every look).
(function () {
  "use strict";

  // --- inbox: fetch the page again and swap the tabs and the list ------------------------
  let refreshing = false;
  let again = false;

  async function refreshInbox() {
    if (refreshing) { again = true; return; }
    refreshing = true;
    try {
      const response = await fetch(window.location.href, { credentials: "same-origin" });
      if (!response.ok) return;
      const page = new DOMParser().parseFromString(await response.text(), "text/html");
      const fresh = page.getElementById("department-inbox");
      const current = document.getElementById("department-inbox");
      if (fresh && current) current.replaceWith(fresh);
    } catch (error) {
      // Offline for a moment: the next notice or a reload brings the list up to date.
    } finally {
      refreshing = false;
      if (again) { again = false; refreshInbox(); }
    }
  }

  if (document.getElementById("department-inbox")) {
    document.addEventListener("open120:ticket-notice", refreshInbox);
  }

  // --- ticket page: "show" the citizen's phone ---------------------------------------------
  for (const form of document.querySelectorAll("form.js-reveal-phone")) {
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const target = document.getElementById(form.dataset.target);
      const button = form.querySelector("button");
      button.disabled = true;
      try {
        const response = await fetch(form.action, {
          method: "POST",
          body: new FormData(form),
          credentials: "same-origin",
        });
        if (!response.ok) throw new Error(String(response.status));
        const data = await response.json();
        target.textContent = data.phone;
        // Not `hidden`: the form's d-inline (display: inline !important) would keep it shown.
        form.remove();
      } catch (error) {
        button.disabled = false;
        target.after(document.createTextNode(` ${form.dataset.failed}`));
      }
    });
  }
})();
