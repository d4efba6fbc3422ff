// Drug Ratings service worker: keeps the app shell and the physician's saved drugs readable
// offline. Pages always come from the network first; a saved copy is shown only when the
// network fails, and then it is marked "saved copy from <date>" so no old score passes as
// current.
"use strict";
const VERSION = {{ version }};
const SHELL_CACHE = "shell";
const PAGES_CACHE = "saved-pages";
const SHELL = {{ shell }};
const OFFLINE_URL = "/offline/";
const SAVED_LIST_URL = "/me/saved/";

self.addEventListener("install", (event) => {
  event.waitUntil(
    caches.open(SHELL_CACHE + ":" + VERSION)
      .then((cache) => cache.addAll([OFFLINE_URL, ...SHELL]))
      .then(() => self.skipWaiting())
  );
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches.keys().then((keys) => Promise.all(
      keys.filter((k) => k.startsWith(SHELL_CACHE + ":") && k !== SHELL_CACHE + ":" + VERSION)
        .map((k) => caches.delete(k))
    )).then(() => self.clients.claim())
  );
});

// A copy stamped with the time it was fetched, so the offline banner can say how old it is.
async function keep(url, response) {
  const body = await response.clone().text();
  const headers = new Headers(response.headers);
  headers.set("X-Saved-At", new Date().toISOString());
  const cache = await caches.open(PAGES_CACHE);
  await cache.put(url, new Response(body, { status: 200, headers }));
}

function pathOf(url) {
  const u = new URL(url, self.location.origin);
  return u.pathname;
}

async function isSaved(path) {
  const cache = await caches.open(PAGES_CACHE);
  return Boolean(await cache.match(path)) || path === SAVED_LIST_URL;
}

async function savedCopy(path) {
  const cache = await caches.open(PAGES_CACHE);
  const hit = await cache.match(path);
  if (!hit) return null;
  const when = hit.headers.get("X-Saved-At") || "";
  const html = await hit.text();
  const banner =
    '<div class="offline-banner" role="status" data-saved-at="' + when + '"><strong>Offline.</strong> ' +
    'Saved copy from <time datetime="' + when + '">' + when.slice(0, 16).replace("T", " ") + " UTC</time>: " +
    "scores may have changed since.</div>";
  const marked = html
    .replace(/<body([^>]*)>/, '<body$1 class="offline-copy">')
    .replace('<main id="main">', '<main id="main">' + banner);
  return new Response(marked, { headers: { "Content-Type": "text/html; charset=utf-8" } });
}

async function navigate(request) {
  const path = pathOf(request.url);
  try {
    const response = await fetch(request);
    if (response.ok && (await isSaved(path))) await keep(path, response);
    return response;
  } catch (err) {
    return (await savedCopy(path)) || (await caches.match(OFFLINE_URL)) || Response.error();
  }
}

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET" || new URL(request.url).origin !== self.location.origin) return;
  if (request.mode === "navigate") {
    event.respondWith(navigate(request));
  } else if (pathOf(request.url).startsWith("/static/")) {
    event.respondWith(caches.match(request).then((hit) => hit || fetch(request)));
  }
});

// The saved-drugs page lists the pages to keep; signing out forgets them all.
self.addEventListener("message", (event) => {
  const data = event.data || {};
  if (data.type === "keep" && Array.isArray(data.urls)) {
    event.waitUntil((async () => {
      const cache = await caches.open(PAGES_CACHE);
      const wanted = new Set(data.urls.map(pathOf).concat([SAVED_LIST_URL]));
      for (const request of await cache.keys()) {
        if (!wanted.has(pathOf(request.url))) await cache.delete(request);
      }
      for (const path of wanted) {
        try {
          const response = await fetch(path, { credentials: "same-origin" });
          if (response.ok) await keep(path, response);
        } catch (err) { /* offline now: keep the older copy */ }
      }
      if (event.source) event.source.postMessage({ type: "kept", count: wanted.size });
    })());
  } else if (data.type === "forget") {
    event.waitUntil(caches.delete(PAGES_CACHE));
  }
});
