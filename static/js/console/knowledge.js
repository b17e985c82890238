// Agent console: knowledge articles in a contact tab — suggestions from the citizen's
// words, a search box, and "insert" into the reply and the ticket's answer given.
(function (C) {
  "use strict";
  if (!C.root) return;
  const { t, el } = C;

  // Only <mark> survives from the server's snippet HTML; everything else becomes text.
  function safeSnippet(html) {
    const doc = new DOMParser().parseFromString(`<div>${html || ""}</div>`, "text/html");
    const out = document.createDocumentFragment();
    (function walk(node, into) {
      for (const child of node.childNodes) {
        if (child.nodeType === Node.TEXT_NODE) into.append(child.textContent);
        else if (child.nodeType === Node.ELEMENT_NODE) {
          if (child.tagName === "MARK") {
            const mark = document.createElement("mark");
            walk(child, mark);
            into.append(mark);
          } else walk(child, into);
        }
      }
    })(doc.body.firstElementChild || doc.body, out);
    return out;
  }

  // The citizen's last two messages that say something ("네 감사합니다" does not): the
  // latest question with the one before it as context; else the latest as it is.
  function suggestionQuery(log) {
    const texts = [];
    for (const bubble of log.querySelectorAll(".msg-citizen .msg-bubble")) {
      const text = [...bubble.childNodes].filter((n) => n.nodeType === Node.TEXT_NODE).map((n) => n.textContent).join(" ").trim();
      if (text) texts.push(text);
    }
    const substantial = texts.filter((text) => text.replace(/\s/g, "").length >= 8);
    const picked = substantial.length ? substantial.slice(-2) : texts.slice(-1);
    return picked.join(" ").replace(/\s+/g, " ").trim().slice(-200);
  }

  Object.assign(C.ContactTab.prototype, {
    bindKnowledge() {
      const e = this.els;
      e.kbForm.addEventListener("submit", (event) => {
        event.preventDefault();
        window.clearTimeout(this.kbTimer);
        this.kbFromInput();
      });
      e.kbInput.addEventListener("input", () => {
        window.clearTimeout(this.kbTimer);
        this.kbTimer = window.setTimeout(() => this.kbFromInput(), 350);
      });
    },

    kbFromInput() {
      const query = this.els.kbInput.value.trim();
      if (query) this.kbSearch(query, false);
      else if (this.autoQuery) this.kbSearch(this.autoQuery, true);
      else {
        this.els.kbResults.textContent = "";
        this.els.kbCaption.textContent = t("kbHint");
      }
    },

    scheduleSuggestions() {
      window.clearTimeout(this.autoTimer);
      this.autoTimer = window.setTimeout(() => {
        const query = suggestionQuery(this.els.log);
        if (!query || query === this.autoQuery) return;
        this.autoQuery = query;
        if (!this.els.kbInput.value.trim()) this.kbSearch(query, true);
      }, 400);
    },

    // Pushed by the server after citizen messages (with the query it searched for); shown
    // only while the agent is not searching by hand.
    showSuggestions(results, query) {
      if (!this.els.kbInput.value.trim()) this.renderKb(results, t("kbSuggested"), { query: query || "", source: "suggestion" });
    },

    async kbSearch(query, auto) {
      const seq = ++this.kbSeq;
      const url = `${C.cfg.kbSearchUrl}?${new URLSearchParams({ q: query.slice(0, 200), limit: "5" })}`;
      try {
        const response = await fetch(url, { credentials: "same-origin" });
        const data = await response.json();
        if (seq !== this.kbSeq) return; // a newer search answered first
        if (!response.ok) throw new Error(data.error || String(response.status));
        const origin = { query: data.query || query, source: auto ? "suggestion" : "search" };
        this.renderKb(data.results || [], auto ? t("kbSuggested") : t("kbResults", { q: query }), origin);
      } catch (e) {
        if (seq === this.kbSeq) this.els.kbCaption.textContent = t("kbFailed");
      }
    },

    // origin: the query that produced the list and how ("search" typed by the agent,
    // "suggestion" from the citizen's words); sent along when an article is inserted.
    renderKb(results, caption, origin) {
      this.kbOrigin = origin || null;
      const list = this.els.kbResults;
      list.textContent = "";
      this.els.kbCaption.textContent = results.length ? caption : `${caption} — ${t("kbNone")}`;
      for (const article of results) list.append(this.articleItem(article));
    },

    articleItem(article) {
      const badges = el("span", { class: "ms-1" });
      if (article.needs_review) badges.append(el("span", { class: "badge text-bg-danger me-1", text: t("needsReview") }));
      if (article.status !== "published") badges.append(el("span", { class: "badge text-bg-secondary me-1", text: t("draft") }));
      const snippet = el("div", { class: "kb-snippet" });
      snippet.append(safeSnippet(article.snippet));
      // Why it matched, besides the highlighted words: "비슷한 말: 쓰레기 → 폐기물" and the like.
      const why = article.why || {};
      const reasons = el("div", { class: "d-flex flex-wrap gap-1 mb-1" });
      const pairs = (list) => (list || []).map((pair) => `${pair.word} → ${pair.term}`).join(", ");
      for (const [key, list] of [["kbWhySimilar", why.similar], ["kbWhyTranslated", why.translated], ["kbWhyCorrected", why.corrected]]) {
        if (list && list.length) reasons.append(el("span", { class: "badge text-bg-light border fw-normal text-wrap text-start", text: t(key, { pairs: pairs(list) }) }));
      }
      if (why.learned > 0) reasons.append(el("span", { class: "badge text-bg-info fw-normal", text: t("kbWhyLearned", { n: why.learned }) }));
      const insert = el("button", {
        type: "button", class: "btn btn-sm btn-outline-primary",
        "aria-label": t("insertLabel", { title: article.title }),
      }, el("i", { class: "bi bi-box-arrow-in-down-left", "aria-hidden": "true" }), ` ${t("insert")}`);
      insert.disabled = !article.answer;
      insert.addEventListener("click", () => this.useArticle(article));
      return el("li", {}, el("div", {}, el("span", { class: "kb-title", text: article.title }), badges), reasons.childElementCount ? reasons : null, snippet, insert);
    },

    useArticle(article) {
      const text = article.answer || "";
      // The ticket's "answer given" records what the citizen was told, in wrap-up too.
      this.fillAnswerGiven(text);
      if (!this.isWrapup() || this.els.note.checked) this.insertText(text);
      const fields = { contact_id: String(this.id) };
      if (this.kbOrigin && this.kbOrigin.query) Object.assign(fields, { query: this.kbOrigin.query.slice(0, 200), source: this.kbOrigin.source });
      C.postForm(C.urlFor(C.cfg.kbUseUrl, article.id), fields).catch(() => {});
    },

    fillAnswerGiven(text) {
      const box = this.els.panel.querySelector('textarea[name="answer"]');
      if (!box || !text || box.value.includes(text)) return;
      const current = box.value.replace(/\s+$/, "");
      box.value = current ? `${current}\n\n${text}` : text;
      box.dispatchEvent(new Event("input", { bubbles: true }));
    },
  });
})(window.Open120Console = window.Open120Console || {});
