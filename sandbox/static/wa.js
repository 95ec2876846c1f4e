// Qatysu sandbox page, WhatsApp part: people who write to the akimat's WhatsApp number, each in a chat that
// looks like WhatsApp (reply buttons under the bubble, lists opening as a sheet, templates marked as such).
// Everything the bot sent is put into the DOM as text nodes (never innerHTML).
"use strict";

(function () {
  const API = "/sandbox/api/wa";
  const W = { users: new Map(), messages: new Map(), selected: null, typing: new Map() };
  const $ = (id) => document.getElementById(id);
  const T = {
    kk: {
      whatsapp: "WhatsApp", add: "Қосу", name: "Аты", none: "Әзірге ешкім жоқ", windowOpen: "терезе ашық, {h} сағ қалды",
      windowClosed: "24 сағаттық терезе жабық — тек үлгі хабарлар", age: "Терезені жабу (25 сағ)", unreachable: "Қолжетімсіз",
      reachable: "Қолжетімді ету", placeholder: "Хабарлама", template: "Үлгі хабар", sendLocation: "Геолокация жіберу",
      send: "Жіберу", voice: "Дауыстық хабар", failed: "Жеткізілмеді", photo: "Фото", document: "Құжат", location: "Геолокация",
      typing: "жазып жатыр…", choose: "Таңдаңыз", error: "Қате",
    },
    ru: {
      whatsapp: "WhatsApp", add: "Добавить", name: "Имя", none: "Пока никого", windowOpen: "окно открыто, осталось {h} ч",
      windowClosed: "24-часовое окно закрыто — только шаблоны", age: "Закрыть окно (25 ч)", unreachable: "Недоступен",
      reachable: "Сделать доступным", placeholder: "Сообщение", template: "Шаблон", sendLocation: "Отправить геолокацию",
      send: "Отправить", voice: "Голосовое сообщение", failed: "Не доставлено", photo: "Фото", document: "Документ",
      location: "Геолокация", typing: "печатает…", choose: "Выберите", error: "Ошибка",
    },
  };
  const lang = () => (localStorage.getItem("sandbox-lang") === "ru" ? "ru" : "kk");
  const t = (key, vars) => {
    let text = T[lang()][key] ?? key;
    for (const [k, v] of Object.entries(vars || {})) text = text.replace(`{${k}}`, v);
    return text;
  };

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === undefined || v === null || v === false) continue;
      if (k === "class") node.className = v;
      else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
      else node.setAttribute(k, v === true ? "" : v);
    }
    for (const child of children.flat()) {
      if (child === null || child === undefined || child === false) continue;
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  }

  async function call(method, path, payload) {
    const init = { method, headers: { "X-Sandbox-Control": "page" } };
    if (payload !== undefined) {
      init.headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(payload);
    }
    const body = await (await fetch(API + path, init)).json();
    if (!body.ok) throw new Error(body.error);
    return body.result;
  }

  async function act(action, payload) {
    if (!W.selected) return null;
    try {
      return await call("POST", `/users/${W.selected}/${action}`, payload || {});
    } catch (e) {
      toast(`${t("error")}: ${e.message}`);
      return null;
    }
  }

  function toast(text) {
    const node = el("div", { class: "toast error" }, text);
    $("toasts").append(node);
    setTimeout(() => node.remove(), 4000);
  }

  const hhmm = (unix) => new Date(unix * 1000).toLocaleTimeString(lang() === "ru" ? "ru-RU" : "kk-KZ",
    { hour: "2-digit", minute: "2-digit" });

  // WhatsApp formatting: *bold*, _italic_, ~strike~, ```mono``` → nodes.
  function formatted(text) {
    const out = [];
    const re = /```([\s\S]+?)```|\*([^*\n]+)\*|_([^_\n]+)_|~([^~\n]+)~/g;
    let last = 0;
    let m;
    while ((m = re.exec(text))) {
      if (m.index > last) out.push(text.slice(last, m.index));
      if (m[1] !== undefined) out.push(el("code", {}, m[1]));
      else if (m[2] !== undefined) out.push(el("strong", {}, m[2]));
      else if (m[3] !== undefined) out.push(el("em", {}, m[3]));
      else out.push(el("s", {}, m[4]));
      last = re.lastIndex;
    }
    if (last < text.length) out.push(text.slice(last));
    return out;
  }

  // --- the list of WhatsApp people ------------------------------------------------------------------
  function preview(m) {
    if (!m) return "";
    const c = m[m.type] || {};
    if (m.type === "text") return c.body.replace(/[*_~]/g, "");
    if (m.type === "interactive") return (c.body && c.body.text.replace(/[*_~]/g, "")) || (c.button_reply || c.list_reply || {}).title || "";
    if (m.type === "template") return "▤ " + (m.rendered || c.name);
    if (m.type === "image") return "🖼 " + (c.caption || t("photo"));
    if (m.type === "document") return "📄 " + (c.filename || t("document"));
    if (m.type === "audio") return "🎤 " + t("voice");
    if (m.type === "location") return "📍 " + t("location");
    if (m.type === "button") return c.text;
    return m.type;
  }

  function renderList() {
    const items = [...W.users.values()].map((u) => {
      const msgs = W.messages.get(u.wa_id) || [];
      return el("button", {
        type: "button", class: "chat-item wa-item" + (W.selected === u.wa_id ? " selected" : ""),
        "data-wa-id": u.wa_id, onclick: () => select(u.wa_id),
      },
      el("div", { class: "avatar wa-avatar" }, [...u.name][0].toUpperCase()),
      el("span", { class: "chat-item-text" },
        el("span", { class: "chat-item-title" }, u.name, el("span", { class: "tag" }, u.language.toUpperCase()),
          u.window_open ? null : el("span", { class: "tag wa-closed", title: t("windowClosed") }, "24h")),
        el("span", { class: "chat-item-sub" }, u.unreachable ? "⛔ " + t("unreachable") : preview(msgs[msgs.length - 1]) || "+" + u.wa_id)));
    });
    $("wa-people").replaceChildren(...(items.length ? items : [el("div", { class: "section-empty" }, t("none"))]));
    $("wa-add-name").placeholder = t("name");
    $("wa-add-button").textContent = t("add");
  }

  // --- the open chat --------------------------------------------------------------------------------
  async function select(waId) {
    W.selected = waId;
    $("chat").hidden = true;
    $("wa-chat").hidden = false;
    document.querySelectorAll("#chat-list .chat-item.selected").forEach((n) => n.classList.remove("selected"));
    W.messages.set(waId, await call("GET", `/users/${waId}/messages`));
    renderList();
    renderChat(true);
    $("wa-text").focus();
  }

  function renderHeader() {
    const u = W.users.get(W.selected);
    if (!u) return;
    $("wa-title").textContent = u.name;
    $("wa-avatar").textContent = [...u.name][0].toUpperCase();
    const typing = (W.typing.get(u.wa_id) || 0) > Date.now();
    $("wa-sub").textContent = typing ? t("typing")
      : `+${u.wa_id} · ` + (u.window_open ? t("windowOpen", { h: Math.max(0, Math.floor((u.window_closes - Date.now() / 1000) / 3600)) }) : t("windowClosed"));
    $("wa-sub").classList.toggle("closed", !u.window_open && !typing);
    $("wa-age").textContent = t("age");
    $("wa-unreachable").textContent = u.unreachable ? t("reachable") : t("unreachable");
    $("wa-text").placeholder = t("placeholder");
  }

  function ticks(m) {
    if (m.from_bot) return null;
    return el("span", { class: "wa-ticks" + (m.status === "read" ? " read" : "") }, "✓✓");
  }

  function media(m, c) {
    if (m.type === "image") {
      return m.file_url ? el("img", { class: "wa-img", src: m.file_url, alt: c.caption || "image" })
        : el("div", { class: "wa-file" }, "🖼 ", c.link || "");
    }
    if (m.type === "document") {
      return el("a", { class: "wa-file", href: m.file_url || null, download: c.filename || "file" },
        el("span", { class: "wa-doc-icon" }, "PDF"), c.filename || c.link || t("document"));
    }
    if (m.type === "audio") return el("div", { class: "wa-voice" }, el("span", { class: "wa-play" }, "▶"), el("span", { class: "wa-wave" }), "0:03");
    if (m.type === "location") {
      return el("a", { class: "wa-map", target: "_blank", rel: "noopener noreferrer",
        href: `https://www.openstreetmap.org/?mlat=${c.latitude}&mlon=${c.longitude}#map=16/${c.latitude}/${c.longitude}` },
      el("span", { class: "wa-pin" }), c.name || `${Number(c.latitude).toFixed(5)}, ${Number(c.longitude).toFixed(5)}`);
    }
    return null;
  }

  function bubbleContent(m) {
    const c = m[m.type] || {};
    const parts = [];
    if (m.context) {
      const quoted = (W.messages.get(m.wa_id) || []).find((q) => q.id === m.context.id);
      if (quoted) parts.push(el("div", { class: "wa-quote" }, preview(quoted)));
    }
    if (m.type === "text") parts.push(el("div", { class: "wa-text" }, formatted(c.body)));
    else if (m.type === "button") parts.push(el("div", { class: "wa-text" }, c.text));
    else if (m.type === "template") {
      parts.push(el("div", { class: "wa-template-tag" }, "▤ " + t("template") + " · " + c.name + " · " + c.language.code));
      parts.push(el("div", { class: "wa-text" }, formatted(m.rendered || "")));
    } else if (m.type === "interactive") {
      if (c.type === "button_reply" || c.type === "list_reply") {
        const r = c[c.type];
        parts.push(el("div", { class: "wa-text" }, r.title), r.description ? el("div", { class: "wa-desc" }, r.description) : null);
      } else {
        const h = c.header;
        if (h && h.type === "text") parts.push(el("div", { class: "wa-header" }, h.text));
        else if (h) parts.push(media({ type: h.type, file_url: h[h.type].id ? `/sandbox/wa-files/${h[h.type].id}` : null }, h[h.type]));
        parts.push(el("div", { class: "wa-text" }, formatted(c.body.text)));
        if (c.footer) parts.push(el("div", { class: "wa-footer" }, c.footer.text));
      }
    } else {
      const node = media(m, c);
      if (node) parts.push(node);
      if (c.caption) parts.push(el("div", { class: "wa-text" }, formatted(c.caption)));
    }
    return parts;
  }

  function actions(m) {
    const c = m[m.type] || {};
    if (m.type === "template" && m.template_buttons && m.status !== "failed") {
      return el("div", { class: "wa-buttons" }, m.template_buttons.map((b, index) => el("button", {
        type: "button", class: "wa-reply", onclick: () => act("template_button", { message_id: m.id, index }),
      }, "↩ ", b.text)));
    }
    if (m.type !== "interactive" || !m.from_bot || m.status === "failed") return null;
    if (c.type === "button") {
      return el("div", { class: "wa-buttons" }, c.action.buttons.map((b) => el("button", {
        type: "button", class: "wa-reply", onclick: () => act("press", { message_id: m.id, button_id: b.reply.id }),
      }, "↩ ", b.reply.title)));
    }
    if (c.type === "list") {
      return el("div", { class: "wa-buttons" }, el("button", { type: "button", class: "wa-reply wa-list-open",
        onclick: () => openSheet(m) }, "☰ ", c.action.button));
    }
    if (c.type === "location_request_message") {
      return el("div", { class: "wa-buttons" }, el("button", { type: "button", class: "wa-reply", onclick: sendLocation }, "📍 ", t("sendLocation")));
    }
    if (c.type === "cta_url") {
      return el("div", { class: "wa-buttons" }, el("a", { class: "wa-reply", target: "_blank", rel: "noopener noreferrer",
        href: /^https?:/.test(c.action.parameters.url) ? c.action.parameters.url : null }, "↗ ", c.action.parameters.display_text));
    }
    return null;
  }

  function renderMessage(m) {
    if (m.type === "reaction") return null;
    const reactions = Object.values(m.reactions || {}).filter(Boolean);
    return el("div", { class: "wa-msg " + (m.from_bot ? "in" : "out") + (m.status === "failed" ? " failed" : ""), "data-id": m.id },
      el("div", { class: "wa-bubble" + (m.type === "template" ? " template" : "") }, bubbleContent(m),
        el("div", { class: "wa-meta" }, m.status === "failed" ? `⚠ ${t("failed")} (${(m.errors || [{}])[0].code}) ` : null, hhmm(m.timestamp), ticks(m)),
        reactions.length ? el("div", { class: "wa-reactions" }, reactions.join(" ")) : null),
      actions(m));
  }

  function renderChat(toBottom) {
    if (!W.selected) return;
    renderHeader();
    const box = $("wa-messages");
    const stick = toBottom || box.scrollHeight - box.scrollTop - box.clientHeight < 80;
    box.replaceChildren(...(W.messages.get(W.selected) || []).map(renderMessage).filter(Boolean));
    if (stick) {
      box.scrollTop = box.scrollHeight;
      box.querySelectorAll("img").forEach((img) => img.addEventListener("load", () => { box.scrollTop = box.scrollHeight; }));
    }
  }

  // --- the list sheet -------------------------------------------------------------------------------
  function openSheet(m) {
    const c = m.interactive;
    let chosen = null;
    const send = el("button", { type: "button", class: "wa-sheet-send", disabled: true, onclick: async () => {
      closeSheet();
      await act("choose", { message_id: m.id, row_id: chosen });
    } }, t("send"));
    const rows = c.action.sections.map((s) => el("div", { class: "wa-section" },
      s.title ? el("div", { class: "wa-section-title" }, s.title) : null,
      s.rows.map((r) => el("label", { class: "wa-row" },
        el("span", { class: "wa-row-text" }, el("span", { class: "wa-row-title" }, r.title),
          r.description ? el("span", { class: "wa-row-desc" }, r.description) : null),
        el("input", { type: "radio", name: "wa-row", value: r.id, onchange: () => { chosen = r.id; send.disabled = false; } })))));
    $("wa-sheet").replaceChildren(el("div", { class: "wa-sheet-panel", role: "dialog" },
      el("div", { class: "wa-sheet-head" }, el("button", { type: "button", class: "wa-sheet-close", onclick: closeSheet }, "✕"),
        el("span", {}, c.action.button)),
      el("div", { class: "wa-sheet-rows" }, rows), send));
    $("wa-sheet").hidden = false;
  }

  function closeSheet() { $("wa-sheet").hidden = true; }

  // --- sending --------------------------------------------------------------------------------------
  async function sendLocation() {
    await act("location", { latitude: 43.238949 + Math.random() / 100, longitude: 76.889709 + Math.random() / 100 });
  }

  function readFile(file) {
    return new Promise((resolve, reject) => {
      const reader = new FileReader();
      reader.onload = () => resolve(String(reader.result));
      reader.onerror = () => reject(reader.error);
      reader.readAsDataURL(file);
    });
  }

  // --- live updates ---------------------------------------------------------------------------------
  async function refresh() {
    const state = await call("GET", "/state");
    W.users = new Map(state.users.map((u) => [u.wa_id, u]));
    for (const u of state.users) if (!W.messages.has(u.wa_id)) W.messages.set(u.wa_id, await call("GET", `/users/${u.wa_id}/messages`));
    renderList();
    renderHeader();
  }

  function onEvent(event) {
    if (event.type === "wa_message") {
      const list = W.messages.get(event.wa_id) || [];
      const i = list.findIndex((m) => m.id === event.message.id);
      if (i >= 0) list[i] = event.message; else list.push(event.message);
      W.messages.set(event.wa_id, list);
      renderList();
      if (event.wa_id === W.selected) renderChat(false);
    } else if (event.type === "wa_users") {
      refresh();
    } else if (event.type === "wa_typing") {
      W.typing.set(event.wa_id, Date.now() + 4000);
      renderHeader();
      setTimeout(renderHeader, 4100);
    }
  }

  function wire() {
    $("wa-add").addEventListener("submit", async (ev) => {
      ev.preventDefault();
      const name = $("wa-add-name").value.trim();
      if (!name) return;
      try {
        const user = await call("POST", "/users", { name, language: $("wa-add-lang").value });
        $("wa-add-name").value = "";
        W.users.set(user.wa_id, user);
        await select(user.wa_id);
      } catch (e) { toast(`${t("error")}: ${e.message}`); }
    });
    $("chat-list").addEventListener("click", () => {  // a Telegram chat was chosen
      W.selected = null;
      $("wa-chat").hidden = true;
      $("chat").hidden = false;
      renderList();
    });
    $("wa-composer").addEventListener("submit", async (ev) => {
      ev.preventDefault();
      const text = $("wa-text").value;
      if (!text.trim()) return;
      $("wa-text").value = "";
      await act("text", { text });
    });
    $("wa-text").addEventListener("keydown", (ev) => {
      if (ev.key === "Enter" && !ev.shiftKey) { ev.preventDefault(); $("wa-composer").requestSubmit(); }
    });
    $("wa-attach").addEventListener("click", () => $("wa-file").click());
    $("wa-file").addEventListener("change", async (ev) => {
      const file = ev.target.files[0];
      ev.target.value = "";
      if (!file) return;
      const data = await readFile(file);
      if (file.type.startsWith("image/")) await act("image", { data_base64: data, mime_type: file.type });
      else await act("document", { data_base64: data, filename: file.name, mime_type: file.type || "application/pdf" });
    });
    $("wa-location").addEventListener("click", sendLocation);
    $("wa-voice").addEventListener("click", () => act("voice", {}));
    $("wa-age").addEventListener("click", () => act("age", { hours: 25 }));
    $("wa-unreachable").addEventListener("click", () => {
      const u = W.users.get(W.selected);
      act("unreachable", { unreachable: !(u && u.unreachable) });
    });
    $("wa-sheet").addEventListener("click", (ev) => { if (ev.target === $("wa-sheet")) closeSheet(); });
    document.querySelectorAll(".lang-switch button").forEach((b) => b.addEventListener("click", () => {
      setTimeout(() => { renderList(); renderChat(false); }, 0);
    }));
    const source = new EventSource("/sandbox/api/events");
    source.addEventListener("hello", refresh);
    source.onmessage = (e) => onEvent(JSON.parse(e.data));
  }

  document.addEventListener("DOMContentLoaded", wire);
})();
