// Quality assurance pages: the scoring sheet's running score (the same arithmetic as
// callcenter.services.qa.evaluation_score) and the agent scorecard's trend chart.
(function () {
  "use strict";
  const itemsData = document.getElementById("qa-items");
  const sheet = document.getElementById("qa-evaluate");
  const output = document.getElementById("qa-live-score");
  if (!itemsData || !sheet || !output) return;
  const items = JSON.parse(itemsData.textContent);
  const failBadge = document.getElementById("qa-live-fail");

  // Weighted mean over answered, non-N/A items; yes = 1, no = 0, scale (v - 1) / (max - 1);
  // an auto-fail item answered "no" makes it 0.
  const score = () => {
    let earned = 0;
    let weights = 0;
    for (const item of items) {
      const checked = sheet.querySelector(`input[name="item_${item.id}"]:checked`);
      if (!checked || checked.value === "na") continue;
      const value = Number(checked.value);
      if (item.auto_fail && value === 0) return { percent: 0, failed: true };
      const share = item.kind === "yes_no" ? (value ? 1 : 0) : (value - 1) / (item.max - 1);
      earned += item.weight * share;
      weights += item.weight;
    }
    return { percent: weights ? (100 * earned) / weights : null, failed: false };
  };

  const show = () => {
    const result = score();
    output.textContent = result.percent === null ? "–" : `${result.percent.toFixed(1)}%`;
    failBadge.hidden = !result.failed;
  };
  sheet.addEventListener("change", show);
  show();
})();

(function () {
  "use strict";
  const script = document.getElementById("qa-script");
  const dataNode = document.getElementById("scorecard-data");
  const canvas = document.getElementById("scorecard-chart");
  if (!script || !dataNode || !canvas || typeof Chart === "undefined") return;
  const data = JSON.parse(dataNode.textContent);
  const labels = script.dataset;
  const line = (label, values, color, axis) => ({
    label, data: values, borderColor: color, backgroundColor: color, yAxisID: axis,
    spanGaps: true, tension: 0.25,
  });
  new Chart(canvas, {
    type: "line",
    data: {
      labels: data.labels,
      datasets: [
        line(labels.qa, data.qa, "#0d6efd", "percent"),
        line(labels.csat, data.csat, "#198754", "percent"),
        line(labels.fcr, data.fcr, "#6f42c1", "percent"),
        Object.assign(line(labels.aht, data.aht, "#fd7e14", "minutes"), { borderDash: [6, 4] }),
      ],
    },
    options: {
      responsive: true,
      interaction: { mode: "index", intersect: false },
      scales: {
        percent: { type: "linear", position: "left", min: 0, max: 100, title: { display: true, text: labels.percent } },
        minutes: { type: "linear", position: "right", beginAtZero: true, grid: { drawOnChartArea: false }, title: { display: true, text: labels.minutes } },
      },
    },
  });
})();
