import { describe, expect, it } from "vitest";
import { FIELDS, fromValues, problemField, sortProblems, toValues } from "./setupForms";
import { SETUP_TABLES } from "./setupText";

const problem = (form_field: string | null, message = "bad", text = "inv.yaml:3 x: bad") => ({
  text,
  line: 3,
  field: "hosts[0].x",
  message,
  form_field,
});

describe("setup forms", () => {
  it("shows an entry as values and writes them back over a copy, keeping unknown fields", () => {
    const entry = { name: "a", address: "10.0.0.2", tags: ["x", "y"], ssh: { user: "ops", agent: true } };
    const values = toValues("hosts", entry);
    expect(values.tags).toBe("x, y");
    expect(values["ssh.user"]).toBe("ops");
    expect(values.local).toBe(false);
    const back = fromValues("hosts", entry, { ...values, "ssh.port": "2222", tags: "x", "ssh.user": "" });
    expect(back).toEqual({ name: "a", address: "10.0.0.2", tags: ["x"], ssh: { port: 2222, agent: true } });
    expect(entry.ssh.user).toBe("ops"); // the original is untouched
  });
  it("drops a mapping left empty and sends a non-number as typed", () => {
    const back = fromValues("hosts", { name: "a", ssh: { user: "u" } }, { ...toValues("hosts", {}), name: "a", "ssh.port": "2x" });
    expect(back).toEqual({ name: "a", ssh: { port: "2x" } });
    expect(fromValues("groups", { name: "g", ssh: { user: "u" } }, { name: "g", "ssh.user": "" })).toEqual({ name: "g" });
  });
  it("puts each problem next to its field, the rest above the form", () => {
    expect(problemField("hosts", problem("ssh.port"))).toBe("ssh.port");
    expect(problemField("hosts", problem("groups[1]"))).toBe("groups");
    expect(problemField("hosts", problem("password"))).toBe(null);
    const sorted = sortProblems("hosts", [problem("ssh.port", "too big"), problem(null, "m", "cables[0]: gone")]);
    expect(sorted.byField).toEqual({ "ssh.port": "too big" });
    expect(sorted.general).toEqual(["cables[0]: gone"]);
  });
  it("has a field list for each section with a name", () => {
    for (const fields of Object.values(FIELDS)) expect(fields[0].path).toBe("name");
  });
  it("has no Korean key that English lacks", () => {
    for (const key of Object.keys(SETUP_TABLES.ko)) expect(SETUP_TABLES.en).toHaveProperty(key);
  });
});
