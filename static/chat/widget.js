/* Open120 web chat widget for city websites.
 *
 *   <script src="https://HOST/static/chat/widget.js" defer></script>
 *   <script src="https://HOST/static/chat/widget.js" data-lang="en" defer></script>
 *
 * Adds a round button (bottom right) that opens the 120 chat in an iframe from HOST.
 * No dependencies; styles are set inline on the widget's own elements only, so nothing
 * leaks into the host page.
 */
(function () {
  "use strict";
  if (window.__open120ChatWidget) return;
  window.__open120ChatWidget = true;

  var script =
    document.currentScript ||
    (function () {
      var scripts = document.querySelectorAll('script[src*="/static/chat/widget.js"]');
      return scripts[scripts.length - 1];
    })();
  if (!script || !script.src) return;

  var origin = new URL(script.src, window.location.href).origin;
  var lang = (script.getAttribute("data-lang") || "").toLowerCase();
  if (lang !== "ko" && lang !== "en") lang = "";
  var english = lang === "en";
  var LABEL = english ? "120 chat service" : "120 채팅 상담";
  var CLOSE_HINT = english ? "Close the 120 chat (Esc)" : "120 채팅 상담 닫기 (Esc)";
  var chatUrl = origin + "/chat/?embed=1" + (lang ? "&lang=" + lang : "");

  var Z = "2147483000";
  var BLUE = "#0a58ca"; // white on it: 6.3:1
  var SVG_NS = "http://www.w3.org/2000/svg";

  function css(node, styles) {
    for (var key in styles) {
      if (Object.prototype.hasOwnProperty.call(styles, key)) {
        node.style.setProperty(key, styles[key], "important");
      }
    }
  }

  function icon(paths) {
    var svg = document.createElementNS(SVG_NS, "svg");
    svg.setAttribute("viewBox", "0 0 24 24");
    svg.setAttribute("width", "28");
    svg.setAttribute("height", "28");
    svg.setAttribute("aria-hidden", "true");
    svg.setAttribute("focusable", "false");
    css(svg, { display: "block", fill: "none", stroke: "#ffffff", "stroke-width": "2",
      "stroke-linecap": "round", "stroke-linejoin": "round" });
    paths.forEach(function (d) {
      var path = document.createElementNS(SVG_NS, "path");
      path.setAttribute("d", d);
      svg.appendChild(path);
    });
    return svg;
  }
  var chatIcon = icon([
    "M21 12a8 8 0 0 1-11.6 7.1L4 20l1.1-4.6A8 8 0 1 1 21 12z",
    "M8.5 12h.01M12 12h.01M15.5 12h.01",
  ]);
  var closeIcon = icon(["M6 6l12 12", "M18 6L6 18"]);

  var button = document.createElement("button");
  var frame = null;
  var open = false;
  var frameId = "open120-chat-frame-" + Math.random().toString(36).slice(2, 8);

  button.type = "button";
  button.setAttribute("aria-label", LABEL);
  button.setAttribute("title", LABEL);
  button.setAttribute("aria-expanded", "false");
  button.setAttribute("aria-controls", frameId);
  button.appendChild(chatIcon);
  css(button, {
    all: "initial",
    position: "fixed",
    right: "20px",
    bottom: "20px",
    "z-index": Z,
    width: "60px",
    height: "60px",
    "border-radius": "50%",
    border: "2px solid #ffffff",
    background: BLUE,
    color: "#ffffff",
    cursor: "pointer",
    display: "flex",
    "align-items": "center",
    "justify-content": "center",
    "box-shadow": "0 4px 14px rgba(0, 0, 0, 0.3)",
    "box-sizing": "border-box",
    padding: "0",
    margin: "0",
  });
  // A dark ring inside a yellow one: one of the two stands out on any host page.
  button.addEventListener("focus", function () {
    if (button.matches && !button.matches(":focus-visible")) return;
    css(button, { outline: "3px solid #0b0c0c", "outline-offset": "0",
      "box-shadow": "0 0 0 6px #ffbf47" });
  });
  button.addEventListener("blur", function () {
    css(button, { outline: "none", "box-shadow": "0 4px 14px rgba(0, 0, 0, 0.3)" });
  });

  function small() {
    return window.innerWidth < 480 || window.innerHeight < 700;
  }

  // On a small screen the open chat covers the page: the rest of the page is made inert,
  // so Tab and screen readers stay in the chat and its button, as in a modal dialog.
  var madeInert = [];
  function setHostInert(value) {
    if (value && !madeInert.length) {
      Array.prototype.forEach.call(document.body.children, function (node) {
        if (node === button || node === frame || node.inert || node.tagName === "SCRIPT") return;
        node.inert = true;
        madeInert.push(node);
      });
    } else if (!value) {
      madeInert.forEach(function (node) {
        node.inert = false;
      });
      madeInert = [];
    }
  }

  function place() {
    if (!frame) return;
    setHostInert(open && small());
    if (small()) {
      css(frame, { left: "8px", right: "auto", top: "8px", bottom: "auto",
        width: "calc(100vw - 16px)", height: "calc(100vh - 100px)",
        "max-height": "none" });
      css(frame, { height: "calc(100dvh - 100px)" }); // ignored where dvh is unknown
    } else {
      css(frame, { left: "auto", top: "auto", right: "20px", bottom: "92px", width: "380px",
        height: "600px", "max-height": "calc(100vh - 112px)" });
    }
  }

  function makeFrame() {
    frame = document.createElement("iframe");
    frame.id = frameId;
    frame.src = chatUrl;
    frame.title = LABEL;
    frame.setAttribute("allow", "clipboard-write");
    css(frame, {
      all: "initial",
      position: "fixed",
      "z-index": Z,
      border: "0",
      "border-radius": "12px",
      background: "#ffffff",
      "box-shadow": "0 8px 32px rgba(0, 0, 0, 0.3)",
      display: "none",
      "color-scheme": "normal",
    });
    place();
    document.body.appendChild(frame);
  }

  function setOpen(value, returnFocus) {
    if (value && !frame) makeFrame();
    open = value;
    button.setAttribute("aria-expanded", value ? "true" : "false");
    button.setAttribute("title", value ? CLOSE_HINT : LABEL);
    button.replaceChild(value ? closeIcon : chatIcon, button.firstChild);
    if (frame) css(frame, { display: value ? "block" : "none" });
    if (!value) setHostInert(false);
    if (value && frame) {
      place();
      frame.focus();
    } else if (returnFocus) {
      button.focus();
    }
  }

  button.addEventListener("click", function () {
    setOpen(!open, false);
  });

  document.addEventListener("keydown", function (event) {
    if (open && (event.key === "Escape" || event.key === "Esc")) setOpen(false, true);
  });

  // The chat page asks to close (its close button, or Esc pressed inside the iframe).
  window.addEventListener("message", function (event) {
    if (!frame || event.source !== frame.contentWindow || event.origin !== origin) return;
    if (event.data && event.data.type === "open120-chat:close" && open) setOpen(false, true);
  });

  window.addEventListener("resize", place);

  function mount() {
    document.body.appendChild(button);
  }
  if (document.body) mount();
  else document.addEventListener("DOMContentLoaded", mount);
})();
