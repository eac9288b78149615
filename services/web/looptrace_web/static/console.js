// LoopTrace console: live order page (EventSource) and the supplier's stage card
// (optimistic update, rolled back with the server's reason when refused). No libraries.
"use strict";

function csrfToken() {
  const meta = document.querySelector('meta[name="csrf-token"]');
  return meta ? meta.content : "";
}

function bindProgressForms(root) {
  root.querySelectorAll("form.progress-form").forEach(function (form) {
    form.addEventListener("submit", async function (ev) {
      ev.preventDefault();
      const card = form.closest(".stage");
      const pct = card.querySelector(".pct");
      const bar = card.querySelector("progress");
      const status = form.querySelector(".form-status");
      const input = form.querySelector('input[name="percentage"]');
      const notes = form.querySelector('input[name="notes"]');
      const before = { text: pct.textContent, value: bar.value };
      const wanted = Number(input.value);
      pct.textContent = String(wanted);            // optimistic: shown at once
      bar.value = wanted;
      card.classList.add("pending");
      status.className = "form-status";
      status.textContent = "Saving…";
      let answer = null, ok = false;
      try {
        const r = await fetch(form.action, {
          method: "POST",
          headers: { "Content-Type": "application/json", "Accept": "application/json",
                     "X-CSRF-Token": csrfToken() },
          body: JSON.stringify({ percentage: wanted, notes: notes ? notes.value : "" }),
          credentials: "same-origin",
        });
        answer = await r.json().catch(function () { return {}; });
        ok = r.ok;
      } catch (err) {
        answer = { detail: "the console did not answer: " + err };
      }
      card.classList.remove("pending");
      if (ok) {
        status.textContent = "Saved.";
        if (notes) notes.value = "";
      } else {                                     // refused: roll back, say why
        pct.textContent = before.text;
        bar.value = before.value;
        input.value = before.text;
        status.className = "form-status refused";
        status.setAttribute("role", "alert");
        status.textContent = "Refused: " + ((answer && answer.detail) || "unknown reason");
      }
    });
  });
}

function sendReadReceipts(body) {
  const id = body.dataset.order;
  body.querySelectorAll("li[data-unread]").forEach(function (li) {
    li.removeAttribute("data-unread");
    fetch("/orders/" + encodeURIComponent(id) + "/messages/" + encodeURIComponent(li.dataset.message) + "/read",
          { method: "POST", headers: { "X-CSRF-Token": csrfToken(), "Accept": "application/json" },
            credentials: "same-origin" });
  });
}

function keptStatuses(root) {
  const said = {};
  root.querySelectorAll(".form-status[data-testid]").forEach(function (p) {
    if (p.textContent) said[p.dataset.testid] = { text: p.textContent, cls: p.className, role: p.getAttribute("role") };
  });
  return said;
}

function restoreStatuses(root, said) {
  root.querySelectorAll(".form-status[data-testid]").forEach(function (p) {
    const was = said[p.dataset.testid];
    if (!was) return;
    p.textContent = was.text;
    p.className = was.cls;
    if (was.role) p.setAttribute("role", was.role);
  });
}

function liveOrder(body) {
  const state = document.querySelector(".live");
  const id = body.dataset.order;
  const source = new EventSource("/orders/" + encodeURIComponent(id) + "/live");
  source.addEventListener("open", function () { state.textContent = "live"; state.dataset.state = "live"; });
  source.addEventListener("error", function () { state.textContent = "reconnecting…"; state.dataset.state = "down"; });
  source.addEventListener("notification", function (ev) {
    const toast = document.querySelector(".toast");
    const note = JSON.parse(ev.data);
    if (toast) toast.textContent = "New: " + (note.subject || note.type);
  });
  let again = null;
  function later() {  // one retry at a time
    if (!again) again = setTimeout(function () { again = null; refresh(); }, 500);
  }
  async function refresh() {
    if (busy(body)) { later(); return; }  // not while the user is typing or a report is in flight
    const r = await fetch("/orders/" + encodeURIComponent(id) + "/panel", { credentials: "same-origin" });
    if (!r.ok) return;
    const html = await r.text();
    if (busy(body)) { later(); return; }  // the user began while the panel was on its way
    const said = keptStatuses(body);   // a refusal's reason must outlive the refresh after it
    const typed = keptInputs(body);    // and what was typed but not sent yet
    body.innerHTML = html;
    restoreStatuses(body, said);
    restoreInputs(body, typed);
    bindProgressForms(body);
    sendReadReceipts(body);
    state.textContent = "live · updated " + new Date().toLocaleTimeString();
    body.dispatchEvent(new CustomEvent("looptrace:updated"));
  }
  source.addEventListener("changed", refresh);
}

function busy(body) {
  const el = document.activeElement;
  return Boolean(body.querySelector(".stage.pending")) ||
    (body.contains(el) && el.matches("input, textarea, select"));
}

function keptInputs(root) {
  const typed = {};
  root.querySelectorAll("input[id], textarea[id]").forEach(function (el) {
    if (el.type !== "file" && el.type !== "hidden" && el.value !== el.defaultValue) typed[el.id] = el.value;
  });
  return typed;
}

function restoreInputs(root, typed) {
  Object.keys(typed).forEach(function (id) {
    const el = root.querySelector("#" + CSS.escape(id));
    if (el) el.value = typed[id];
  });
}

document.addEventListener("DOMContentLoaded", function () {
  bindProgressForms(document);
  const body = document.getElementById("order-body");
  if (body) sendReadReceipts(body);
  if (body && window.EventSource) liveOrder(body);
});
