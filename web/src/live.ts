// The live stream: one WebSocket, events handed over once per animation frame (so 254 hosts
// polled in one burst cost one render), reconnect with backoff. No polling. The socket asks
// for batches (?batch=true): a burst of events (a writer flush) is one message, an array.

import { wsUrl } from "./api";
import type { LiveEvent, LiveMessage } from "./types";
import { isPoll } from "./types";

export type LinkState = "connecting" | "live" | "offline";

export interface LiveOptions {
  onEvents: (events: LiveEvent[]) => void;
  onState: (state: LinkState) => void;
  /** Called when the server refused the socket (session gone): the app re-checks the login. */
  onRefused: () => void;
}

export function connectLive(options: LiveOptions): () => void {
  let socket: WebSocket | null = null;
  let stopped = false;
  let delayMs = 500;
  let pending: LiveEvent[] = [];
  let frame = 0;
  let timer: ReturnType<typeof setTimeout> | undefined;

  const flush = () => {
    frame = 0;
    const batch = pending;
    pending = [];
    if (batch.length) options.onEvents(batch);
  };

  const open = () => {
    if (stopped) return;
    options.onState("connecting");
    const ws = new WebSocket(wsUrl("/api/live?batch=true"));
    socket = ws;
    let opened = false;
    ws.onopen = () => {
      opened = true;
      delayMs = 500;
      options.onState("live");
    };
    ws.onmessage = (message) => {
      try {
        const data = JSON.parse(message.data as string) as LiveMessage | LiveMessage[];
        const received = Date.now() / 1000;
        for (const message of Array.isArray(data) ? data : [data]) {
          // State changes (and types this build does not know yet) are not rows' polls.
          if (!isPoll(message)) continue;
          const event: LiveEvent = message;
          event.received = received;
          pending.push(event);
        }
      } catch {
        return; // not JSON: nothing the UI can show
      }
      if (!frame) frame = requestAnimationFrame(flush);
    };
    ws.onclose = (close) => {
      socket = null;
      if (stopped) return;
      options.onState("offline");
      // Refused before opening (HTTP 403 at the handshake) or closed with 4401/4403.
      if (!opened || close.code === 4401 || close.code === 4403) options.onRefused();
      timer = setTimeout(open, delayMs);
      delayMs = Math.min(delayMs * 2, 10_000);
    };
  };

  open();
  return () => {
    stopped = true;
    clearTimeout(timer);
    if (frame) cancelAnimationFrame(frame);
    socket?.close();
  };
}
