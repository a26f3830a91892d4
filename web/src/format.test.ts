import { describe, expect, it } from "vitest";
import cases from "../../tests/fixtures/units/cases.json";
import { ago, axisTime, bitRate, bytes, celsius, dateTime, duration, level, pct, rate, stateClass } from "./format";

describe("format", () => {
  it("formats percentages and missing values", () => {
    expect(pct(12.345)).toBe("12.3%");
    expect(pct(null)).toBe("–");
    expect(pct(Number.NaN)).toBe("–");
  });
  it("formats sizes in IEC units and network rates in bits", () => {
    expect(bytes(999)).toBe("999 B");
    expect(bytes(1536)).toBe("1.5 KiB");
    expect(rate(2048)).toBe("2.0 KiB/s");
    expect(bitRate(null)).toBe("–");
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

describe("dates", () => {
  const ts = Date.UTC(2026, 11, 5, 16, 20, 11) / 1000; // 2026-12-05 16:20:11 UTC
  it("are ISO-like in English and Korean-ordered in Korean, 24-hour in both", () => {
    expect(dateTime(ts, "en", "UTC")).toBe("2026-12-05 16:20:11");
    expect(dateTime(ts, "ko", "UTC")).toBe("2026. 12. 5. 16:20:11");
    expect(dateTime(ts + 6 * 3600, "en", "UTC")).toBe("2026-12-05 22:20:11");
    expect(dateTime(ts + 6 * 3600, "ko", "UTC")).toBe("2026. 12. 5. 22:20:11");
    expect(dateTime(null)).toBe("–");
  });
  it("label a chart's time axis by its step", () => {
    expect(axisTime(ts, 600, "en", "UTC")).toBe("16:20");
    expect(axisTime(ts + 6 * 3600, 600, "ko", "UTC")).toBe("22:20");
    expect(axisTime(ts, 10, "en", "UTC")).toBe("16:20:11");
    expect(axisTime(ts, 86400, "en", "UTC")).toBe("12-05");
    expect(axisTime(ts, 86400, "ko", "UTC")).toBe("12. 5.");
  });
});

describe("units agree with the CLI", () => {
  // the same table tests/test_units.py checks cli/render.py against
  it.each(cases.bytes as [number, string][])("bytes(%d) is %s", (value, text) => {
    expect(bytes(value)).toBe(text);
  });
  it.each(cases.bits_per_s_from_bytes as [number, string][])("bitRate(%d B/s) is %s", (value, text) => {
    expect(bitRate(value)).toBe(text);
  });
});
