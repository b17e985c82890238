// Agent console: the transfer dialog (to an agent or a queue that serves the channel).
(function (C) {
  "use strict";
  if (!C.root) return;
  const { t, el } = C;

  const transferEl = document.getElementById("transfer-modal");
  const transferModal = window.bootstrap ? window.bootstrap.Modal.getOrCreateInstance(transferEl) : null;
  const transferForm = document.getElementById("transfer-form");
  const transferAgents = document.getElementById("transfer-agents");
  const transferQueues = document.getElementById("transfer-queues");
  const transferNote = document.getElementById("transfer-note");
  const transferError = document.getElementById("transfer-error");
  const transferLoading = transferEl.querySelector(".js-transfer-loading");
  let transferTab = null;

  function option(kind, item, label, extra) {
    const id = `transfer-${kind}-${item.id}`;
    return el("div", { class: "form-check" },
      el("input", { class: "form-check-input", type: "radio", name: "transfer-target", id, value: `${kind}:${item.id}` }),
      el("label", { class: "form-check-label", for: id }, label, extra || null));
  }

  function presenceBadge(agent) {
    return el("span", {
      class: `badge rounded-pill presence-badge presence-${agent.presence} ms-2`,
      text: C.PRESENCE[agent.presence] || agent.presence,
    });
  }

  function showTargets(tab, data) {
    for (const agent of data.agents || []) {
      transferAgents.append(option("agent", agent, agent.name, presenceBadge(agent)));
    }
    if (!transferAgents.children.length) transferAgents.append(el("p", { class: "small text-body-secondary mb-0", text: t("transferNoAgents") }));
    const channel = tab.contact.channel;
    const queues = (data.queues || []).filter((q) => !q.channels || q.channels.includes(channel));
    for (const queue of queues) transferQueues.append(option("queue", queue, queue.name));
    if (!queues.length) transferQueues.append(el("p", { class: "small text-body-secondary mb-0", text: t("transferNoQueues") }));
  }

  C.openTransfer = async function openTransfer(tab) {
    // A call moves with its conference (softphone.js), not as a chat does.
    if (tab.contact.channel === "voice" && C.openCallTransfer) return C.openCallTransfer(tab);
    if (!transferModal) return;
    transferTab = tab;
    transferAgents.textContent = "";
    transferQueues.textContent = "";
    transferNote.value = "";
    transferError.textContent = "";
    transferLoading.hidden = false;
    transferEl.querySelector(".js-transfer-who").textContent = t("transferWho", { name: tab.name });
    transferModal.show();
    try {
      const response = await fetch(C.cfg.transferTargetsUrl, { credentials: "same-origin" });
      if (!response.ok) throw new Error(String(response.status));
      const data = await response.json();
      if (transferTab === tab) showTargets(tab, data);
    } catch (e) {
      transferError.textContent = t("transferFailed");
    } finally {
      transferLoading.hidden = true;
    }
  };

  // The tab is going away: its dialog goes too.
  C.closeTransferFor = function closeTransferFor(tab) {
    if (transferTab === tab && transferModal) transferModal.hide();
  };

  if (transferForm) {
    transferForm.addEventListener("submit", (event) => {
      event.preventDefault();
      const chosen = transferForm.querySelector("input[name=transfer-target]:checked");
      if (!chosen || !transferTab) {
        transferError.textContent = t("transferChoose");
        return;
      }
      const [kind, id] = chosen.value.split(":");
      const frame = { type: "contact.transfer", contact_id: transferTab.id, note: transferNote.value.trim() };
      frame[kind === "agent" ? "to_agent_id" : "to_queue_id"] = Number(id);
      if (C.send(frame)) transferModal.hide();
    });
    transferEl.addEventListener("hidden.bs.modal", () => {
      const tab = transferTab;
      transferTab = null;
      if (tab && C.tabs.has(tab.id)) tab.els.transfer.focus();
    });
  }
})(window.Open120Console = window.Open120Console || {});
