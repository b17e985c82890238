// Supervisor dashboard: live calls' hold and interpreter badges, video calls' duration and
// connection; contacts and service level per day, drawn with the locally served Chart.js.
(function () {
  "use strict";
  // Live contacts: a call's row shows whether its caller is on hold and whether an
  // interpreter is on the line (call.updated frames, through ticket_notices.js's socket).
  document.addEventListener("open120:call-updated", (event) => {
    const frame = event.detail;
    const row = document.querySelector(`[data-call-row="${Number(frame.contact_id)}"]`);
    if (!row) return;
    const legs = ((frame.call && frame.call.legs) || []).filter((leg) => leg.state !== "left");
    const live = frame.state === "active";
    row.querySelector(".js-call-hold").hidden = !(live && frame.call && frame.call.on_hold);
    row.querySelector(".js-call-interpreter").hidden = !(live && legs.some((leg) => leg.role === "interpreter"));
  });
})();

(function () {
  "use strict";
  // Live contacts: a video call's row ticks its duration and turns "connected" when both
  // browsers are (video.connected frames, through ticket_notices.js's socket).
  const mmss = (seconds) => {
    const s = Math.max(0, Math.floor(seconds));
    const h = Math.floor(s / 3600);
    const m = Math.floor((s % 3600) / 60);
    const r = String(s % 60).padStart(2, "0");
    return h ? `${h}:${String(m).padStart(2, "0")}:${r}` : `${m}:${r}`;
  };
  const tick = () => {
    for (const timer of document.querySelectorAll(".js-video-timer[data-since]")) {
      const since = Date.parse(timer.dataset.since);
      if (!Number.isNaN(since)) timer.querySelector(".js-video-elapsed").textContent = mmss((Date.now() - since) / 1000);
    }
  };
  if (document.querySelector(".js-video-timer")) {
    tick();
    window.setInterval(tick, 1000);
  }
  document.addEventListener("open120:video-connected", (event) => {
    const row = document.querySelector(`[data-video-row="${Number(event.detail.contact_id)}"]`);
    if (!row) return;
    row.querySelector(".js-video-connected").hidden = false;
    row.querySelector(".js-video-connecting").hidden = true;
    row.querySelector(".js-video-failed").hidden = true;
  });
})();

(function () {
  "use strict";
  const script = document.getElementById("dashboard-script");
  const data = JSON.parse(document.getElementById("volume-data").textContent);
  const canvas = document.getElementById("volume-chart");
  if (!canvas || typeof Chart === "undefined") return;
  // The service level line (and its target) only when some day had contacts to measure.
  const hasServiceLevel = data.service_level.some((value) => value !== null);
  const datasets = [
    { label: script.dataset.offered, data: data.offered, borderColor: "#0d6efd", backgroundColor: "rgba(13,110,253,.1)", fill: true, tension: .25, yAxisID: "y" },
    { label: script.dataset.answered, data: data.answered, borderColor: "#198754", tension: .25, yAxisID: "y" },
  ];
  if (hasServiceLevel) {
    datasets.push(
      { label: script.dataset.serviceLevel, data: data.service_level, borderColor: "#fd7e14", borderDash: [4, 3], spanGaps: true, tension: .25, yAxisID: "percent" },
      { label: script.dataset.target, data: data.labels.map(() => data.target), borderColor: "rgba(220,53,69,.5)", borderWidth: 1, pointRadius: 0, yAxisID: "percent" },
    );
  }
  new Chart(canvas, {
    type: "line",
    data: { labels: data.labels, datasets },
    options: {
      responsive: true,
      interaction: { mode: "index", intersect: false },
      scales: {
        y: { beginAtZero: true },
        percent: { position: "right", min: 0, max: 100, display: hasServiceLevel, grid: { drawOnChartArea: false }, ticks: { callback: (value) => `${value}%` } },
      },
    },
  });
})();
