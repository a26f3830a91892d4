import { describe, expect, it } from "vitest";
import { canOperate, parseRoute } from "./routes";

describe("routes", () => {
  it("reads the hash", () => {
    expect(parseRoute("")).toEqual({ page: "fleet" });
    expect(parseRoute("#/")).toEqual({ page: "fleet" });
    expect(parseRoute("#/host/lab%2001")).toEqual({ page: "host", name: "lab 01" });
    expect(parseRoute("#/terminal/lab-01")).toEqual({ page: "terminal", name: "lab-01" });
    expect(parseRoute("#/run?host=a&host=b")).toEqual({ page: "run", hosts: ["a", "b"], group: null });
    expect(parseRoute("#/run?group=lab")).toEqual({ page: "run", hosts: [], group: "lab" });
    expect(parseRoute("#/audit")).toEqual({ page: "audit", target: null });
    expect(parseRoute("#/tunnels")).toEqual({ page: "tunnels" });
    expect(parseRoute("#/alerts")).toEqual({ page: "alerts", tab: "active" });
    expect(parseRoute("#/alerts?tab=silences")).toEqual({ page: "alerts", tab: "silences" });
    expect(parseRoute("#/jobs")).toEqual({ page: "jobs" });
    expect(parseRoute("#/nowhere")).toEqual({ page: "fleet" });
  });

  it("lets operators and admins operate, not viewers", () => {
    expect([canOperate("viewer"), canOperate("operator"), canOperate("admin"), canOperate(undefined)]).toEqual([
      false,
      true,
      true,
      false,
    ]);
  });
});
