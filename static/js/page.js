// Behaviour every page shares, kept out of the markup: the Content-Security-Policy allows
// no inline scripts or event-handler attributes.
(function () {
  "use strict";

  // htmx swaps only 2xx answers; a form answered 422 carries its errors, so show them
  // inside the elements that ask for it with data-swap-422.
  document.addEventListener("htmx:beforeSwap", (event) => {
    const target = event.detail.target;
    if (event.detail.xhr.status === 422 && target && target.closest("[data-swap-422]")) {
      event.detail.shouldSwap = true;
      event.detail.isError = false;
    }
  });
})();
