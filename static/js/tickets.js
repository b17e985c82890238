// Ticket list and ticket page: tick all rows for a bulk action; show a citizen's phone (logged).
(function () {
  "use strict";

  function csrfToken() {
    const input = document.querySelector("input[name=csrfmiddlewaretoken]");
    return input ? input.value : "";
  }

  document.addEventListener("change", (event) => {
    const all = event.target.closest(".js-select-all");
    if (!all) return;
    document.querySelectorAll(".js-ticket-check").forEach((box) => {
      box.checked = all.checked;
    });
  });

  document.addEventListener("click", async (event) => {
    const button = event.target.closest(".js-reveal-phone");
    if (!button) return;
    button.disabled = true;
    const slot = button.parentElement.querySelector(".js-phone");
    try {
      const response = await fetch(button.dataset.url, {
        method: "POST",
        credentials: "same-origin",
        headers: { "X-CSRFToken": csrfToken(), "X-Requested-With": "fetch" },
        body: new URLSearchParams({ reason: "ticket" }),
      });
      const data = await response.json();
      if (!response.ok || !data.phone) throw new Error(String(response.status));
      slot.textContent = data.phone;
      button.remove();
    } catch (e) {
      button.disabled = false;
      slot.insertAdjacentText("afterend", " " + button.dataset.failed);
    }
  });
})();
