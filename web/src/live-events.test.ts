import { describe, expect, it } from "vitest";
import type { LiveMessage } from "./types";
import { isPoll } from "./types";

describe("live messages", () => {
  it("applies polls and passes over state changes and unknown types", () => {
    const messages: LiveMessage[] = [
      { type: "host", host: "alpha", state: "up", error: null, ts: 1, duration_ms: 2, metrics: {}, info: null, stored: 3 },
      { type: "ping", host: "ping/127.0.0.9", state: "unreachable", error: "no echo", ts: 1, duration_ms: null, metrics: {}, info: null, stored: null },
      { type: "state", target: "alpha", kind: "host", from: "up", to: "timeout", reason: "slow", since: 4 },
    ];
    const wake = { type: "wake", target: "alpha" } as unknown as LiveMessage;
    expect([...messages, wake].filter(isPoll).map((m) => m.host)).toEqual(["alpha", "ping/127.0.0.9"]);
  });
});
