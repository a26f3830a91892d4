// Hosts, SNMP gear, groups and subnets (issue 19): the entries of inventory.yaml, a form to
// add or change one (the server's problems next to their field), remove, "test connection"
// for a host, and "trust new host key" for a host whose key changed. Admins only: the page is
// not shown to others, and the server refuses them anyway.

import { useEffect, useState } from "preact/hooks";
import { HttpError, deleteJSON, getJSON, postJSON } from "./api";
import { stateClass } from "./format";
import {
  type Entry,
  FIELDS,
  type Problem,
  type Section,
  type Values,
  fromValues,
  sortProblems,
  toValues,
} from "./setupForms";
import { st } from "./setupText";

interface Listing {
  file: string;
  version: string;
  hosts: Entry[];
  snmp: Entry[];
  groups: Entry[];
  subnets: Entry[];
}
interface HostRow {
  name: string;
  state: string;
}
interface Saved {
  version: string;
  edits: string[];
}
interface TestResult {
  ok: boolean;
  local?: boolean;
  os?: string | null;
  fingerprint?: string | null;
  key?: "known" | "new" | "changed";
  recorded?: string[];
  state?: string;
  error?: string;
}
interface HostKeys {
  recorded: string[];
  offered: string;
  key_type: string;
  address: string;
}

function problemsOf(exc: Error): Problem[] {
  const detail = exc instanceof HttpError ? (exc.detail as { problems?: Problem[] } | undefined) : undefined;
  return Array.isArray(detail?.problems) ? detail.problems : [];
}

function summary(section: Section, entry: Entry): string {
  const ssh = (entry.ssh ?? {}) as Entry;
  const parts: string[] = [];
  if (section === "groups") {
    for (const [key, value] of Object.entries(ssh)) parts.push(`ssh.${key}=${String(value)}`);
    if (entry.os) parts.push(`os=${String(entry.os)}`);
  } else if (section === "subnets") {
    parts.push(String(entry.cidr ?? ""));
    if (entry.sweep === false) parts.push("sweep: off");
  } else {
    if (Array.isArray(entry.groups) && entry.groups.length) parts.push(entry.groups.join(", "));
    if (Array.isArray(entry.tags) && entry.tags.length) parts.push(`#${entry.tags.join(" #")}`);
    if (entry.local) parts.push("local");
    if (ssh.user) parts.push(`${String(ssh.user)}@`);
    if (section === "snmp") parts.push(`v${String(entry.version ?? "2c")}`);
  }
  return parts.join(" · ");
}

function FieldInput({
  section,
  path,
  values,
  error,
  onChange,
}: {
  section: Section;
  path: string;
  values: Values;
  error: string | undefined;
  onChange: (path: string, value: string | boolean) => void;
}) {
  const field = FIELDS[section].find((f) => f.path === path)!;
  const id = `f-${section}-${path.replace(/\./g, "-")}`;
  const value = values[path];
  let input;
  if (field.kind === "bool")
    input = (
      <input id={id} name={path} type="checkbox" checked={value === true} onChange={(e) => onChange(path, e.currentTarget.checked)} />
    );
  else if (field.kind === "choice")
    input = (
      <select id={id} name={path} value={String(value)} onChange={(e) => onChange(path, e.currentTarget.value)}>
        <option value="">–</option>
        {field.choices!.map((c) => (
          <option key={c} value={c}>
            {c}
          </option>
        ))}
      </select>
    );
  else
    input = (
      <input
        id={id}
        name={path}
        value={String(value)}
        placeholder={field.placeholder ?? (field.kind === "list" ? "a, b" : "")}
        inputMode={field.kind === "number" ? "numeric" : undefined}
        autocomplete="off"
        aria-invalid={error ? "true" : undefined}
        onInput={(e) => onChange(path, e.currentTarget.value)}
      />
    );
  return (
    <label class={`field${error ? " invalid" : ""}${field.kind === "bool" ? " flag" : ""}`} data-field={path} for={id}>
      <span class="field-name">{path}</span>
      {input}
      {error && (
        <span class="field-error" role="alert">
          {error}
        </span>
      )}
    </label>
  );
}

function TestOutcome({ result }: { result: TestResult }) {
  if (!result.ok)
    return (
      <p class="test-result error" data-ok="false">
        {st("testFailed", { state: result.state ?? "error", error: result.error ?? "" })}
      </p>
    );
  if (result.local)
    return (
      <p class="test-result ok" data-ok="true">
        {st("testLocal", { os: result.os ?? "?" })}
      </p>
    );
  const fp = result.fingerprint ?? "?";
  const key =
    result.key === "known"
      ? st("keyKnown", { fp })
      : result.key === "changed"
        ? st("keyChanged", { fp, old: (result.recorded ?? []).join(", ") })
        : st("keyNew", { fp });
  return (
    <div class={`test-result ${result.key === "changed" ? "warn" : "ok"}`} data-ok="true" data-key={result.key}>
      <b>{st("testOk", { os: result.os ?? "?" })}</b>
      <div class="fingerprint">{key}</div>
    </div>
  );
}

function EntryForm({
  section,
  entry,
  name,
  version,
  onSaved,
  onCancel,
}: {
  section: Section;
  entry: Entry;
  name: string | null; // null: a new entry
  version: string;
  onSaved: (saved: Saved) => void;
  onCancel: () => void;
}) {
  const [values, setValues] = useState<Values>(() => toValues(section, entry));
  const [byField, setByField] = useState<Record<string, string>>({});
  const [general, setGeneral] = useState<string[]>([]);
  const [error, setError] = useState<string | null>(null);
  const [conflict, setConflict] = useState(false);
  const [busy, setBusy] = useState(false);
  const [tested, setTested] = useState<TestResult | null>(null);

  const refused = (exc: Error) => {
    const problems = problemsOf(exc);
    const sorted = sortProblems(section, problems);
    setByField(sorted.byField);
    setGeneral(sorted.general);
    setConflict(exc instanceof HttpError && exc.status === 409);
    setError(problems.length && !sorted.general.length ? st("fieldError") : exc.message);
  };
  const clear = () => {
    setByField({});
    setGeneral([]);
    setError(null);
  };
  const body = () => fromValues(section, entry, values);

  const submit = (event: Event) => {
    event.preventDefault();
    clear();
    setBusy(true);
    const path = name === null ? `/api/admin/inventory/${section}` : `/api/admin/inventory/${section}/${encodeURIComponent(name)}`;
    postJSON<Saved>(path, { version, entry: body() }, name === null ? "POST" : "PUT")
      .then(onSaved)
      .catch(refused)
      .finally(() => setBusy(false));
  };
  const test = () => {
    clear();
    setTested(null);
    setBusy(true);
    postJSON<TestResult>("/api/admin/inventory/test", { entry: body(), name })
      .then(setTested)
      .catch(refused)
      .finally(() => setBusy(false));
  };
  const change = (path: string, value: string | boolean) => {
    setValues({ ...values, [path]: value });
    if (byField[path]) {
      const rest = { ...byField };
      delete rest[path];
      setByField(rest);
    }
  };
  return (
    <form class="panel entry-form" data-section={section} data-editing={name ?? ""} onSubmit={submit}>
      <h3>{name === null ? `${st("add")}: ${st(TAB_LABEL[section])}` : `${st("edit")}: ${name}`}</h3>
      {error && (
        <div class="error form-error" role="alert" data-conflict={conflict ? "true" : "false"}>
          <p>{error}</p>
          {general.length > 0 && (
            <ul>
              {general.map((g) => (
                <li key={g}>{g}</li>
              ))}
            </ul>
          )}
        </div>
      )}
      <div class="fields">
        {FIELDS[section].map((f) => (
          <FieldInput key={f.path} section={section} path={f.path} values={values} error={byField[f.path]} onChange={change} />
        ))}
      </div>
      {tested && <TestOutcome result={tested} />}
      <div class="toolbar form-buttons">
        <button type="submit" id="save-entry" disabled={busy}>
          {st("save")}
        </button>
        {section === "hosts" && (
          <button type="button" class="ghost" id="test-connection" disabled={busy} onClick={test}>
            {busy ? st("testing") : st("testConnection")}
          </button>
        )}
        <button type="button" class="ghost" onClick={onCancel}>
          {st("cancel")}
        </button>
      </div>
    </form>
  );
}

function TrustKey({ name, onDone }: { name: string; onDone: () => void }) {
  const [keys, setKeys] = useState<HostKeys | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [done, setDone] = useState<string | null>(null);
  useEffect(() => {
    getJSON<HostKeys>(`/api/admin/hosts/${encodeURIComponent(name)}/hostkey`)
      .then(setKeys)
      .catch((exc: Error) => setError(exc.message));
  }, [name]);
  const trust = () => {
    if (!keys) return;
    postJSON<{ new: string }>(`/api/admin/hosts/${encodeURIComponent(name)}/hostkey`, { fingerprint: keys.offered })
      .then((r) => setDone(st("trusted", { fp: r.new })))
      .catch((exc: Error) => setError(exc.message));
  };
  return (
    <div class="panel trust-key" data-host={name}>
      <h3>
        {st("trustKey")}: {name} <small>{keys?.address}</small>
      </h3>
      {error && <p class="error">{error}</p>}
      {keys && (
        <dl>
          <dt>{st("oldKeys")}</dt>
          <dd class="old-key">{keys.recorded.join(", ") || "–"}</dd>
          <dt>{st("newKey")}</dt>
          <dd class="new-key">
            {keys.offered} <small>{keys.key_type}</small>
          </dd>
        </dl>
      )}
      {done && <p class="ok">{done}</p>}
      <div class="toolbar">
        {!done && keys && (
          <button id="trust-confirm" onClick={trust}>
            {st("trustConfirm")}
          </button>
        )}
        <button class="ghost" onClick={onDone}>
          {st("close")}
        </button>
      </div>
    </div>
  );
}

export const TAB_LABEL = {
  hosts: "tabHosts",
  snmp: "tabGear",
  groups: "tabGroups",
  subnets: "tabSubnets",
} as const;

export function InventoryTab({ section }: { section: Section }) {
  const [listing, setListing] = useState<Listing | null>(null);
  const [states, setStates] = useState<Record<string, string>>({});
  const [error, setError] = useState<string | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [editing, setEditing] = useState<{ name: string | null; entry: Entry } | null>(null);
  const [trusting, setTrusting] = useState<string | null>(null);
  const [reloads, setReloads] = useState(0);

  useEffect(() => {
    setError(null);
    getJSON<Listing>("/api/admin/inventory")
      .then(setListing)
      .catch((exc: Error) => setError(exc.message));
    if (section === "hosts")
      getJSON<HostRow[]>("/api/hosts")
        .then((rows) => setStates(Object.fromEntries(rows.map((r) => [r.name, r.state]))))
        .catch(() => {});
  }, [reloads, section]);

  const reload = () => setReloads((n) => n + 1);
  const saved = (result: Saved) => {
    setEditing(null);
    setNotice(result.edits.length ? st("saved", { edits: result.edits.join("; ") }) : st("nothingChanged"));
    reload();
  };
  const remove = (name: string) => {
    if (!listing || !confirm(st("confirmRemove", { name }))) return;
    const path = `/api/admin/inventory/${section}/${encodeURIComponent(name)}?version=${listing.version}`;
    deleteJSON<Saved>(path)
      .then(saved)
      .catch((exc: Error) => setError([exc.message, ...problemsOf(exc).map((p) => p.text)].join("\n")));
  };
  const entries = listing ? listing[section] : [];
  return (
    <div class="setup-inventory" data-section={section}>
      {listing && <p class="muted">{st("fileIs", { file: listing.file })}</p>}
      {error && <p class="error pre">{error}</p>}
      {notice && (
        <p class="ok" id="setup-notice">
          {notice}
        </p>
      )}
      <div class="toolbar">
        <button id="add-entry" disabled={!listing} onClick={() => setEditing({ name: null, entry: {} })}>
          {st("add")}
        </button>
        <button class="ghost" onClick={reload}>
          {st("reloadPage")}
        </button>
      </div>
      {editing && listing && (
        <EntryForm
          key={`${editing.name}-${listing.version}`}
          section={section}
          entry={editing.entry}
          name={editing.name}
          version={listing.version}
          onSaved={saved}
          onCancel={() => setEditing(null)}
        />
      )}
      {trusting && (
        <TrustKey
          name={trusting}
          onDone={() => {
            setTrusting(null);
            reload();
          }}
        />
      )}
      {listing && entries.length === 0 && <p class="muted">{st("noEntries")}</p>}
      {entries.length > 0 && (
        <div class="scroll-x">
          <table class="small entry-list">
            <thead>
              <tr>
                <th>{st("name")}</th>
                {section !== "groups" && <th>{section === "subnets" ? "cidr" : st("address")}</th>}
                {section === "hosts" && <th>{st("state")}</th>}
                <th class="wide">{st("detail")}</th>
                <th />
              </tr>
            </thead>
            <tbody>
              {entries.map((entry) => {
                const name = String(entry.name ?? "");
                const state = states[name];
                return (
                  <tr key={name} data-name={name}>
                    <td>
                      <b>{name}</b>
                    </td>
                    {section !== "groups" && <td>{String(section === "subnets" ? (entry.cidr ?? "") : (entry.address ?? ""))}</td>}
                    {section === "hosts" && <td>{state && <span class={`badge ${stateClass(state)}`}>{state}</span>}</td>}
                    <td class="wide muted">{summary(section, entry)}</td>
                    <td class="actions">
                      <button class="ghost edit-entry" onClick={() => setEditing({ name, entry })}>
                        {st("edit")}
                      </button>
                      {state === "hostkey-changed" && (
                        <button class="trust-entry" onClick={() => setTrusting(name)}>
                          {st("trustKey")}
                        </button>
                      )}
                      <button class="ghost remove-entry" onClick={() => remove(name)}>
                        {st("remove")}
                      </button>
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      )}
    </div>
  );
}
