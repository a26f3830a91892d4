// Discovered addresses (adopt, ignore) and the settings that live outside the file (issue 19).

import { useEffect, useState } from "preact/hooks";
import { deleteJSON, getJSON, postJSON } from "./api";
import { ago, bytes, duration, ms, pct } from "./format";
import { st } from "./setupText";

interface Found {
  address: string;
  up: boolean;
  rtt_avg_ms: number | null;
  loss_pct: number | null;
  last_seen: number | null;
  mac: string | null;
  name: string | null; // reverse DNS, as the sweep stored it
  vendor: string | null;
  ignored: { by: string; at: number } | null;
}

function Adopt({ found, onDone }: { found: Found; onDone: (message: string | null, error: string | null) => void }) {
  const suggested = (found.name ?? "").split(".")[0].replace(/[^A-Za-z0-9_-]/g, "-");
  const [name, setName] = useState(suggested);
  const submit = (event: Event) => {
    event.preventDefault();
    postJSON<{ name: string }>(`/api/discovered/${encodeURIComponent(found.address)}/adopt`, { name }).then(
      (r) => onDone(st("adopted", { address: found.address, name: r.name }), null),
      (exc: Error) => onDone(null, exc.message),
    );
  };
  return (
    <form class="adopt" onSubmit={submit}>
      <input name="adopt-name" size={12} placeholder={st("adoptAs")} value={name} onInput={(e) => setName(e.currentTarget.value)} />
      <button type="submit" class="adopt-button">
        {st("adopt")}
      </button>
    </form>
  );
}

export function DiscoveredTab() {
  const [found, setFound] = useState<Found[] | null>(null);
  const [showIgnored, setShowIgnored] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [reloads, setReloads] = useState(0);
  useEffect(() => {
    getJSON<Found[]>("/api/admin/discovered").then(setFound, (exc: Error) => setError(exc.message));
  }, [reloads]);
  const reload = () => setReloads((n) => n + 1);
  const ignore = (address: string, on: boolean) => {
    const path = `/api/admin/discovered/${encodeURIComponent(address)}/ignore`;
    (on ? postJSON(path) : deleteJSON(path)).then(reload, (exc: Error) => setError(exc.message));
  };
  const now = Date.now() / 1000;
  const ignoredCount = found?.filter((f) => f.ignored).length ?? 0;
  const shown = found?.filter((f) => showIgnored || !f.ignored) ?? [];
  return (
    <div class="setup-discovered">
      <p class="muted">{st("discoveredHint")}</p>
      {error && (
        <p class="error" id="discovered-error">
          {error}
        </p>
      )}
      {notice && <p class="ok">{notice}</p>}
      <div class="toolbar">
        <button class="ghost" onClick={reload}>
          {st("refresh")}
        </button>
        {ignoredCount > 0 && (
          <label>
            <input type="checkbox" name="show-ignored" checked={showIgnored} onChange={(e) => setShowIgnored(e.currentTarget.checked)} />{" "}
            {st("showIgnored", { n: ignoredCount })}
          </label>
        )}
      </div>
      {found === null && !error && <p class="muted">{st("loading")}</p>}
      {found && shown.length === 0 && (
        <p class="muted" id="discovered-empty">
          {st("noneDiscovered")}
        </p>
      )}
      {shown.length > 0 && (
        <div class="scroll-x">
          <table class="small discovered-list">
            <thead>
              <tr>
                <th>{st("address")}</th>
                <th class="wide">{st("reverseName")}</th>
                <th class="wide">{st("mac")}</th>
                <th>{st("vendor")}</th>
                <th>{st("ping")}</th>
                <th class="wide">{st("lastSeen")}</th>
                <th />
              </tr>
            </thead>
            <tbody>
              {shown.map((f) => (
                <tr key={f.address} data-address={f.address} class={f.ignored ? "muted" : ""}>
                  <td class="address">
                    <span class={f.up ? "ok" : "bad"}>●</span> {f.address}
                  </td>
                  <td class="wide">{f.name ?? "–"}</td>
                  <td class="wide mono">{f.mac ?? "–"}</td>
                  <td class="vendor">{f.vendor ?? "–"}</td>
                  <td>
                    {ms(f.rtt_avg_ms)} <small>{pct(f.loss_pct, 0)}</small>
                  </td>
                  <td class="wide">{ago(f.last_seen, now)}</td>
                  <td class="actions">
                    {!f.ignored && (
                      <Adopt
                        found={f}
                        onDone={(message, failure) => {
                          setNotice(message);
                          setError(failure);
                          if (message) reload();
                        }}
                      />
                    )}
                    <button class="ghost ignore-button" onClick={() => ignore(f.address, !f.ignored)}>
                      {f.ignored ? st("showAgain") : st("ignore")}
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </div>
  );
}

interface Item {
  key: string;
  value: unknown;
  env: string;
}
interface SettingsView {
  how: string;
  retention: Item[];
  audit_keystrokes: Item;
  backups: Item;
  database: Item;
  inventory: Item;
  data_dir: { path: string; bytes: number; entries: { name: string; bytes: number }[]; env: string };
}

const TIER = { raw: "tierRaw", "1m": "tier1m", "1h": "tier1h", commands: "tierCommands" } as const;

export function SettingsTab() {
  const [view, setView] = useState<SettingsView | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    getJSON<SettingsView>("/api/admin/settings").then(setView, (exc: Error) => setError(exc.message));
  }, []);
  if (error) return <p class="error">{error}</p>;
  if (!view) return <p class="muted">{st("loading")}</p>;
  const row = (label: string, value: string, env: string, id?: string) => (
    <tr key={env + label} id={id}>
      <th>{label}</th>
      <td>{value}</td>
      <td>
        <code>{env}</code>
      </td>
    </tr>
  );
  return (
    <div class="setup-settings">
      <p class="muted">{st("settingsHint")}</p>
      <section class="panel">
        <div class="scroll-x">
          <table class="small settings-list">
            <thead>
              <tr>
                <th />
                <th>{st("value")}</th>
                <th>{st("variable")}</th>
              </tr>
            </thead>
            <tbody>
              {view.retention.map((r) =>
                row(`${st("retention")}: ${st(TIER[r.key as keyof typeof TIER] ?? "tierRaw")}`, duration(Number(r.value)), r.env),
              )}
              {row(st("auditKeystrokes"), view.audit_keystrokes.value ? st("on") : st("off"), view.audit_keystrokes.env, "keystrokes")}
              {row(st("backups"), String(view.backups.value), view.backups.env)}
              {row(st("database"), String(view.database.value), view.database.env)}
              {row(st("inventoryFile"), String(view.inventory.value), view.inventory.env)}
              {row(st("dataDir"), `${view.data_dir.path} (${bytes(view.data_dir.bytes)})`, view.data_dir.env, "data-dir")}
            </tbody>
          </table>
        </div>
      </section>
      <section class="panel">
        <h3>
          {st("what")} <small>{view.data_dir.path}</small>
        </h3>
        <table class="small usage-list">
          <tbody>
            {view.data_dir.entries.map((e) => (
              <tr key={e.name} data-entry={e.name}>
                <td>{e.name}</td>
                <td class="num">{bytes(e.bytes)}</td>
                <td class="bar-cell">
                  <span class="bar" style={{ width: `${view.data_dir.bytes ? (100 * e.bytes) / view.data_dir.bytes : 0}%` }} />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </section>
    </div>
  );
}
