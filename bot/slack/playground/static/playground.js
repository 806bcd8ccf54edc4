// The capdesk playground page: pick a person, read what they see, act as them.
// Everything goes through /playground/api/; the state is polled, and refreshed after each action.
"use strict";

const API = "/playground/api";
const POLL_MS = 2000;

const page = {
  who: null,        // the email of the person acted as
  place: null,      // a conversation id, or "home"
  state: null,      // the person's state, as the API last answered
  shown: "",        // the JSON last rendered, so a poll that changes nothing redraws nothing
  modalKey: "",     // which modal the dialog holds, so polling keeps what is being typed
  modalErrors: "",  // the bot's errors last shown in it, so a poll does not bring back old ones
  timezone: undefined,  // the organisation's, as the message bodies are written in it
  actions: 0,       // counts actions, so a poll that started before one does not undo it
  busy: false,
};

const $ = (id) => document.getElementById(id);

function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (key === "class") node.className = value;
    else if (key === "html") node.innerHTML = value;  // only ever given escaped mrkdwn
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value);
  }
  for (const child of children.flat()) {
    if (child !== null && child !== undefined) node.append(child);
  }
  return node;
}

// --- The API -------------------------------------------------------------------------------

async function call(method, path, body) {
  const options = { method, headers: {} };
  if (body !== undefined) {
    options.headers["Content-Type"] = "application/json";
    options.body = JSON.stringify(body);
  }
  const response = await fetch(API + path, options);
  const data = await response.json().catch(() => ({}));
  if (!response.ok) throw new Error(data.error || `HTTP ${response.status}`);
  return data;
}

function personPath(suffix = "") {
  return `/people/${encodeURIComponent(page.who)}${suffix}`;
}

async function act(action, body = {}) {
  if (page.busy) return null;
  page.busy = true;
  page.actions += 1;
  document.body.style.cursor = "wait";
  setStatus("");
  $("modal-status").textContent = "";
  try {
    const answer = await call("POST", personPath(`/${action}`), body);
    const bot = answer.bot;
    if (bot && bot.status !== 200) setStatus(`capdesk answered HTTP ${bot.status}`);
    if (bot && bot.problems.length) setStatus(`Slack would refuse this: ${bot.problems.join("; ")}`);
    // An answer to a submission replaces every error shown, as Slack's does.
    if (action === "submit") page.modalErrors = null;
    render(answer.state);
    return answer;
  } catch (error) {
    setStatus(error.message);
    if ($("modal").open) $("modal-status").textContent = error.message;
    return null;
  } finally {
    page.busy = false;
    document.body.style.cursor = "";
  }
}

async function refresh() {
  if (!page.who || page.busy) return;
  const actions = page.actions;
  try {
    const state = await call("GET", personPath());
    if (actions === page.actions && !page.busy) render(state);
  } catch (error) {
    setStatus(error.message);
  }
}

function setStatus(text, kind = "error") {
  $("status").textContent = text;
  $("status").className = kind;
}

async function runJob(job) {
  const answer = await act(job);
  if (!answer) return;
  setStatus(answer.job.text, "info");
  const admin = answer.state.conversations.find((c) => c.admin);
  if (admin) {
    page.place = admin.id;
    page.shown = "";
    page.scrollDown = true;
    render(answer.state);
  }
}

// --- mrkdwn ------------------------------------------------------------------------------

function escapeHtml(text) {
  return text.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);
}

// Slack's own escapes in message text, undone before escaping for HTML.
function unescapeSlack(text) {
  return text.replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&amp;/g, "&");
}

function styled(text) {
  return escapeHtml(unescapeSlack(text))
    .replace(/`([^`\n]+)`/g, "<code>$1</code>")
    .replace(/\*([^*\n]+)\*/g, "<b>$1</b>")
    .replace(/(^|[\s(])_([^_\n]+)_(?=$|[\s).,:;!?])/g, "$1<i>$2</i>")
    .replace(/~([^~\n]+)~/g, "<s>$1</s>")
    .replace(/\n/g, "<br>");
}

// *bold*, _italic_, ~strike~, `code`, newlines and <url|text> links; everything else escaped.
function mrkdwn(text) {
  let html = "";
  let last = 0;
  for (const match of text.matchAll(/<([^<>|]+)(?:\|([^<>]*))?>/g)) {
    html += styled(text.slice(last, match.index));
    const [target, label] = [match[1], match[2] || match[1]];
    if (/^(https?:|mailto:)/.test(target)) {
      html += `<a href="${escapeHtml(target)}" target="_blank" rel="noopener">${escapeHtml(label)}</a>`;
    } else {
      html += escapeHtml(label.replace(/^[@#!]/, ""));
    }
    last = match.index + match[0].length;
  }
  return html + styled(text.slice(last));
}

function textNode(text) {
  if (!text) return null;
  if (text.type === "mrkdwn") return el("span", { html: mrkdwn(text.text || "") });
  return el("span", {}, text.text || "");
}

// --- Block Kit ---------------------------------------------------------------------------

// `on` says where a click happens: {on: "message", channel, ts}, {on: "home"}, {on: "modal"}.
function renderBlocks(blocks, on) {
  return blocks.map((block) => renderBlock(block, on));
}

function renderBlock(block, on) {
  switch (block.type) {
    case "header":
      return el("div", { class: "block header" }, block.text ? block.text.text : "");
    case "section":
      return el("div", { class: "block section" },
        el("div", { class: "body" },
          textNode(block.text),
          block.fields ? el("div", { class: "fields" }, block.fields.map(textNode)) : null),
        block.accessory ? renderElement(block.accessory, on) : null);
    case "context":
      return el("div", { class: "block context" }, (block.elements || []).map((item) =>
        item.type === "image" ? el("img", { src: item.image_url, alt: item.alt_text || "" }) : textNode(item)));
    case "divider":
      return el("hr", { class: "block" });
    case "actions":
      return el("div", { class: "block actions" }, (block.elements || []).map((item) => renderElement(item, on)));
    case "image":
      return el("div", { class: "block" },
        block.title ? el("div", {}, block.title.text) : null,
        el("img", { class: "image", src: block.image_url, alt: block.alt_text || "" }));
    case "input":
      return renderInput(block);
    default:
      return el("div", { class: "block unknown" }, `[${block.type} block]`);
  }
}

function renderElement(element, on) {
  if (element.type === "button") {
    const style = element.style === "primary" ? "primary" : element.style === "danger" ? "danger" : "";
    return el("button", {
      type: "button",
      class: style,
      onclick: () => {
        if (element.url) window.open(element.url, "_blank", "noopener");
        const confirm = element.confirm;
        if (confirm && !window.confirm(`${confirm.title ? confirm.title.text + "\n\n" : ""}${confirm.text ? confirm.text.text : ""}`)) return;
        act("click", { ...on, action_id: element.action_id, value: element.value ?? null });
      },
    }, element.text ? element.text.text : "Button");
  }
  if (element.type === "static_select" || element.type === "overflow") {
    const select = el("select", {
      onchange: () => act("click", { ...on, action_id: element.action_id, value: select.value }),
    }, el("option", { value: "" }, element.placeholder ? element.placeholder.text : "…"),
    (element.options || []).map((option) => el("option", { value: option.value }, option.text.text)));
    return select;
  }
  if (element.type === "image") return el("img", { src: element.image_url, alt: element.alt_text || "" });
  return el("span", { class: "unknown" }, `[${element.type}]`);
}

// An input block of a modal; its value is read back by `modalValues`.
function renderInput(block) {
  const element = block.element || {};
  const id = `input-${block.block_id}`;
  let field;
  if (element.type === "plain_text_input") {
    field = el(element.multiline ? "textarea" : "input", { id });
    field.value = element.initial_value || "";
  } else if (element.type === "number_input") {
    field = el("input", { id, type: "number", step: element.is_decimal_allowed ? "any" : "1" });
    if (element.min_value !== undefined) field.min = element.min_value;
    if (element.max_value !== undefined) field.max = element.max_value;
    field.value = element.initial_value || "";
  } else if (element.type === "datepicker") {
    field = el("input", { id, type: "date" });
    field.value = element.initial_date || "";
  } else if (element.type === "static_select") {
    field = el("select", { id },
      el("option", { value: "" }, element.placeholder ? element.placeholder.text : "Choose…"),
      (element.options || []).map((option) => el("option", { value: option.value }, option.text.text)));
    field.value = element.initial_option ? element.initial_option.value : "";
  } else {
    field = el("span", { class: "unknown" }, `[${element.type} input]`);
  }
  if (element.placeholder && "placeholder" in field) field.placeholder = element.placeholder.text;
  // Slack's client checks these before it submits; the browser does the same here.
  if (element.min_length) field.minLength = element.min_length;
  if (element.max_length) field.maxLength = element.max_length;
  if ("required" in field) field.required = !block.optional;
  field.dataset.block = block.block_id;
  return el("div", { class: "input", "data-block": block.block_id },
    el("label", { for: id }, block.label ? block.label.text : "",
      block.optional ? el("span", { class: "optional" }, " (optional)") : null),
    field,
    block.hint ? el("div", { class: "hint" }, block.hint.text) : null,
    el("div", { class: "error" }));
}

// --- The page ------------------------------------------------------------------------------

function render(state) {
  const json = JSON.stringify(state);
  page.state = state;
  renderModal(state.modal);
  if (json === page.shown) return;
  page.shown = json;
  const places = state.conversations.map((c) => c.id).concat("home");
  if (!places.includes(page.place)) page.place = state.conversations[0].id;
  $("role").textContent = [state.person.label, state.person.group].filter(Boolean).join(" · ");
  $("admin-jobs").hidden = state.person.role !== "admin";
  renderSidebar(state);
  renderPlace(state);
}

function renderSidebar(state) {
  const link = (place, label, count) => el("a", {
    href: "#",
    class: place === page.place ? "current" : "",
    onclick: (event) => { event.preventDefault(); page.place = place; page.shown = ""; render(page.state); },
  }, el("span", {}, label), count ? el("span", { class: "count" }, String(count)) : null);
  const dms = state.conversations.filter((c) => c.kind === "dm");
  const channels = state.conversations.filter((c) => c.kind === "channel");
  $("sidebar").replaceChildren(
    link("home", "Home", 0),
    el("h3", {}, "Channels"),
    ...(channels.length ? channels.map((c) => link(c.id, `# ${c.name}`, c.messages.length))
      : [el("div", { class: "empty", style: "padding: 0 16px" }, "none")]),
    el("h3", {}, "Direct messages"),
    ...dms.map((c) => link(c.id, c.name, c.messages.length)));
}

function renderPlace(state) {
  const box = $("messages");
  const atBottom = box.scrollHeight - box.scrollTop - box.clientHeight < 40;
  if (page.place === "home") {
    $("title").textContent = "capdesk · Home";
    box.replaceChildren(state.home
      ? el("div", {}, renderBlocks(state.home.blocks, { on: "home" }))
      : el("div", { class: "empty" }, "The Home tab is not published yet.",
        el("p", {}, el("button", { type: "button", onclick: () => act("home") }, "Open the Home tab"))));
    return;
  }
  const conversation = state.conversations.find((c) => c.id === page.place);
  $("title").textContent = conversation.kind === "dm" ? "capdesk (direct message)" : `# ${conversation.name}`;
  box.replaceChildren(...(conversation.messages.length
    ? conversation.messages.map(renderMessage)
    : [el("div", { class: "empty" }, "No messages yet. Try /capdesk help below.")]));
  if (atBottom || page.scrollDown) {
    box.scrollTop = box.scrollHeight;
    // Charts load after the text: stay at the bottom once they have their height.
    for (const image of box.querySelectorAll("img")) {
      image.addEventListener("load", () => { box.scrollTop = box.scrollHeight; }, { once: true });
    }
  }
  page.scrollDown = false;
}

function renderMessage(message) {
  const ephemeral = message.kind === "ephemeral";
  const on = { on: message.kind, channel: message.channel, ts: message.ts };
  const at = new Date(parseFloat(message.ts) * 1000);
  const time = at.toLocaleTimeString("en-GB", { hour: "2-digit", minute: "2-digit", timeZone: page.timezone });
  const when = at.toLocaleString("en-GB", { dateStyle: "full", timeStyle: "short", timeZone: page.timezone });
  const body = message.blocks.length ? renderBlocks(message.blocks, on) : [el("div", { html: mrkdwn(message.text) })];
  return el("div", { class: ephemeral ? "message ephemeral" : "message" },
    el("div", { class: "meta" }, el("b", {}, "capdesk"), " ",
      el("time", { datetime: at.toISOString(), title: `${when} (${page.timezone})` }, time),
      message.edited ? " (edited)" : "", ephemeral ? " · only visible to you" : ""),
    body,
    message.files.length ? el("div", { class: "files" }, message.files.map((file) =>
      /\.(png|jpe?g|gif|svg)$/i.test(file.name)
        ? el("img", { src: file.url, alt: file.title })
        : el("a", { href: file.url }, file.title || file.name))) : null);
}

function renderModal(modal) {
  const dialog = $("modal");
  if (!modal) {
    page.modalKey = "";
    if (dialog.open) dialog.close();
    return;
  }
  const key = modal.id + JSON.stringify(modal.blocks);
  if (key !== page.modalKey) {
    page.modalKey = key;
    page.modalErrors = null;
    $("modal-title").textContent = modal.title;
    $("modal-blocks").replaceChildren(...renderBlocks(modal.blocks, { on: "modal" }));
    $("modal-submit").textContent = modal.submit;
    $("modal-submit").hidden = !modal.submit;
    $("modal-close").textContent = modal.close;
    $("modal-status").textContent = "";
  }
  // The bot's errors are shown when they are new: a poll repeating the last answer must not
  // bring back an error the person has since fixed, or one the browser's own check replaced.
  const errors = JSON.stringify(modal.errors);
  if (errors !== page.modalErrors) {
    page.modalErrors = errors;
    showErrors(modal.errors);
  }
  if (!dialog.open) dialog.showModal();
}

function showErrors(errors) {
  for (const input of $("modal-blocks").querySelectorAll(".input")) {
    showError(input, errors[input.dataset.block] || "");
  }
}

function showError(input, error) {
  input.classList.toggle("invalid", Boolean(error));
  input.querySelector(".error").textContent = error;
}

function modalValues() {
  const values = {};
  for (const field of $("modal-blocks").querySelectorAll("[data-block]:is(input, textarea, select)")) {
    values[field.dataset.block] = field.value === "" ? null : field.value;
  }
  return values;
}

async function choosePerson(email) {
  page.who = email;
  page.place = null;
  page.shown = "";
  page.modalKey = "";
  history.replaceState(null, "", `#${encodeURIComponent(email)}`);
  await refresh();
}

async function start() {
  const { people, start: storyteller, timezone } = await call("GET", "/people");
  page.timezone = timezone;
  const groups = new Map();
  for (const person of people) {
    const group = person.group || "no group";
    if (!groups.has(group)) groups.set(group, el("optgroup", { label: group }));
    groups.get(group).append(el("option", { value: person.email }, `${person.name} · ${person.label}`));
  }
  $("person").replaceChildren(...groups.values());
  const wanted = decodeURIComponent(location.hash.slice(1));
  const first = people.find((p) => p.email === wanted) || people.find((p) => p.email === storyteller) || people[0];
  $("person").value = first.email;
  $("person").addEventListener("change", () => choosePerson($("person").value));
  window.addEventListener("hashchange", () => {
    const email = decodeURIComponent(location.hash.slice(1));
    if (email !== page.who && people.some((p) => p.email === email)) {
      $("person").value = email;
      choosePerson(email);
    }
  });
  $("shortcut").addEventListener("click", () => act("shortcut"));
  $("composer").addEventListener("submit", async (event) => {
    event.preventDefault();
    const text = $("command").value.trim();
    if (!text) return;
    const channel = page.place === "home" ? null : page.place;
    page.scrollDown = true;
    await act("command", { text: text.startsWith("/") ? text : `/capdesk ${text}`, channel });
    if (!$("status").textContent) $("command").value = "";
  });
  // The browser checks required fields and lengths before a submission, as Slack's client does;
  // its message replaces whatever the bot said before, under every field.
  $("modal-submit").addEventListener("click", () => showErrors({}));
  $("modal-blocks").addEventListener("invalid", (event) => {
    const input = event.target.closest(".input");
    if (input) showError(input, event.target.validationMessage);
  }, true);
  $("modal-form").addEventListener("submit", (event) => {
    event.preventDefault();
    act("submit", { values: modalValues() });
  });
  $("run-alerts").addEventListener("click", () => runJob("alerts"));
  $("send-digests").addEventListener("click", () => runJob("digests"));
  $("modal-close").addEventListener("click", () => act("close"));
  $("modal").addEventListener("cancel", (event) => { event.preventDefault(); act("close"); });
  await choosePerson(first.email);
  setInterval(refresh, POLL_MS);
}

start().catch((error) => setStatus(`The playground did not load: ${error.message}`));
