// Call-backs: "Call now" dials a call-back I have taken from my softphone
// (POST /api/voice/callbacks/<id>/dial) and opens the agent console, where the call shows.
(function () {
  "use strict";
  document.addEventListener("click", async (event) => {
    const button = event.target.closest(".js-callback-dial");
    if (!button || button.disabled) return;
    const error = button.parentElement.querySelector(".js-callback-dial-error");
    error.textContent = "";
    button.disabled = true;
    try {
      const response = await fetch(button.dataset.url, {
        method: "POST",
        credentials: "same-origin",
        headers: { "X-CSRFToken": button.dataset.csrfToken, "X-Requested-With": "fetch" },
      });
      let data = null;
      try { data = await response.json(); } catch (e) { data = null; }
      if (!response.ok) throw new Error((data && data.message) || button.dataset.failed);
      window.location.assign(button.dataset.consoleUrl);
    } catch (e) {
      error.textContent = e.message || button.dataset.failed;
      button.disabled = false;
    }
  });
})();
