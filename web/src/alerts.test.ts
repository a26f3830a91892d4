import { describe, expect, it } from "vitest";
import { type Alert, badge, newlyFiring, parseMatchers, where } from "./alerts";

const alert = (id: number, extra: Partial<Alert> = {}): Alert => ({
  id,
  rule: "fs-full",
  target: "nas",
  instance: "/data",
  severity: "warning",
  status: "firing",
  summary: "filesystem over 90 %",
  value: 93,
  since: 0,
  fired_at: 60,
  resolved_at: null,
  ack_by: null,
  ack_at: null,
  ack_comment: null,
  silenced_by: null,
  ...extra,
});

describe("alerts", () => {
  it("badges the firing count with the worst severity", () => {
    expect(badge(null)).toBeNull();
    expect(badge({ firing: 0, pending: 2, critical: 0, warning: 0, info: 0 })).toBeNull();
    expect(badge({ firing: 3, pending: 0, critical: 1, warning: 2, info: 0 })).toEqual({ text: "3", level: "bad" });
    expect(badge({ firing: 2, pending: 0, critical: 0, warning: 2, info: 0 })).toEqual({ text: "2", level: "warn" });
  });
  it("announces each firing alert once, never an acked or silenced one", () => {
    const first = newlyFiring(new Set(), [alert(1), alert(2, { ack_by: "ana" }), alert(3, { silenced_by: 7 })]);
    expect(first.fresh.map((a) => a.id)).toEqual([1]);
    const second = newlyFiring(first.seen, [alert(1), alert(4), alert(5, { status: "pending" })]);
    expect(second.fresh.map((a) => a.id)).toEqual([4]);
    expect([...second.seen]).toEqual([1, 4]);
  });
  it("reads silence matchers", () => {
    expect(parseMatchers("host=nas, alertname=fs-*")).toEqual({ host: "nas", alertname: "fs-*" });
    expect(parseMatchers("host")).toBeNull();
    expect(parseMatchers(" ")).toBeNull();
    expect(where({ target: "nas", instance: null })).toBe("nas");
  });
});
