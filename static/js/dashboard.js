// Supervisor dashboard: live calls' hold and interpreter badges; contacts per day, drawn
// with the locally served Chart.js.
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
  const script = document.getElementById("dashboard-script");
  const data = JSON.parse(document.getElementById("volume-data").textContent);
  const canvas = document.getElementById("volume-chart");
  if (!canvas || typeof Chart === "undefined") return;
  new Chart(canvas, {
    type: "line",
    data: {
      labels: data.labels,
      datasets: [
        { label: script.dataset.offered, data: data.offered, borderColor: "#0d6efd", backgroundColor: "rgba(13,110,253,.1)", fill: true, tension: .25 },
        { label: script.dataset.answered, data: data.answered, borderColor: "#198754", tension: .25 },
      ],
    },
    options: { responsive: true, interaction: { mode: "index", intersect: false }, scales: { y: { beginAtZero: true } } },
  });
})();
