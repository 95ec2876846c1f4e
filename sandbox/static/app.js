// Qatysu sandbox page: chats of residents, aides and the secretary with the bot, and the operator group.
// Everything the bot sent is rendered from text + entities into DOM nodes (never via innerHTML).
"use strict";

(function () {
  const API = "/sandbox/api";
  const S = {
    lang: localStorage.getItem("sandbox-lang") || "kk",
    bot: null,
    operatorChatId: null,
    users: new Map(),
    chats: new Map(),
    messages: new Map(), // chatId -> Map(messageId -> message view)
    selected: null, // {chatId, threadId}
    sender: new Map(), // group chatId -> user id who writes
    replyTo: null,
    unread: new Map(), // "chat:thread" -> count
    pendingCallbacks: new Map(), // query id -> {timer, button}
    actions: new Map(), // chatId -> {text, until}
  };
  const $ = (id) => document.getElementById(id);

  // --- i18n -----------------------------------------------------------------------------------------
  function t(key, vars) {
    const table = window.I18N[S.lang] || window.I18N.kk;
    let text = table[key] ?? window.I18N.kk[key] ?? key;
    for (const [k, v] of Object.entries(vars || {})) text = text.replace(`{${k}}`, v);
    return text;
  }

  function applyLanguage() {
    document.documentElement.lang = S.lang;
    document.title = "Qatysu — " + t("subtitle").toLowerCase();
    document.querySelectorAll("[data-i18n]").forEach((el) => { el.textContent = t(el.dataset.i18n); });
    document.querySelectorAll("[data-i18n-placeholder]").forEach((el) => {
      el.placeholder = t(el.dataset.i18nPlaceholder);
    });
    document.querySelectorAll("[data-i18n-title]").forEach((el) => {
      el.title = t(el.dataset.i18nTitle);
      el.setAttribute("aria-label", el.title);
    });
    document.querySelectorAll(".lang-switch button").forEach((b) => {
      b.classList.toggle("active", b.dataset.lang === S.lang);
    });
    renderAll();
  }

  // --- HTTP -----------------------------------------------------------------------------------------
  async function get(path) {
    const response = await fetch(API + path);
    const body = await response.json();
    if (!body.ok) throw new Error(body.error);
    return body.result;
  }

  async function post(path, payload) {
    const response = await fetch(API + path, {
      method: "POST",
      headers: { "Content-Type": "application/json", "X-Sandbox-Control": "page" },
      body: JSON.stringify(payload || {}),
    });
    const body = await response.json();
    if (!body.ok) throw new Error(body.error);
    return body.result;
  }

  async function act(action, payload) {
    const userId = actingUserId();
    if (!userId) return null;
    try {
      return await post(`/users/${userId}/${action}`, payload);
    } catch (e) {
      toast(`${t("error")}: ${e.message}`, "error");
      return null;
    }
  }

  // --- helpers --------------------------------------------------------------------------------------
  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === undefined || v === null || v === false) continue;
      if (k === "class") node.className = v;
      else if (k === "text") node.textContent = v;
      else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
      else node.setAttribute(k, v === true ? "" : v);
    }
    for (const child of children.flat()) {
      if (child === null || child === undefined || child === false) continue;
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  }

  function fullName(u) {
    return [u.first_name, u.last_name].filter(Boolean).join(" ");
  }

  function initials(name) {
    const words = name.split(/\s+/).filter((w) => /^[\p{L}\p{N}]/u.test(w));
    return words.slice(0, 2).map((w) => [...w][0].toUpperCase()).join("") || "?";
  }

  const PALETTE = ["#e17076", "#7bc862", "#e5ca77", "#65aadd", "#a695e7", "#ee7aae", "#6ec9cb", "#faa774"];
  function colorFor(id) {
    return PALETTE[Math.abs(Number(id)) % PALETTE.length];
  }

  function avatar(name, id, extraClass) {
    return el("div", { class: "avatar " + (extraClass || ""), style: `background:${colorFor(id)}` }, initials(name));
  }

  function timeOf(unix) {
    const d = new Date(unix * 1000);
    return d.toLocaleTimeString(S.lang === "ru" ? "ru-RU" : "kk-KZ", { hour: "2-digit", minute: "2-digit" });
  }

  function safeHref(url) {
    return /^(https?:|tg:)/i.test(url || "") ? url : null;
  }

  function toast(text, kind) {
    const node = el("div", { class: "toast " + (kind || "") }, text);
    $("toasts").append(node);
    setTimeout(() => node.classList.add("gone"), kind === "alert" ? 6000 : 3500);
    setTimeout(() => node.remove(), kind === "alert" ? 6600 : 4100);
  }

  // --- entities → DOM -------------------------------------------------------------------------------
  function entityNode(e, segmentText) {
    switch (e.type) {
      case "bold": return el("strong");
      case "italic": return el("em");
      case "underline": return el("u");
      case "strikethrough": return el("s");
      case "spoiler": {
        const node = el("span", { class: "spoiler", title: "spoiler" });
        node.addEventListener("click", () => node.classList.add("revealed"));
        return node;
      }
      case "code": return el("code");
      case "pre": return el("pre", { "data-language": e.language || null });
      case "blockquote": return el("blockquote");
      case "expandable_blockquote": return el("blockquote", { class: "expandable" });
      case "text_link": {
        const href = safeHref(e.url);
        return href ? el("a", { href, target: "_blank", rel: "noopener noreferrer", title: href }) : el("span");
      }
      case "url": {
        const href = safeHref(segmentText);
        return href ? el("a", { href, target: "_blank", rel: "noopener noreferrer" }) : el("span");
      }
      case "bot_command": {
        const node = el("a", { href: "#", class: "command" });
        node.addEventListener("click", (ev) => {
          ev.preventDefault();
          sendText(node.textContent);
        });
        return node;
      }
      case "mention": case "text_mention": return el("span", { class: "mention" });
      case "hashtag": case "cashtag": return el("span", { class: "hashtag" });
      default: return el("span", { class: "entity-" + e.type });
    }
  }

  // Offsets are UTF-16 code units, exactly like JavaScript string indices.
  function renderText(text, entities) {
    const root = el("div", { class: "text" });
    const list = (entities || []).slice().sort((a, b) => a.offset - b.offset || b.length - a.length);
    const points = new Set([0, text.length]);
    for (const e of list) { points.add(e.offset); points.add(Math.min(text.length, e.offset + e.length)); }
    const bounds = [...points].sort((a, b) => a - b);
    let stack = []; // [{entity, node}]
    for (let i = 0; i + 1 < bounds.length; i++) {
      const start = bounds[i], end = bounds[i + 1];
      const active = list.filter((e) => e.offset <= start && e.offset + e.length >= end);
      let keep = 0;
      while (keep < stack.length && keep < active.length && stack[keep].entity === active[keep]) keep++;
      stack = stack.slice(0, keep);
      for (const e of active.slice(keep)) {
        const parent = stack.length ? stack[stack.length - 1].node : root;
        const whole = text.slice(e.offset, e.offset + e.length);
        const node = entityNode(e, whole);
        parent.append(node);
        stack.push({ entity: e, node });
      }
      const parent = stack.length ? stack[stack.length - 1].node : root;
      parent.append(document.createTextNode(text.slice(start, end)));
    }
    return root;
  }

  // --- chat list ------------------------------------------------------------------------------------
  function chatKey(chatId, threadId) {
    return `${chatId}:${threadId ?? ""}`;
  }

  function preview(msg) {
    if (!msg) return "";
    if (msg.deleted) return t("deleted");
    if (msg.text) return msg.text;
    if (msg.caption) return msg.caption;
    if (msg.photo) return "🖼 " + t("photo").split(" ")[0];
    if (msg.document) return "📎 " + (msg.document.file_name || "");
    if (msg.location) return "📍 " + t("geo");
    if (msg.contact) return "☎ " + msg.contact.phone_number;
    if (msg.forum_topic_created) return "# " + msg.forum_topic_created.name;
    return "…";
  }

  function listItem({ chatId, threadId, title, sub, id, badge, extra, indent }) {
    const key = chatKey(chatId, threadId);
    const selected = S.selected && chatKey(S.selected.chatId, S.selected.threadId) === key;
    const unread = S.unread.get(key) || 0;
    return el(
      "button",
      {
        type: "button",
        class: "chat-item" + (selected ? " selected" : "") + (indent ? " indent" : ""),
        "data-chat-id": chatId,
        "data-thread-id": threadId ?? "",
        onclick: () => select(chatId, threadId ?? null),
      },
      indent ? el("span", { class: "topic-dot", style: `background:${badge}` }) : avatar(title, id),
      el("span", { class: "chat-item-text" },
        el("span", { class: "chat-item-title" }, title, extra ? el("span", { class: "tag" }, extra) : null),
        sub ? el("span", { class: "chat-item-sub" }, sub) : null),
      unread ? el("span", { class: "unread" }, String(unread)) : null,
    );
  }

  function roleName(role) {
    return { resident: t("resident"), aide: t("aide"), secretary: t("secretaryRole"), admin: t("adminRole") }[role];
  }

  function section(title, items) {
    return el("div", { class: "section" }, el("div", { class: "section-title" }, title),
      items.length ? items : el("div", { class: "section-empty" }, t("noChats")));
  }

  function renderChatList() {
    const nav = $("chat-list");
    const privateItems = (role) => [...S.users.values()].filter((u) => u.role === role).map((u) => {
      const chat = S.chats.get(u.id);
      return listItem({
        chatId: u.id, id: u.id, title: fullName(u),
        sub: u.blocked ? "⛔ " + t("block") : preview(chat && chat.last_message),
        extra: (u.language_code || "").toUpperCase() || null,
      });
    });
    const group = S.chats.get(S.operatorChatId);
    const groupItems = [];
    if (group) {
      groupItems.push(listItem({
        chatId: group.id, threadId: null, id: group.id, title: group.title,
        sub: group.is_forum ? "# " + t("general") : t("members", { n: group.members.length }),
      }));
      for (const topic of group.topics || []) {
        groupItems.push(listItem({
          chatId: group.id, threadId: topic.message_thread_id, title: topic.name, indent: true,
          badge: "#" + Number(topic.icon_color).toString(16).padStart(6, "0"),
          extra: topic.closed ? "🔒 " + t("closed") : null,
        }));
      }
    }
    nav.replaceChildren(
      section(t("residents"), privateItems("resident")),
      section(t("operatorGroup"), groupItems),
      section(t("secretary"), privateItems("secretary")),
      section(t("aides"), privateItems("aide")),
      section(t("admins"), privateItems("admin")),
    );
  }

  // --- the open chat --------------------------------------------------------------------------------
  function currentChat() {
    return S.selected ? S.chats.get(S.selected.chatId) : null;
  }

  function actingUserId() {
    const chat = currentChat();
    if (!chat) return null;
    if (chat.type === "private") return chat.id;
    const chosen = S.sender.get(chat.id);
    if (chosen && chat.members.some((m) => m.id === chosen)) return chosen;
    return chat.members.length ? chat.members[0].id : null;
  }

  async function select(chatId, threadId) {
    S.selected = { chatId, threadId };
    S.replyTo = null;
    S.unread.delete(chatKey(chatId, threadId));
    S.stick = true;
    $("commands-popup").hidden = true;
    if (!S.messages.has(chatId)) await loadMessages(chatId);
    renderAll(true);
    $("text-input").focus();
  }

  async function loadMessages(chatId) {
    const list = await get(`/chats/${chatId}/messages`);
    S.messages.set(chatId, new Map(list.map((m) => [m.message_id, m])));
  }

  function visibleMessages() {
    const chat = currentChat();
    const all = [...(S.messages.get(chat.id) || new Map()).values()];
    if (chat.type === "private" || !chat.is_forum) return all;
    return all.filter((m) => (m.message_thread_id ?? null) === S.selected.threadId);
  }

  function renderHeader() {
    const chat = currentChat();
    const header = $("chat-header");
    header.hidden = !chat;
    if (!chat) return;
    let title, sub, id = chat.id;
    if (chat.type === "private") {
      const u = chat.user;
      title = fullName(u);
      const role = roleName(u.role);
      sub = [role, u.language_code ? u.language_code.toUpperCase() : null, `id ${u.id}`,
        `${t("phone")} ${u.phone}`].filter(Boolean).join(" · ");
    } else {
      const topic = (chat.topics || []).find((tp) => tp.message_thread_id === S.selected.threadId);
      title = topic ? `# ${topic.name}` : chat.title;
      sub = [topic ? chat.title : null, t("members", { n: chat.members.length }),
        topic && topic.closed ? "🔒 " + t("closed") : null].filter(Boolean).join(" · ");
    }
    const action = S.actions.get(chat.id);
    if (action && action.until > Date.now()) sub = action.text;
    $("header-avatar").replaceWith(Object.assign(avatar(title.replace(/^# /, ""), id), { id: "header-avatar" }));
    $("header-title").textContent = title;
    $("header-sub").textContent = sub;
    $("header-sub").classList.toggle("typing", Boolean(action && action.until > Date.now()));
    const block = $("block-button");
    block.hidden = chat.type !== "private";
    if (chat.type === "private") block.textContent = chat.user.blocked ? t("unblock") : t("block");
  }

  function renderMessages(forceBottom) {
    const box = $("messages");
    const chat = currentChat();
    if (!chat) { box.replaceChildren(); return; }
    const atBottom = S.stick !== false;
    const items = visibleMessages();
    const nodes = [];
    let lastDay = null;
    for (const m of items) {
      const day = new Date(m.date * 1000).toDateString();
      if (day !== lastDay) {
        lastDay = day;
        const date = new Date(m.date * 1000);
        nodes.push(el("div", { class: "day" }, `${date.getDate()} ${t("months").split(" ")[date.getMonth()]}`));
      }
      nodes.push(renderMessage(chat, m));
    }
    if (!nodes.length) nodes.push(el("div", { class: "no-messages" }, t("empty")));
    box.replaceChildren(...nodes);
    if (forceBottom || atBottom) {
      box.scrollTop = box.scrollHeight;
      S.stick = true;
    }
  }

  function serviceText(m) {
    if (m.forum_topic_created) return t("topicCreated", { name: m.forum_topic_created.name });
    if (m.forum_topic_edited) return t("topicEdited") + (m.forum_topic_edited.name ? `: ${m.forum_topic_edited.name}` : "");
    if (m.forum_topic_closed) return t("topicClosed");
    if (m.forum_topic_reopened) return t("topicReopened");
    return null;
  }

  function renderMessage(chat, m) {
    const service = serviceText(m);
    if (service) return el("div", { class: "service" }, el("span", {}, service));
    const me = !m.from_bot && m.from.id === actingUserId();
    const wrap = el("div", {
      class: "msg " + (me ? "out" : "in") + (m.from_bot ? " bot" : "") + (m.deleted ? " deleted" : ""),
      "data-message-id": m.message_id,
    });
    const bubble = el("div", { class: "bubble" });
    if (chat.type !== "private") {
      const name = m.from_bot ? `${m.from.first_name} · ${t("bot")}` : fullName(m.from);
      bubble.append(el("div", { class: "sender", style: `color:${colorFor(m.from.id)}` }, name));
    }
    if (m.forward_origin) {
      const origin = m.forward_origin.sender_user || {};
      bubble.append(el("div", { class: "forwarded" }, `${t("forwarded")} ${fullName(origin)}`));
    }
    const quote = m.reply_to_message;
    if (quote && !quote.forum_topic_created) {
      bubble.append(el("div", { class: "quote", onclick: () => scrollToMessage(quote.message_id) },
        el("div", { class: "quote-name" }, quote.from ? (quote.from.is_bot ? quote.from.first_name : fullName(quote.from)) : ""),
        el("div", { class: "quote-text" }, preview(quote))));
    }
    if (m.deleted) {
      bubble.append(el("div", { class: "text muted" }, "🗑 " + t("deleted")));
      wrap.append(bubble);
      return wrap;
    }
    if (m.photo) {
      const size = m.photo[m.photo.length - 1];
      const scale = Math.min(1, 320 / size.width, 260 / size.height);
      const img = el("img", { src: m.file_url, alt: "photo", width: Math.round(size.width * scale),
        height: Math.round(size.height * scale) });
      bubble.append(el("a", { href: m.file_url, target: "_blank", class: "photo" }, img));
    }
    if (m.document) {
      const size = m.document.file_size ? ` · ${(m.document.file_size / 1024).toFixed(1)} KB` : "";
      bubble.append(el("div", { class: "document" },
        el("div", { class: "doc-icon" }, "📄"),
        el("div", { class: "doc-body" },
          el("div", { class: "doc-name" }, m.document.file_name || "file"),
          el("a", { href: m.file_url, download: m.document.file_name || "file" }, t("download") + size))));
    }
    if (m.location) {
      bubble.append(el("div", { class: "location" }, "📍 ", el("strong", {}, t("geo")), " ",
        `${m.location.latitude.toFixed(5)}, ${m.location.longitude.toFixed(5)}`));
    }
    if (m.contact) {
      bubble.append(el("div", { class: "contact" }, "👤 ",
        el("strong", {}, fullName(m.contact)), el("br"), "☎ " + m.contact.phone_number,
        m.contact.user_id ? el("span", { class: "muted" }, ` · id ${m.contact.user_id}`) : null));
    }
    if (m.text !== undefined) bubble.append(renderText(m.text, m.entities));
    if (m.caption !== undefined) bubble.append(renderText(m.caption, m.caption_entities));
    const meta = el("div", { class: "meta" });
    if (m.reactions && m.reactions.length) meta.append(el("span", { class: "reaction" }, m.reactions.map((r) => r.emoji).join("")));
    if (m.edit_date) meta.append(el("span", { class: "edited" }, t("edited")));
    meta.append(el("span", {}, timeOf(m.date)));
    const tools = el("span", { class: "tools" },
      el("button", { type: "button", class: "link", onclick: () => startReply(m) }, t("reply")),
      me && m.text !== undefined ? el("button", { type: "button", class: "link", onclick: () => editOwn(m) }, t("edit")) : null);
    meta.prepend(tools);
    bubble.append(meta);
    wrap.append(bubble);
    if (m.reply_markup && m.reply_markup.inline_keyboard) wrap.append(renderInlineKeyboard(chat, m));
    return wrap;
  }

  function renderInlineKeyboard(chat, m) {
    const box = el("div", { class: "inline-keyboard" });
    for (const row of m.reply_markup.inline_keyboard) {
      const rowNode = el("div", { class: "ik-row" });
      for (const b of row) {
        let node;
        if (b.url) {
          const href = safeHref(b.url);
          node = el("a", { class: "ik-button link-button", href, target: "_blank", rel: "noopener noreferrer" }, b.text, " ↗");
        } else {
          node = el("button", { type: "button", class: "ik-button", "data-callback": b.callback_data ?? null }, b.text);
          if (b.callback_data !== undefined) node.addEventListener("click", () => pressButton(m, b, node));
          else node.disabled = true;
        }
        rowNode.append(node);
      }
      box.append(rowNode);
    }
    return box;
  }

  function scrollToMessage(id) {
    const node = document.querySelector(`.msg[data-message-id="${id}"]`);
    if (node) {
      node.scrollIntoView({ block: "center", behavior: "smooth" });
      node.classList.add("flash");
      setTimeout(() => node.classList.remove("flash"), 1200);
    }
  }

  function renderComposer() {
    const chat = currentChat();
    $("composer-area").hidden = !chat;
    $("messages").hidden = !chat;
    $("empty-state").hidden = Boolean(chat);
    if (!chat) return;
    const isPrivate = chat.type === "private";
    const user = isPrivate ? chat.user : null;
    const banner = $("banner");
    banner.hidden = true;
    const startButton = $("start-button");
    startButton.hidden = true;
    $("composer").hidden = false;
    if (isPrivate && user.blocked) {
      banner.hidden = false;
      banner.textContent = t("blockedBanner");
      startButton.hidden = false;
      startButton.textContent = t("restart");
      $("composer").hidden = true;
    } else if (isPrivate && !user.started) {
      startButton.hidden = false;
      startButton.textContent = t("start");
    }
    const senderRow = $("sender-row");
    senderRow.hidden = isPrivate;
    if (!isPrivate) {
      const select = $("sender-select");
      const current = actingUserId();
      select.replaceChildren(...chat.members.map((u) => el("option", { value: u.id, selected: u.id === current },
        `${fullName(u)} (${roleName(u.role)})`)));
      if (!chat.members.length) {
        banner.hidden = false;
        banner.textContent = t("noAides");
        $("composer").hidden = true;
      }
    }
    $("send-contact").hidden = !isPrivate;
    $("reply-bar").hidden = !S.replyTo;
    if (S.replyTo) $("reply-preview").textContent = preview(S.replyTo).slice(0, 80);
    renderReplyKeyboard(chat);
  }

  function renderReplyKeyboard(chat) {
    const box = $("reply-keyboard");
    const kb = chat.keyboard;
    const blocked = chat.type === "private" && chat.user.blocked;
    if (!kb || !kb.keyboard || blocked) { box.hidden = true; box.replaceChildren(); return; }
    box.hidden = false;
    box.replaceChildren(...kb.keyboard.map((row) => el("div", { class: "rk-row" }, row.map((b) => {
      const label = b.text;
      return el("button", {
        type: "button", class: "rk-button" + (b.request_contact || b.request_location ? " special" : ""),
        title: b.request_contact ? "request_contact" : b.request_location ? "request_location" : null,
        onclick: () => {
          if (b.request_contact) act("contact", { own: true });
          else if (b.request_location) act("location", defaultLocation());
          else sendText(b.text);
        },
      }, label);
    }))));
    if (kb.input_field_placeholder) $("text-input").placeholder = kb.input_field_placeholder;
  }

  function renderAll(forceBottom) {
    renderChatList();
    renderHeader();
    renderComposer();
    renderMessages(forceBottom);
    if (!currentChat() || !(currentChat().keyboard && currentChat().keyboard.input_field_placeholder)) {
      $("text-input").placeholder = t("placeholder");
    }
  }

  // --- doing things ---------------------------------------------------------------------------------
  function where() {
    const chat = currentChat();
    const payload = {};
    if (chat.type !== "private") {
      payload.chat_id = chat.id;
      if (S.selected.threadId) payload.message_thread_id = S.selected.threadId;
    }
    if (S.replyTo) payload.reply_to_message_id = S.replyTo.message_id;
    return payload;
  }

  async function sendText(text) {
    text = (text || "").trim();
    if (!text || !currentChat()) return;
    const result = await act("text", { ...where(), text });
    if (result) { S.replyTo = null; renderComposer(); }
    return result;
  }

  function startReply(m) {
    S.replyTo = m;
    renderComposer();
    $("text-input").focus();
  }

  async function editOwn(m) {
    const text = window.prompt(t("editPrompt"), m.text);
    if (text && text.trim() && text.trim() !== m.text) await act("edit", { chat_id: currentChat().id, message_id: m.message_id, text });
  }

  function defaultLocation() {
    return { latitude: 51.128207, longitude: 71.430411 };
  }

  async function pressButton(m, b, node) {
    node.classList.add("pending");
    const result = await act("press", { chat_id: currentChat().id, message_id: m.message_id, data: b.callback_data });
    if (!result) { node.classList.remove("pending"); return; }
    const id = result.callback_query_id;
    const timer = setTimeout(() => {
      S.pendingCallbacks.delete(id);
      document.querySelectorAll(".ik-button.pending").forEach((n) => n.classList.remove("pending"));
      toast(t("callbackWaiting"), "error");
    }, 15000);
    S.pendingCallbacks.set(id, { timer });
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
  let refreshTimer = null;
  function scheduleRefresh() {
    clearTimeout(refreshTimer);
    refreshTimer = setTimeout(refreshState, 60);
  }

  async function refreshState() {
    const state = await get("/state");
    S.bot = state.bot;
    S.operatorChatId = state.operator_chat_id;
    S.users = new Map(state.users.map((u) => [u.id, u]));
    S.chats = new Map(state.chats.map((c) => [c.id, c]));
    $("rate-limits").checked = state.rate_limits;
    renderAll();
  }

  function onMessageEvent(event) {
    const m = event.message;
    const cache = S.messages.get(event.chat_id);
    const isNew = !cache || !cache.has(m.message_id);
    if (cache) cache.set(m.message_id, m);
    const chat = S.chats.get(event.chat_id);
    if (chat && !m.deleted) chat.last_message = m;
    if (chat && m.from_bot && m.keyboard) {  // a reply keyboard sent, or removed, with this message
      chat.keyboard = m.keyboard.remove_keyboard ? null : m.keyboard;
    }
    if (m.from_bot) S.actions.delete(event.chat_id);
    const key = chatKey(event.chat_id, chat && chat.is_forum ? (m.message_thread_id ?? null) : null);
    const open = S.selected && chatKey(S.selected.chatId, S.selected.threadId) === key;
    if (isNew && !open && m.from_bot && !m.service) S.unread.set(key, (S.unread.get(key) || 0) + 1);
    if (!m.from_bot && chat && chat.type === "private" && chat.user && !chat.user.started) scheduleRefresh();
    renderChatList();
    if (S.selected && S.selected.chatId === event.chat_id) {
      renderHeader();
      renderMessages(!m.from_bot || isNew);
      if (chat) renderReplyKeyboard(chat);
    }
  }

  function onEvent(event) {
    switch (event.type) {
      case "message": onMessageEvent(event); break;
      case "chats": case "commands": scheduleRefresh(); break;
      case "action": {
        const text = event.action === "typing" ? t("typing") : t("busy");
        S.actions.set(event.chat_id, { text, until: Date.now() + 5000 });
        renderHeader();
        setTimeout(renderHeader, 5100);
        break;
      }
      case "callback_answer": {
        const pending = S.pendingCallbacks.get(event.id);
        if (pending) clearTimeout(pending.timer);
        S.pendingCallbacks.delete(event.id);
        document.querySelectorAll(".ik-button.pending").forEach((n) => n.classList.remove("pending"));
        if (event.text) toast(event.text, event.show_alert ? "alert" : "");
        break;
      }
      default: break;
    }
  }

  function connect() {
    const source = new EventSource(API + "/events");
    const status = (cls, key) => {
      $("conn-dot").className = "dot " + cls;
      $("conn-text").dataset.i18n = key;
      $("conn-text").textContent = t(key);
    };
    source.addEventListener("hello", async () => {
      status("on", "connected");
      const open = S.selected;
      S.messages.clear();
      await refreshState();
      if (open && S.chats.has(open.chatId)) { await loadMessages(open.chatId); renderAll(true); }
    });
    source.onmessage = (e) => onEvent(JSON.parse(e.data));
    source.onerror = () => status("off", "disconnected");
  }

  // --- wiring ---------------------------------------------------------------------------------------
  function wire() {
    $("messages").addEventListener("scroll", () => {
      const box = $("messages");
      S.stick = box.scrollHeight - box.scrollTop - box.clientHeight < 80;
    });
    document.addEventListener("click", (ev) => {
      const popup = $("commands-popup");
      if (!popup.hidden && !popup.contains(ev.target) && ev.target !== $("menu-button")) popup.hidden = true;
    });
    document.querySelectorAll(".lang-switch button").forEach((b) => b.addEventListener("click", () => {
      S.lang = b.dataset.lang;
      localStorage.setItem("sandbox-lang", S.lang);
      applyLanguage();
    }));

    $("add-person").addEventListener("submit", async (ev) => {
      ev.preventDefault();
      const form = ev.target;
      const data = Object.fromEntries(new FormData(form).entries());
      $("add-error").textContent = "";
      try {
        const user = await post("/users", data);
        form.reset();
        await refreshState();
        await select(user.id, null);
      } catch (e) {
        $("add-error").textContent = e.message;
      }
    });

    $("composer").addEventListener("submit", async (ev) => {
      ev.preventDefault();
      const input = $("text-input");
      const text = input.value;
      if (!text.trim()) return;
      input.value = "";
      autoGrow();
      const ok = await sendText(text);
      if (!ok) input.value = text;
    });

    const input = $("text-input");
    const autoGrow = () => { input.style.height = "auto"; input.style.height = Math.min(input.scrollHeight, 160) + "px"; };
    input.addEventListener("input", autoGrow);
    input.addEventListener("keydown", (ev) => {
      if (ev.key === "Enter" && !ev.shiftKey) {
        ev.preventDefault();
        $("composer").requestSubmit();
      }
    });

    $("start-button").addEventListener("click", async () => {
      const chat = currentChat();
      if (chat.type === "private" && chat.user.blocked) await act("unblock");
      await sendText("/start");
    });

    $("block-button").addEventListener("click", async () => {
      const chat = currentChat();
      await act(chat.user.blocked ? "unblock" : "block");
    });

    $("reply-cancel").addEventListener("click", () => { S.replyTo = null; renderComposer(); });
    $("sender-select").addEventListener("change", (ev) => {
      S.sender.set(currentChat().id, Number(ev.target.value));
      renderMessages();
      renderComposer();
    });

    $("attach-photo").addEventListener("click", () => $("photo-input").click());
    $("attach-doc").addEventListener("click", () => $("doc-input").click());
    $("photo-input").addEventListener("change", async (ev) => {
      const file = ev.target.files[0];
      ev.target.value = "";
      if (!file) return;
      const caption = $("text-input").value;
      $("text-input").value = "";
      await act("photo", { ...where(), data_base64: await readFile(file), caption });
    });
    $("doc-input").addEventListener("change", async (ev) => {
      const file = ev.target.files[0];
      ev.target.value = "";
      if (!file) return;
      const caption = $("text-input").value;
      $("text-input").value = "";
      await act("document", { ...where(), data_base64: await readFile(file), file_name: file.name,
        mime_type: file.type || null, caption });
    });
    $("send-location").addEventListener("click", async () => {
      const answer = window.prompt(t("locationPrompt"), "51.128207, 71.430411");
      if (!answer) return;
      const [latitude, longitude] = answer.split(/[,;\s]+/).filter(Boolean).map(Number);
      await act("location", { ...where(), latitude, longitude });
    });
    $("send-contact").addEventListener("click", () => act("contact", { own: true }));

    $("menu-button").addEventListener("click", async () => {
      const popup = $("commands-popup");
      if (!popup.hidden) { popup.hidden = true; return; }
      const chat = currentChat();
      const userId = actingUserId();
      const commands = await get(`/chats/${chat.id}/menu` + (userId ? `?user_id=${userId}` : ""));
      popup.replaceChildren(...(commands.length ? commands.map((c) => el("button", {
        type: "button", class: "command-item",
        onclick: () => { popup.hidden = true; sendText("/" + c.command); },
      }, el("span", { class: "command-name" }, "/" + c.command), el("span", { class: "command-desc" }, c.description)))
        : [el("div", { class: "command-empty" }, t("noCommands"))]));
      popup.hidden = false;
    });

    $("rate-limits").addEventListener("change", (ev) => post("/rate_limits", { enabled: ev.target.checked }));
  }

  document.addEventListener("DOMContentLoaded", () => {
    wire();
    applyLanguage();
    connect();
  });
})();
