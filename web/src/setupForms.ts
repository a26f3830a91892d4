// The hosts & gear page's forms, without the DOM (tested with Vitest): which fields each
// section shows, an entry as the form's values and back, and the server's problems by field.
//
// A form edits a copy of the entry as written in inventory.yaml: fields the form does not show
// (ssh.agent, interval_s…) travel back untouched, and the server writes only what changed.

export type Section = "hosts" | "snmp" | "groups" | "subnets";
export type Kind = "text" | "number" | "list" | "bool" | "choice";
export interface FieldDef {
  path: string; // dotted: "ssh.user"
  kind: Kind;
  choices?: string[];
  placeholder?: string;
}
export type Entry = Record<string, unknown>;
export type Values = Record<string, string | boolean>;

export interface Problem {
  text: string;
  line: number | null;
  field: string;
  message: string;
  form_field: string | null;
}

const SSH: FieldDef[] = [
  { path: "ssh.user", kind: "text" },
  { path: "ssh.port", kind: "number", placeholder: "22" },
  { path: "ssh.key_file", kind: "text", placeholder: "~/.ssh/id_ed25519" },
  { path: "ssh.password_env", kind: "text", placeholder: "LAB_PASSWORD" },
  { path: "ssh.password_file", kind: "text" },
];
const OS = ["linux", "freebsd", "macos", "windows"];

export const FIELDS: Record<Section, FieldDef[]> = {
  hosts: [
    { path: "name", kind: "text" },
    { path: "address", kind: "text", placeholder: "10.0.0.21" },
    { path: "groups", kind: "list" },
    { path: "tags", kind: "list" },
    { path: "mac", kind: "text", placeholder: "aa:bb:cc:dd:ee:ff" },
    { path: "local", kind: "bool" },
    { path: "os", kind: "choice", choices: OS },
    ...SSH,
    { path: "ssh.trust_on_first_use", kind: "bool" },
  ],
  snmp: [
    { path: "name", kind: "text" },
    { path: "address", kind: "text" },
    { path: "port", kind: "number", placeholder: "161" },
    { path: "version", kind: "choice", choices: ["2c", "3"] },
    { path: "community_env", kind: "text", placeholder: "SNMP_COMMUNITY" },
    { path: "community_file", kind: "text" },
    { path: "user", kind: "text" },
    { path: "auth_protocol", kind: "choice", choices: ["MD5", "SHA", "SHA224", "SHA256", "SHA384", "SHA512"] },
    { path: "auth_env", kind: "text" },
    { path: "auth_file", kind: "text" },
    { path: "priv_protocol", kind: "choice", choices: ["DES", "3DES", "AES", "AES192", "AES256"] },
    { path: "priv_env", kind: "text" },
    { path: "priv_file", kind: "text" },
    { path: "groups", kind: "list" },
    { path: "tags", kind: "list" },
    { path: "mac", kind: "text" },
  ],
  groups: [{ path: "name", kind: "text" }, ...SSH, { path: "os", kind: "choice", choices: OS }],
  subnets: [
    { path: "name", kind: "text" },
    { path: "cidr", kind: "text", placeholder: "10.0.0.0/24" },
    { path: "sweep", kind: "bool" },
    { path: "sweep_interval_s", kind: "number", placeholder: "30" },
    { path: "wol_broadcast", kind: "text" },
  ],
};

function get(entry: Entry, path: string): unknown {
  let node: unknown = entry;
  for (const key of path.split(".")) {
    if (node === null || typeof node !== "object") return undefined;
    node = (node as Entry)[key];
  }
  return node;
}

function set(entry: Entry, path: string, value: unknown): void {
  const keys = path.split(".");
  let node = entry;
  for (const key of keys.slice(0, -1)) {
    const child = node[key];
    if (child === null || typeof child !== "object" || Array.isArray(child)) node[key] = {};
    node = node[key] as Entry;
  }
  const last = keys[keys.length - 1];
  if (value === undefined) delete node[last];
  else node[last] = value;
}

/** The entry as the form's values: lists as "a, b", numbers as text, flags as booleans. */
export function toValues(section: Section, entry: Entry): Values {
  const values: Values = {};
  for (const field of FIELDS[section]) {
    const value = get(entry, field.path);
    if (field.kind === "bool") values[field.path] = value === true;
    else if (Array.isArray(value)) values[field.path] = value.join(", ");
    else values[field.path] = value == null ? "" : String(value);
  }
  return values;
}

/** The form's values written over a copy of the entry; an empty field is removed. A number
 * field that is not a number is sent as typed, for the server to say what is wrong with it. */
export function fromValues(section: Section, entry: Entry, values: Values): Entry {
  const out = structuredClone(entry) as Entry;
  for (const field of FIELDS[section]) {
    const raw = values[field.path];
    let value: unknown;
    if (field.kind === "bool") value = raw === true ? true : undefined;
    else {
      const text = String(raw ?? "").trim();
      if (text === "") value = undefined;
      else if (field.kind === "list")
        value = text
          .split(",")
          .map((s) => s.trim())
          .filter(Boolean);
      else if (field.kind === "number") value = /^-?\d+(\.\d+)?$/.test(text) ? Number(text) : text;
      else value = text;
    }
    set(out, field.path, value);
  }
  for (const key of Object.keys(out)) {
    const v = out[key];
    if (v && typeof v === "object" && !Array.isArray(v) && Object.keys(v).length === 0) delete out[key];
  }
  return out;
}

/** The form field a problem belongs to ("groups[1]" -> "groups"); null: not one of this form's. */
export function problemField(section: Section, problem: Problem): string | null {
  if (problem.form_field == null || problem.form_field === "") return null;
  const path = problem.form_field.replace(/\[\d+\].*$/, "");
  return FIELDS[section].some((f) => f.path === path) ? path : null;
}

/** Problems split into those shown next to a field and the rest (shown above the form). */
export function sortProblems(
  section: Section,
  problems: Problem[],
): { byField: Record<string, string>; general: string[] } {
  const byField: Record<string, string> = {};
  const general: string[] = [];
  for (const p of problems) {
    const field = problemField(section, p);
    if (field && !(field in byField)) byField[field] = p.message;
    else general.push(p.text);
  }
  return { byField, general };
}
