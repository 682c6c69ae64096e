// admitone's service worker (served at /sw.js, scope "/"): it keeps ticket pages for offline
// use at the venue. The ticket data itself (booking, QR code) lives in IndexedDB,
// written by the page; this worker keeps the pages and their files:
//   - "keep-offline" messages from a ticket page name the URLs to store (the page itself,
//     /tickets, the /static files it loaded);
//   - navigations to /bookings/<id> and /tickets go to the network first and fall back to the
//     stored copy (any language variant) when the network fails;
//   - /static files go to the network first and fall back to a stored copy.
// Nothing else is touched: API calls and every other page go straight to the network.

const CACHE = "admitone-pages-v1";
const OFFLINE_PAGES = [/^\/bookings\/[0-9a-fA-F-]{36}$/, /^\/tickets$/];

self.addEventListener("install", () => {
  self.skipWaiting();
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    (async () => {
      const names = await caches.keys();
      await Promise.all(
        names.filter((name) => name.startsWith("admitone-") && name !== CACHE).map((name) => caches.delete(name)),
      );
      await self.clients.claim();
    })(),
  );
});

function sameOrigin(url) {
  try {
    return new URL(url, self.location.origin).origin === self.location.origin;
  } catch {
    return false;
  }
}

async function keep(urls) {
  const cache = await caches.open(CACHE);
  const unique = [...new Set(urls.filter((url) => typeof url === "string" && sameOrigin(url)))];
  const results = await Promise.all(
    unique.map(async (url) => {
      try {
        const response = await fetch(url, { credentials: "same-origin", cache: "no-store" });
        if (!response.ok) {
          return false;
        }
        await cache.put(url, response);
        return true;
      } catch {
        return false;
      }
    }),
  );
  return results.every(Boolean);
}

self.addEventListener("message", (event) => {
  const data = event.data || {};
  if (data.type !== "keep-offline" || !Array.isArray(data.urls)) {
    return;
  }
  const port = event.ports && event.ports[0];
  event.waitUntil(
    keep(data.urls.slice(0, 100)).then((ok) => {
      if (port) {
        port.postMessage({ ok });
      }
    }),
  );
});

function offlineResponse() {
  const body =
    '<!doctype html><html lang="en"><meta charset="utf-8">' +
    '<meta name="viewport" content="width=device-width, initial-scale=1">' +
    "<title>Offline · admitone</title><main><h1>You're offline</h1>" +
    "<p>This page isn't saved on this device. Connect to the internet and try again.</p></main></html>";
  return new Response(body, { status: 503, headers: { "Content-Type": "text/html; charset=utf-8" } });
}

async function pageFromNetwork(request) {
  const cache = await caches.open(CACHE);
  try {
    const response = await fetch(request);
    if (response.ok) {
      await cache.put(new URL(request.url).pathname, response.clone());
    }
    return response;
  } catch {
    const path = new URL(request.url).pathname;
    const stored =
      (await cache.match(request, { ignoreSearch: true, ignoreVary: true })) ||
      (await cache.match(path, { ignoreSearch: true, ignoreVary: true })) ||
      (path !== "/tickets" && (await cache.match("/tickets", { ignoreSearch: true, ignoreVary: true })));
    return stored || offlineResponse();
  }
}

async function fileFromNetwork(request) {
  try {
    return await fetch(request);
  } catch (err) {
    const cache = await caches.open(CACHE);
    const stored =
      (await cache.match(request, { ignoreVary: true })) ||
      (await cache.match(request, { ignoreSearch: true, ignoreVary: true }));
    if (stored) {
      return stored;
    }
    throw err;
  }
}

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET" || !sameOrigin(request.url)) {
    return;
  }
  const path = new URL(request.url).pathname;
  if (request.mode === "navigate" && OFFLINE_PAGES.some((pattern) => pattern.test(path))) {
    event.respondWith(pageFromNetwork(request));
  } else if (path.startsWith("/static/")) {
    event.respondWith(fileFromNetwork(request));
  }
});
