// Supervisor reports: service level against its target, volumes, and the category
// breakdown, drawn with the locally served Chart.js from the page's json_script data.
// Every chart has a table with the same numbers on the page.
(function () {
  "use strict";
  const script = document.getElementById("reports-script");
  const source = document.getElementById("report-data");
  if (!script || !source || typeof Chart === "undefined") return;
  const data = JSON.parse(source.textContent);
  const text = script.dataset;
  const timeline = data.timeline;
  const previous = data.previous;
  const blue = "#0a58ca";
  const green = "#198754";
  const red = "#dc3545";
  const grey = "#6c757d";
  // The previous period is drawn against the same positions (its first period beside ours).
  const alongside = (series) => timeline.labels.map((_, index) => (series && index < series.length ? series[index] : null));
  const previousLabel = (index) => (previous && index < previous.labels.length ? previous.labels[index] : "");
  const tooltip = {
    callbacks: {
      afterTitle: (items) => (previous && items.length ? `${text.previous}: ${previousLabel(items[0].dataIndex)}` : ""),
    },
  };

  // Many periods (hours, quarters) read better as lines than as bars too thin to see.
  const dense = timeline.labels.length > 62;

  const slCanvas = document.getElementById("sl-chart");
  if (slCanvas) {
    const datasets = [
      { label: text.serviceLevel, data: timeline.service_level, borderColor: blue, backgroundColor: "rgba(10,88,202,.12)", fill: true, spanGaps: false, tension: 0.2, pointRadius: dense ? 1 : 3 },
      { label: `${text.target} ${data.target}%`, data: timeline.labels.map(() => data.target), borderColor: red, borderDash: [6, 4], pointRadius: 0, fill: false },
    ];
    if (previous) {
      datasets.push({ label: text.previous, data: alongside(previous.service_level), borderColor: grey, borderDash: [2, 3], pointRadius: 0, spanGaps: false, fill: false });
    }
    new Chart(slCanvas, {
      type: "line",
      data: { labels: timeline.labels, datasets },
      options: {
        responsive: true,
        maintainAspectRatio: false,
        interaction: { mode: "index", intersect: false },
        plugins: { tooltip },
        scales: { y: { min: 0, max: 100, ticks: { callback: (value) => `${value}%` } } },
      },
    });
  }

  const volumeCanvas = document.getElementById("volume-chart");
  if (volumeCanvas) {
    const datasets = [
      { type: dense ? "line" : "bar", label: text.offered, data: timeline.offered, backgroundColor: "rgba(10,88,202,.35)", borderColor: blue, borderWidth: 1, pointRadius: 0, fill: dense },
      { type: dense ? "line" : "bar", label: text.answered, data: timeline.answered, backgroundColor: "rgba(25,135,84,.55)", borderColor: green, borderWidth: 1, pointRadius: 0 },
      { type: "line", label: text.abandoned, data: timeline.abandoned, borderColor: red, backgroundColor: red, pointRadius: dense ? 0 : 2, tension: 0.2 },
    ];
    if (previous) {
      datasets.push({ type: "line", label: `${text.previous} · ${text.offered}`, data: alongside(previous.offered), borderColor: grey, borderDash: [2, 3], pointRadius: 0 });
    }
    new Chart(volumeCanvas, {
      data: { labels: timeline.labels, datasets },
      options: {
        responsive: true,
        maintainAspectRatio: false,
        interaction: { mode: "index", intersect: false },
        plugins: { tooltip },
        scales: { y: { beginAtZero: true, ticks: { precision: 0 } } },
      },
    });
  }

  const categoryCanvas = document.getElementById("category-chart");
  if (categoryCanvas && data.categories.labels.length) {
    new Chart(categoryCanvas, {
      type: "bar",
      data: {
        labels: data.categories.labels,
        datasets: [
          { label: text.contacts, data: data.categories.contacts, backgroundColor: "rgba(10,88,202,.6)" },
          { label: text.tickets, data: data.categories.tickets, backgroundColor: "rgba(255,193,7,.75)" },
        ],
      },
      options: {
        indexAxis: "y",
        responsive: true,
        maintainAspectRatio: false,
        interaction: { mode: "index", intersect: false },
        scales: { x: { beginAtZero: true, ticks: { precision: 0 } } },
      },
    });
  }
})();
