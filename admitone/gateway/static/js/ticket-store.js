// Tickets kept on this device for the venue, where there may be no network: IndexedDB database
// "admitone-tickets", store "tickets" keyed by bookingId, with the QR code as a data URL so a
// ticket opens offline.
// Every function resolves (null / [] / false) rather than rejecting when IndexedDB is off.

const DB_NAME = "admitone-tickets";
const DB_VERSION = 1;
const STORE = "tickets";
// A ticket is dropped a week after its show.
const KEEP_AFTER_SHOW_MS = 7 * 24 * 60 * 60 * 1000;

let opening = null;

function open() {
  if (!("indexedDB" in window)) {
    return Promise.resolve(null);
  }
  if (!opening) {
    opening = new Promise((resolve) => {
      const request = window.indexedDB.open(DB_NAME, DB_VERSION);
      request.onupgradeneeded = () => {
        const db = request.result;
        if (!db.objectStoreNames.contains(STORE)) {
          const store = db.createObjectStore(STORE, { keyPath: "bookingId" });
          store.createIndex("showTime", "showTime");
        }
      };
      request.onsuccess = () => resolve(request.result);
      request.onerror = () => resolve(null);
      request.onblocked = () => resolve(null);
    });
  }
  return opening;
}

function run(mode, work) {
  return open().then(
    (db) =>
      new Promise((resolve) => {
        if (!db) {
          resolve(null);
          return;
        }
        let result = null;
        try {
          const tx = db.transaction(STORE, mode);
          const request = work(tx.objectStore(STORE));
          if (request) {
            request.onsuccess = () => {
              result = request.result;
            };
          }
          tx.oncomplete = () => resolve(result === undefined ? null : result);
          tx.onerror = () => resolve(null);
          tx.onabort = () => resolve(null);
        } catch {
          resolve(null);
        }
      }),
  );
}

/** The record kept for a confirmed booking and its ticket. */
export function ticketRecord(booking, ticket, qrDataUrl) {
  return {
    bookingId: booking.id,
    reference: booking.reference,
    status: booking.status,
    showId: booking.show.id,
    title: booking.show.title,
    showTime: booking.show.showTime,
    timezone: booking.show.timezone || null,
    theater: booking.show.theater,
    city: booking.show.city,
    address: booking.show.address,
    screen: booking.show.screen,
    seats: booking.seats.map((seat) => seat.id),
    amount: booking.amount,
    currency: booking.currency,
    qrPayload: ticket ? ticket.qrPayload : null,
    qrDataUrl: qrDataUrl || null,
    savedAt: Date.now(),
  };
}

/** Save (or replace) a ticket; true once it is stored. */
export async function saveTicket(record) {
  const done = await run("readwrite", (store) => store.put(record));
  return done !== null;
}

export function loadTicket(bookingId) {
  return run("readonly", (store) => store.get(bookingId));
}

export function deleteTicket(bookingId) {
  return run("readwrite", (store) => store.delete(bookingId));
}

/** Saved tickets, soonest show first, dropping those a week past their show. */
export async function listTickets() {
  const all = (await run("readonly", (store) => store.getAll())) || [];
  const cutoff = Date.now() - KEEP_AFTER_SHOW_MS;
  const kept = [];
  for (const record of all) {
    if (Date.parse(record.showTime) < cutoff) {
      await deleteTicket(record.bookingId);
    } else {
      kept.push(record);
    }
  }
  kept.sort((a, b) => Date.parse(a.showTime) - Date.parse(b.showTime));
  return kept;
}

// -- the service worker that keeps the pages themselves -------------------------------------

/** Register /sw.js (scope: the whole site); resolves the registration or null. */
export async function registerWorker(url) {
  if (!("serviceWorker" in navigator)) {
    return null;
  }
  try {
    await navigator.serviceWorker.register(url, { scope: "/" });
    return await navigator.serviceWorker.ready;
  } catch {
    return null;
  }
}

/**
 * Ask the service worker to keep this page, the saved-tickets page and every file this page
 * loaded from /static (styles, scripts, icons), so they open with no network. Resolves true
 * once the worker says they are cached.
 */
export async function keepPagesOffline(registration, extraUrls = []) {
  const worker = registration && registration.active;
  if (!worker) {
    return false;
  }
  const statics = performance
    .getEntriesByType("resource")
    .map((entry) => entry.name)
    .filter((name) => {
      try {
        const url = new URL(name);
        return url.origin === location.origin && url.pathname.startsWith("/static/");
      } catch {
        return false;
      }
    });
  const urls = [location.pathname + location.search, ...extraUrls, ...statics];
  return new Promise((resolve) => {
    const channel = new MessageChannel();
    const timer = setTimeout(() => resolve(false), 15000);
    channel.port1.onmessage = (event) => {
      clearTimeout(timer);
      resolve(Boolean(event.data && event.data.ok));
    };
    worker.postMessage({ type: "keep-offline", urls }, [channel.port2]);
  });
}
