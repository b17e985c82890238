// Agent console: offers (a contact routed to me, with a countdown to accept or decline).
(function (C) {
  "use strict";
  if (!C.root) return;
  const { t, offers } = C;
  const offersBox = document.getElementById("offers");

  class Offer {
    constructor(data, live) {
      this.data = data;
      this.received = Date.now();
      const remaining = Date.parse(data.expires_at) - Date.now();
      const timeout = (data.timeout_seconds || C.cfg.offerTimeout) * 1000;
      // A live offer has just been made: count down from its timeout (immune to clock skew);
      // one listed in hello may be half gone, so use expires_at, within the timeout.
      const left = live || Number.isNaN(remaining) ? timeout : Math.max(0, Math.min(timeout, remaining));
      this.deadline = this.received + left;
      this.timeout = timeout;
      this.node = C.clone("tpl-offer");
      C.suffixIds(this.node, `o${data.id}`);
      this.fill(data);
      this.bind(data);
      this.tick();
    }

    fill(data) {
      const q = (sel) => this.node.querySelector(sel);
      const citizen = data.citizen;
      q(".js-channel").textContent = C.channelLabel(data);
      q(".js-queue").textContent = data.queue_name || "–";
      q(".js-name").textContent = citizen && citizen.name ? citizen.name : t("unknownCitizen");
      q(".js-phone").textContent = citizen && citizen.masked_phone ? citizen.masked_phone : "";
      q(".js-assist").hidden = !(citizen && citizen.needs_assistance);
      if (data.language && data.language !== "ko") {
        q(".js-language").hidden = false;
        q(".js-language").textContent = C.LANGUAGE[data.language] || data.language;
      }
    }

    bind(data) {
      this.acceptBtn = this.node.querySelector(".js-accept");
      this.declineBtn = this.node.querySelector(".js-decline");
      this.acceptBtn.addEventListener("click", () => {
        C.unlockAudio();
        this.setBusy(true);
        C.acceptedContacts.add(data.contact_id);
        if (!C.send({ type: "offer.accept", offer_id: data.id })) this.setBusy(false);
      });
      this.declineBtn.addEventListener("click", () => {
        this.setBusy(true);
        if (!C.send({ type: "offer.decline", offer_id: data.id })) this.setBusy(false);
      });
    }

    setBusy(busy) {
      this.acceptBtn.disabled = busy;
      this.declineBtn.disabled = busy;
    }

    tick() {
      const left = Math.max(0, (this.deadline - Date.now()) / 1000);
      const q = (sel) => this.node.querySelector(sel);
      q(".js-countdown").textContent = t("secondsLeft", { seconds: Math.ceil(left) });
      q(".js-progress").style.width = `${Math.min(100, (left * 1000 / this.timeout) * 100)}%`;
      q(".js-waited").textContent = C.mmss((this.data.waited_seconds || 0) + (Date.now() - this.received) / 1000);
      this.node.classList.toggle("is-urgent", left <= 5);
    }
  }

  C.addOffer = function addOffer(data, fresh, live) {
    if (!data || offers.has(data.id)) return;
    const offer = new Offer(data, live);
    offers.set(data.id, offer);
    offersBox.append(offer.node);
    if (fresh) {
      C.beep();
      const citizen = data.citizen;
      let text = t("offerAnnounce", {
        channel: C.channelLabel(data),
        queue: data.queue_name || "",
        name: citizen && citizen.name ? citizen.name : t("unknownCitizen"),
      });
      if (citizen && citizen.needs_assistance) text += ` ${t("offerAssist")}`;
      C.announce(text, true);
    }
    C.updateTitle();
  };

  C.removeOffer = function removeOffer(id, reason) {
    const offer = offers.get(id);
    if (!offer) return;
    offers.delete(id);
    const hadFocus = offer.node.contains(document.activeElement);
    offer.node.remove();
    if (reason && reason !== "accepted" && reason !== "gone" && reason !== "declined") C.announce(t("offerGone"));
    if (hadFocus) C.focusWorkspace();
    C.updateTitle();
  };

  window.setInterval(() => { for (const offer of offers.values()) offer.tick(); }, 250);
})(window.Open120Console = window.Open120Console || {});
