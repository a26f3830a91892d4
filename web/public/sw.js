// Makes the UI installable as an app. It caches nothing: a monitoring screen must never
// show stale data, so every request goes to the network as usual.
self.addEventListener("install", () => self.skipWaiting());
self.addEventListener("activate", (event) => event.waitUntil(self.clients.claim()));
self.addEventListener("fetch", () => {});
