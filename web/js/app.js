// The explorer's shell: hash routing to one module per page, the sign-in box, search, the
// collapsible navigation and the live block stream (SSE) that pages may subscribe to.

import { api, onSession, restoreSession, session, signIn, signOut, ApiError } from "./api.js";
import { h, replace } from "./ui/dom.js";
import { shortHex } from "./ui/format.js";
import { href } from "./ui/links.js";
import { errorBox, isRefusal, loading } from "./ui/status.js";
import { resolveQuery } from "./pages/search.js";

// [pattern, page module, parameter names, nav section]
const ROUTES = [
  [/^$/, "overview", [], "overview"],
  [/^blocks$/, "blocks", [], "blocks"],
  [/^block\/([^/]+)$/, "block", ["id"], "blocks"],
  [/^tx\/([^/]+)$/, "tx", ["hash"], "blocks"],
  [/^organizations$/, "organizations", [], "organizations"],
  [/^organization\/([^/]+)$/, "organization", ["id"], "organizations"],
  [/^accounts$/, "accounts", [], "accounts"],
  [/^account\/([^/]+)$/, "account", ["account"], "accounts"],
  [/^tokens$/, "tokens", [], "tokens"],
  [/^token\/([^/]+)$/, "token", ["symbol"], "tokens"],
  [/^assets$/, "assets", [], "assets"],
  [/^asset\/([^/]+)$/, "asset", ["id"], "assets"],
  [/^feed\/([^/]+)$/, "feed", ["id"], "assets"],
  [/^workflows$/, "workflows", [], "workflows"],
  [/^instance\/([^/]+)$/, "instance", ["id"], "workflows"],
  [/^template\/([^/]+)\/([^/]+)$/, "template", ["id", "version"], "workflows"],
  [/^documents$/, "documents", [], "documents"],
  [/^document\/([^/]+)$/, "document", ["id"], "documents"],
  [/^identity$/, "identity", [], "identity"],
  [/^did\/([^/]+)$/, "did", ["did"], "identity"],
  [/^registry\/([^/]+)$/, "registry", ["name"], "identity"],
  [/^status-list\/([^/]+)\/([^/]+)$/, "status-list", ["issuer", "name"], "identity"],
  [/^private$/, "private", [], "private"],
  [/^private\/([^/]+)$/, "private-record", ["id"], "private"],
  [/^verify$/, "proof", [], "verify"],
  [/^state\/(.+)$/, "state", ["key"], null],
  [/^search$/, "search", [], null],
];

const app = document.getElementById("app");
const announcer = document.getElementById("announce");
let generation = 0;
let blockListeners = new Set();
let firstRender = true;

function parseHash() {
  const raw = location.hash.startsWith("#/") ? location.hash.slice(2) : "";
  const [path, qs] = raw.split("?", 2);
  return { path: path.replace(/\/+$/, ""), query: new URLSearchParams(qs ?? "") };
}

function match(path) {
  for (const [re, page, names, section] of ROUTES) {
    const m = re.exec(path);
    if (!m) continue;
    const params = {};
    try {
      names.forEach((n, i) => {
        // `state/<key>` keeps its slashes; each segment was encoded on its own.
        params[n] = m[i + 1].split("/").map(decodeURIComponent).join("/");
      });
    } catch {
      // A hand-edited hash with a broken %-escape names nothing.
      return null;
    }
    return { page, params, section };
  }
  return null;
}

function markNav(section) {
  for (const a of document.querySelectorAll("#nav a")) {
    if (a.dataset.section === section) a.setAttribute("aria-current", "page");
    else a.removeAttribute("aria-current");
  }
}

function announce(text) {
  announcer.textContent = "";
  // A fresh text node after a tick so screen readers notice a repeated message.
  setTimeout(() => {
    announcer.textContent = text;
  }, 50);
}

async function route() {
  // An in-page anchor is not a route: keep the page (or show the overview on a fresh load).
  if (location.hash && !location.hash.startsWith("#/") && !firstRender) return;
  const gen = ++generation;
  blockListeners = new Set();
  const { path, query } = parseHash();
  const found = match(path);
  closeMenu();
  const view = h("div", { class: "page" });
  replace(app, view);
  if (!found) {
    markNav(null);
    view.append(h("h1", { tabindex: "-1" }, "No such page"), errorBox(new ApiError(404, "not_found", `nothing lives at #/${path}`)));
    return;
  }
  markNav(found.section);
  view.append(loading());
  const listeners = blockListeners;
  const ctx = {
    params: found.params,
    query,
    view,
    alive: () => gen === generation,
    setTitle: (t) => {
      document.title = `${t} · Weft explorer`;
    },
    onBlock: (fn) => listeners.add(fn),
    announce,
  };
  try {
    const mod = await import(`./pages/${found.page}.js`);
    if (!ctx.alive()) return;
    view.replaceChildren();
    await mod.render(ctx);
  } catch (err) {
    if (!ctx.alive()) return;
    view.replaceChildren(h("h1", { tabindex: "-1" }, isRefusal(err) ? "Not visible to you" : "Could not show this page"), errorBox(err));
  }
  if (!ctx.alive()) return;
  const heading = view.querySelector("h1");
  if (heading) {
    heading.setAttribute("tabindex", "-1");
    announce(`${heading.textContent} loaded`);
    // Move focus for keyboard and screen-reader users, but not on the first load.
    if (!firstRender) heading.focus({ preventScroll: false });
  }
  firstRender = false;
}

// The skip link moves focus to the content without touching the hash, which holds the route.
document.querySelector(".skip-link")?.addEventListener("click", (e) => {
  e.preventDefault();
  document.getElementById("main").focus();
});

// ---- navigation menu (collapses on narrow screens) ----

const menuToggle = document.getElementById("menu-toggle");
const nav = document.getElementById("nav");

function closeMenu() {
  nav.classList.remove("open");
  menuToggle.setAttribute("aria-expanded", "false");
}

menuToggle.addEventListener("click", () => {
  const open = !nav.classList.contains("open");
  nav.classList.toggle("open", open);
  menuToggle.setAttribute("aria-expanded", String(open));
  if (open) nav.querySelector("a")?.focus();
});

nav.addEventListener("keydown", (e) => {
  if (e.key === "Escape" && nav.classList.contains("open")) {
    closeMenu();
    menuToggle.focus();
  }
});

// ---- search ----

const searchForm = document.getElementById("search");
const searchInput = document.getElementById("search-input");

searchForm.addEventListener("submit", async (e) => {
  e.preventDefault();
  const q = searchInput.value.trim();
  if (!q) return;
  const target = await resolveQuery(q);
  location.hash = target ?? href.search(q);
});

// ---- sign in ----

const sessionBox = document.getElementById("session");

function signInForm() {
  const message = h("p", { class: "signin-message", role: "alert" });
  const secret = h("input", {
    id: "signin-secret",
    type: "password",
    autocomplete: "off",
    spellcheck: "false",
    testid: "signin-input",
    placeholder: "64-hex secret",
    "aria-describedby": "signin-help",
  });
  const file = h("input", { id: "signin-file", type: "file", accept: ".json,.key,application/json", class: "file-input" });
  const submit = h("button", { type: "submit", testid: "signin-button" }, "Sign in");
  const form = h(
    "form",
    { class: "signin" },
    h("label", { for: "signin-secret" }, "Member key"),
    secret,
    h("label", { for: "signin-file", class: "file-label" }, "or key file"),
    file,
    submit,
    h("span", { id: "signin-help", class: "sr-only" }, "The secret seed of your account key (64 hex characters) or the JSON of a key file. It stays in this browser tab."),
    message,
  );
  const attempt = async (text) => {
    message.textContent = "";
    submit.disabled = true;
    try {
      await signIn(text);
    } catch (err) {
      message.textContent = `Cannot sign in: ${err.message}`;
      submit.disabled = false;
    }
  };
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    attempt(secret.value);
  });
  file.addEventListener("change", async () => {
    const f = file.files?.[0];
    if (!f) return;
    if (f.size > 4096) {
      message.textContent = "Cannot sign in: that file is too large to be a key file";
      return;
    }
    attempt(await f.text());
  });
  return form;
}

async function whoami(account) {
  const who = h("span", { testid: "whoami", class: "whoami" }, "Signed in as ", h("a", { href: href.account(account), class: "mono", title: account }, shortHex(account)));
  const box = h("div", { class: "signed-in" }, who, h("button", { type: "button", onclick: () => signOut() }, "Sign out"));
  api
    .account(account)
    .then((a) => {
      if (!a.registered) who.append(h("span", { class: "warn" }, " — not registered on this chain"));
      else who.append(` (${a.organization}${a.roles?.length ? `: ${a.roles.join(", ")}` : ""})`);
    })
    .catch((err) => {
      if (err instanceof ApiError && err.code === "unknown_account") {
        who.append(h("span", { class: "warn" }, " — not a member of this chain: you see only public data"));
      }
    });
  return box;
}

async function renderSession(s) {
  replace(sessionBox, s ? await whoami(s.account) : signInForm());
}


// ---- live blocks ----

const liveBox = document.getElementById("live");

function startStream() {
  if (!("EventSource" in window)) return;
  // EventSource cannot send signature headers; the stream is public block metadata.
  const source = new EventSource("/v1/stream/blocks");
  source.addEventListener("open", () => {
    liveBox.textContent = "live";
    liveBox.className = "live on";
  });
  source.addEventListener("block", (e) => {
    let block;
    try {
      block = JSON.parse(e.data);
    } catch {
      return;
    }
    liveBox.textContent = `live · #${block.height}`;
    liveBox.className = "live on";
    const received = Date.now();
    for (const fn of blockListeners) {
      try {
        fn(block, received);
      } catch (err) {
        console.error("block listener failed", err);
      }
    }
  });
  source.addEventListener("error", () => {
    liveBox.textContent = "live updates paused";
    liveBox.className = "live off";
  });
}

// ---- start ----

async function start() {
  api
    .status()
    .then((s) => {
      document.getElementById("chain").textContent = s.chain_id;
    })
    .catch(() => {});
  await restoreSession();
  renderSession(session());
  onSession((s) => {
    renderSession(s);
    // What a page shows depends on who reads it.
    route();
  });
  window.addEventListener("hashchange", route);
  await route();
  startStream();
}

start();
