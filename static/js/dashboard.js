// Supervisor dashboard: contacts per day, drawn with the locally served Chart.js.
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
