// Makes the UI installable as an app. It caches nothing: a monitoring screen must never
// show stale data, so every request goes to the network as usual.
self.addEventListener("install", () => self.skipWaiting());
self.addEventListener("activate", (event) => event.waitUntil(self.clients.claim()));
self.addEventListener("fetch", () => {});

// Web Push from EGO (notify/webpush.py): {title, body, url}. A tap opens (or focuses) the UI
// at that page: the alerts list or the host.
self.addEventListener("push", (event) => {
  let data = { title: "MIRROR STAGE", body: "", url: "/#/alerts" };
  try {
    data = { ...data, ...event.data.json() };
  } catch {
    // not JSON: show the defaults
  }
  event.waitUntil(
    self.registration.showNotification(data.title, {
      body: data.body,
      tag: "mirror-alerts",
      renotify: true,
      data: { url: data.url },
      actions: [{ action: "open", title: "Open" }],
    }),
  );
});

self.addEventListener("notificationclick", (event) => {
  event.notification.close();
  const url = new URL(event.notification.data?.url ?? "/#/alerts", self.location.origin).href;
  event.waitUntil(
    self.clients.matchAll({ type: "window", includeUncontrolled: true }).then((windows) => {
      for (const w of windows) {
        if (new URL(w.url).origin === self.location.origin && "focus" in w) {
          w.navigate(url);
          return w.focus();
        }
      }
      return self.clients.openWindow(url);
    }),
  );
});
