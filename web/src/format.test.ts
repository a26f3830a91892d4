import { describe, expect, it } from "vitest";
import { ago, bytes, celsius, duration, level, pct, rate, stateClass } from "./format";

describe("format", () => {
  it("formats percentages and missing values", () => {
    expect(pct(12.345)).toBe("12.3%");
    expect(pct(null)).toBe("–");
    expect(pct(Number.NaN)).toBe("–");
  });
  it("formats bytes and rates in decimal units", () => {
    expect(bytes(999)).toBe("999 B");
    expect(bytes(1500)).toBe("1.5 kB");
    expect(bytes(123_456_789)).toBe("123 MB");
    expect(rate(2000)).toBe("2.0 kB/s");
    expect(bytes(undefined)).toBe("–");
  });
  it("formats durations and ages", () => {
    expect(duration(59)).toBe("59s");
    expect(duration(3720)).toBe("1h 2m");
    expect(duration(93784)).toBe("1d 2h");
    expect(ago(100, 160)).toBe("1m 0s");
    expect(ago(200, 100)).toBe("0s"); // a clock ahead of ours is not negative
  });
  it("maps states and levels to classes", () => {
    expect(stateClass("up")).toBe("ok");
    expect(stateClass("pending")).toBe("idle");
    expect(stateClass("unreachable")).toBe("bad");
    expect(stateClass("auth-failed")).toBe("bad");
    expect(stateClass("timeout")).toBe("warn");
    expect(level(95)).toBe("bad");
    expect(level(80)).toBe("warn");
    expect(level(10)).toBe("");
    expect(celsius(61.6)).toBe("62°C");
  });
});
