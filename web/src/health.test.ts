import { describe, expect, it } from "vitest";
import { healthProblems } from "./health";

describe("healthProblems", () => {
  it("shows nothing while healthy or unknown", () => {
    expect(healthProblems(null)).toEqual([]);
    expect(healthProblems({ status: "ok", problems: [] })).toEqual([]);
  });
  it("lists what the API says is wrong", () => {
    const problems = ["job 1000 (policy_compression on points) has never run"];
    expect(healthProblems({ status: "degraded", problems })).toEqual(problems);
    expect(healthProblems({ status: "degraded" })).toEqual(["degraded"]);
  });
});
