// The emulator's chat page. Everything the user does goes to the server, which turns it into
// the webhook event LINE would send; everything the bot sent is polled from the fake LINE.
"use strict";

(function () {
  const API = "/emulator/api";
  const POLL_MS = 700;
  const PEOPLE_MS = 3000;

  const el = (id) => document.getElementById(id);
  const messagesBox = el("messages");
  const quickBox = el("quick-replies");
  const peopleList = el("people");
  const textInput = el("text");
  const fileInput = el("file");
  const menuBar = el("menu-bar");
  const menuBox = el("rich-menu");

  // Per person: the entries seen so far, the newest number seen, whether they blocked the bot.
  const chats = new Map();
  let people = [];
  let current = null;
  let currentMenuId = null;
  let polling = false;

  function chatOf(userId) {
    if (!chats.has(userId)) chats.set(userId, { entries: [], last: 0, seen: 0, blocked: false });
    return chats.get(userId);
  }

  // ----- talking to the server ------------------------------------------------------------

  async function api(path, options) {
    const response = await fetch(API + path, options);
    let body = null;
    try {
      body = await response.json();
    } catch (_) {
      body = null;
    }
    if (!response.ok) {
      throw new Error((body && body.message) || "ระบบขัดข้อง กรุณาลองใหม่ค่ะ");
    }
    return body;
  }

  function toast(message) {
    const box = el("toast");
    box.textContent = message;
    box.hidden = false;
    clearTimeout(toast.timer);
    toast.timer = setTimeout(() => (box.hidden = true), 4000);
  }

  async function send(action) {
    if (!current) return;
    hideQuickReplies();
    try {
      await api(`/chat/${current}/send`, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify(action),
      });
    } catch (error) {
      toast(error.message);
    }
    poll();
  }

  async function upload(file) {
    if (!current || !file) return;
    hideQuickReplies();
    const form = new FormData();
    form.append("file", file, file.name);
    try {
      await api(`/chat/${current}/upload`, { method: "POST", body: form });
    } catch (error) {
      toast(error.message);
    }
    poll();
  }

  // ----- actions (buttons, quick replies, rich menu areas) --------------------------------

  function act(action) {
    if (!action || !current) return;
    switch (action.type) {
      case "message":
        send({ type: "text", text: action.text });
        break;
      case "postback":
        send({
          type: "postback",
          data: action.data,
          displayText: action.displayText || action.text || null,
          label: action.label || null,
        });
        break;
      case "uri":
        window.open(action.uri, "_blank", "noopener");
        break;
      case "datetimepicker":
        openPicker(action);
        break;
      case "camera":
      case "cameraRoll":
        fileInput.click();
        break;
      case "clipboard":
        if (navigator.clipboard) navigator.clipboard.writeText(action.clipboardText || "");
        toast("คัดลอกแล้วค่ะ");
        break;
      default:
        toast(`ตัวจำลองยังไม่รองรับปุ่มชนิด ${action.type} ค่ะ`);
    }
  }

  // LINE's picker gives "2026-08-15", "13:30" or "2026-08-15T13:30"; the input types match.
  const PICKER = {
    date: { input: "date", title: "เลือกวันที่" },
    time: { input: "time", title: "เลือกเวลา" },
    datetime: { input: "datetime-local", title: "เลือกวันและเวลา" },
  };

  function openPicker(action) {
    const mode = PICKER[action.mode] ? action.mode : "date";
    const input = el("picker-input");
    input.type = PICKER[mode].input;
    input.min = action.min || "";
    input.max = action.max || "";
    input.value = action.initial || "";
    el("picker-title").textContent = action.label || PICKER[mode].title;
    el("picker").hidden = false;
    el("picker").dataset.mode = mode;
    el("picker").action = action;
    input.focus();
  }

  function closePicker() {
    el("picker").hidden = true;
  }

  el("picker-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const input = el("picker-input");
    if (!input.checkValidity()) {
      toast("วันที่นี้อยู่นอกช่วงที่เลือกได้ค่ะ");
      return;
    }
    const mode = el("picker").dataset.mode;
    const action = el("picker").action;
    closePicker();
    send({
      type: "postback",
      data: action.data,
      params: { [mode]: input.value },
      label: action.label || null,
    });
  });
  el("picker-cancel").addEventListener("click", closePicker);

  // ----- drawing the chat -------------------------------------------------------------------

  function clock(seconds) {
    const at = new Date(seconds * 1000);
    return at.toLocaleTimeString("th-TH", { hour: "2-digit", minute: "2-digit" });
  }

  function bubbleOf(entry) {
    const message = entry.message;
    if (message.type === "text") {
      const bubble = document.createElement("div");
      bubble.className = "emu-bubble";
      bubble.textContent = message.text; // never innerHTML: users type anything
      return bubble;
    }
    if (message.type === "flex") {
      if (window.LineFlex) {
        try {
          return window.LineFlex.render(message, { onAction: act });
        } catch (error) {
          console.error(error);
        }
      }
      const alt = document.createElement("div");
      alt.className = "emu-bubble";
      alt.textContent = message.altText;
      return alt;
    }
    if (message.type === "image") {
      const image = document.createElement("img");
      image.className = "emu-image";
      image.alt = message.fileName || "รูปภาพ";
      image.src = message.id && entry.side === "user"
        ? `${API}/content/${message.id}`
        : message.previewImageUrl || message.originalContentUrl;
      return image;
    }
    if (message.type === "video" && entry.side === "bot") {
      const video = document.createElement("video");
      video.className = "emu-image";
      video.controls = true;
      video.poster = message.previewImageUrl || "";
      video.src = message.originalContentUrl;
      return video;
    }
    if (message.type === "video" || message.type === "file") {
      const link = document.createElement("a");
      link.className = "emu-bubble emu-file";
      link.href = `${API}/content/${message.id}`;
      link.target = "_blank";
      link.textContent = `${message.type === "video" ? "🎬" : "📄"} ${message.fileName}`;
      const size = document.createElement("small");
      size.textContent = ` ${(message.size / 1024).toFixed(0)} KB`;
      link.append(size);
      return link;
    }
    const other = document.createElement("div");
    other.className = "emu-bubble emu-unknown";
    other.textContent = `[ข้อความชนิด ${message.type}]`;
    return other;
  }

  function rowOf(entry) {
    const row = document.createElement("div");
    row.dataset.seq = entry.seq;
    if (entry.side === "note") {
      row.className = "emu-note";
      row.textContent = entry.message.text;
      return row;
    }
    row.className = `emu-row emu-${entry.side}`;
    if (entry.side === "bot") {
      const avatar = document.createElement("div");
      avatar.className = "emu-bot-avatar emu-small-avatar";
      avatar.setAttribute("aria-hidden", "true");
      avatar.textContent = "มชช";
      row.append(avatar);
    }
    const body = bubbleOf(entry);
    body.classList.add("emu-body");
    if (entry.how) body.title = `ส่งแบบ ${entry.how}`;
    const time = document.createElement("time");
    time.textContent = clock(entry.at);
    row.append(body, time);
    return row;
  }

  function redraw() {
    messagesBox.replaceChildren();
    if (!current) return;
    for (const entry of chatOf(current).entries) messagesBox.append(rowOf(entry));
    messagesBox.scrollTop = messagesBox.scrollHeight;
    showQuickReplies();
  }

  function append(entries) {
    const nearBottom =
      messagesBox.scrollHeight - messagesBox.scrollTop - messagesBox.clientHeight < 120;
    for (const entry of entries) messagesBox.append(rowOf(entry));
    if (nearBottom || entries.some((e) => e.side !== "bot")) {
      messagesBox.scrollTop = messagesBox.scrollHeight;
    }
    showQuickReplies();
  }

  function hideQuickReplies() {
    quickBox.hidden = true;
    quickBox.replaceChildren();
  }

  // LINE shows the quick reply of the newest message only, until the user sends something.
  function showQuickReplies() {
    hideQuickReplies();
    const entries = chatOf(current).entries;
    const last = entries[entries.length - 1];
    if (!last || last.side !== "bot" || !last.message.quickReply) return;
    for (const item of last.message.quickReply.items || []) {
      const chip = document.createElement("button");
      chip.type = "button";
      chip.className = "emu-chip";
      chip.textContent = item.action.label || item.action.text || "";
      chip.addEventListener("click", () => act(item.action));
      quickBox.append(chip);
    }
    quickBox.hidden = false;
  }

  // ----- the rich menu ----------------------------------------------------------------------

  function drawMenu(menu) {
    const id = menu ? menu.id : null;
    if (id === currentMenuId) return;
    currentMenuId = id;
    menuBox.replaceChildren();
    menuBar.hidden = menuBox.hidden = !menu;
    if (!menu) return;
    menuBar.textContent = `${menu.chatBarText} ▾`;
    const image = document.createElement("img");
    image.src = `${API}/richmenu/${menu.id}.png`;
    image.alt = "";
    menuBox.append(image);
    for (const area of menu.areas) {
      const button = document.createElement("button");
      button.type = "button";
      button.className = "emu-menu-area";
      const { x, y, width, height } = area.bounds;
      Object.assign(button.style, {
        left: `${(100 * x) / menu.size.width}%`,
        top: `${(100 * y) / menu.size.height}%`,
        width: `${(100 * width) / menu.size.width}%`,
        height: `${(100 * height) / menu.size.height}%`,
      });
      button.setAttribute("aria-label", `เมนู ${area.action.label || area.action.text || ""}`);
      button.addEventListener("click", () => act(area.action));
      menuBox.append(button);
    }
    menuBox.hidden = !menu.selected;
  }

  menuBar.addEventListener("click", () => {
    menuBox.hidden = !menuBox.hidden;
  });

  // ----- people -----------------------------------------------------------------------------

  function drawPeople(latest) {
    peopleList.replaceChildren();
    for (const person of people) {
      const item = document.createElement("li");
      const button = document.createElement("button");
      button.type = "button";
      button.className = "emu-person" + (person.user_id === current ? " emu-current" : "");
      button.dataset.userId = person.user_id;
      const name = document.createElement("strong");
      name.textContent = person.name;
      const label = document.createElement("span");
      label.textContent = person.label;
      button.append(name, label);
      if ((latest[person.user_id] || 0) > chatOf(person.user_id).seen && person.user_id !== current) {
        const dot = document.createElement("span");
        dot.className = "emu-unread";
        dot.textContent = "ใหม่";
        button.append(dot);
      }
      button.addEventListener("click", () => choose(person.user_id));
      item.append(button);
      peopleList.append(item);
    }
  }

  async function loadPeople() {
    try {
      const answer = await api("/people");
      people = answer.people;
      drawPeople(answer.latest);
      if (!current && people.length) {
        const wanted = location.hash.slice(1);
        choose(people.some((p) => p.user_id === wanted) ? wanted : people[0].user_id);
      }
    } catch (error) {
      toast(error.message);
    }
  }

  function choose(userId) {
    current = userId;
    location.hash = userId;
    const person = people.find((p) => p.user_id === userId);
    el("who").textContent = person ? `${person.name} · ${person.label}` : userId;
    currentMenuId = undefined;
    closePicker();
    drawBlocked();
    redraw();
    for (const button of peopleList.querySelectorAll(".emu-person")) {
      button.classList.toggle("emu-current", button.dataset.userId === userId);
      if (button.dataset.userId === userId) {
        const dot = button.querySelector(".emu-unread");
        if (dot) dot.remove();
      }
    }
    poll();
  }

  el("new-person").addEventListener("click", async () => {
    try {
      const person = await api("/people", { method: "POST" });
      people.push(person);
      choose(person.user_id);
      await send({ type: "follow" });
      loadPeople();
    } catch (error) {
      toast(error.message);
    }
  });

  function drawBlocked() {
    const blocked = current && chatOf(current).blocked;
    el("block").textContent = blocked ? "เลิกบล็อก" : "บล็อก";
    for (const id of ["text", "send", "file"]) el(id).disabled = Boolean(blocked);
  }

  el("block").addEventListener("click", async () => {
    if (!current) return;
    const chat = chatOf(current);
    await send(chat.blocked ? { type: "follow", unblocked: true } : { type: "unfollow" });
    chat.blocked = !chat.blocked;
    drawBlocked();
  });

  // ----- polling ----------------------------------------------------------------------------

  async function poll() {
    if (!current || polling) return;
    polling = true;
    const userId = current;
    try {
      const chat = chatOf(userId);
      const answer = await api(`/chat/${userId}?after=${chat.last}`);
      const fresh = answer.entries.filter((e) => e.seq > chat.last);
      if (fresh.length) {
        chat.entries.push(...fresh);
        chat.last = fresh[fresh.length - 1].seq;
        if (userId === current) append(fresh);
      }
      chat.seen = chat.last;
      if (userId === current) drawMenu(answer.menu);
    } catch (error) {
      toast(error.message);
    } finally {
      polling = false;
    }
  }

  el("composer").addEventListener("submit", (event) => {
    event.preventDefault();
    const text = textInput.value;
    if (!text.trim()) return;
    textInput.value = "";
    send({ type: "text", text });
  });

  fileInput.addEventListener("change", () => {
    for (const file of fileInput.files) upload(file);
    fileInput.value = "";
  });

  setInterval(poll, POLL_MS);
  setInterval(loadPeople, PEOPLE_MS);
  loadPeople();
})();
