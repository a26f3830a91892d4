// Tunnels (issue 6): the open ones and the recently closed ones (with why), a close button,
// and a form that opens one. The form is also on the host page, with the host fixed.

import { useEffect, useState } from "preact/hooks";
import { deleteJSON, getJSON, postJSON } from "./api";
import { type Tunnel, type TunnelForm, tunnelBody, tunnelRoute, tunnelUrl } from "./control";
import { ago, bytes, dateTime } from "./format";
import { getLang, t } from "./i18n";
import { loadRunnable } from "./RunPage";

const REFRESH_MS = 5000; // byte counts and tunnels that ended with their host's connection

export function OpenTunnel({ hosts, onOpened }: { hosts: string[]; onOpened: (tunnel: Tunnel) => void }) {
  const [form, setForm] = useState<TunnelForm>({ host: hosts[0] ?? "", port: "", to: "", listenPort: "" });
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const host = form.host || hosts[0] || "";

  const submit = (event: Event) => {
    event.preventDefault();
    const body = tunnelBody({ ...form, host });
    if ("missing" in body) {
      setError(t(body.missing));
      return;
    }
    setError(null);
    setBusy(true);
    postJSON<Tunnel>("/api/tunnels", body)
      .then(onOpened)
      .catch((exc: Error) => setError(exc.message))
      .finally(() => setBusy(false));
  };
  const input = (key: "port" | "to" | "listenPort", placeholder: string, size: number) => (
    <input
      name={key}
      placeholder={placeholder}
      size={size}
      autocomplete="off"
      value={form[key]}
      onInput={(e) => setForm({ ...form, [key]: e.currentTarget.value })}
    />
  );
  return (
    <form class="tunnel-form toolbar" onSubmit={submit}>
      {hosts.length > 1 ? (
        <select name="host" value={host} onChange={(e) => setForm({ ...form, host: e.currentTarget.value })}>
          {hosts.map((name) => (
            <option key={name} value={name}>
              {name}
            </option>
          ))}
        </select>
      ) : (
        <b>{host}</b>
      )}
      {input("port", t("tunnelPort"), 6)}
      {input("to", "localhost", 14)}
      {input("listenPort", t("tunnelListenPort"), 14)}
      <button type="submit" id="open-tunnel" disabled={busy || !host}>
        {t("tunnelOpen")}
      </button>
      {error && (
        <span class="error" role="alert">
          {error}
        </span>
      )}
    </form>
  );
}

function TunnelRow({ tunnel, now, onClose }: { tunnel: Tunnel; now: number; onClose: (id: string) => void }) {
  const open = tunnel.state === "open";
  return (
    <tr data-id={tunnel.id} data-state={tunnel.state} class={open ? "" : "muted"}>
      <td>
        <a href={`#/host/${encodeURIComponent(tunnel.host)}`}>{tunnel.host}</a>
      </td>
      <td class="route">
        {open ? (
          <a href={tunnelUrl(tunnel)} target="_blank" rel="noreferrer">
            {tunnelRoute(tunnel)}
          </a>
        ) : (
          tunnelRoute(tunnel)
        )}
      </td>
      <td>{tunnel.opened_by || "–"}</td>
      <td class="when" title={dateTime(tunnel.opened_at, getLang())}>
        {ago(tunnel.opened_at, now)}
      </td>
      <td class="num">
        {tunnel.connections}
        {open && tunnel.active > 0 && <small> ({t("tunnelActive", { n: tunnel.active })})</small>}
      </td>
      <td class="num" title={t("tunnelBytesHint")}>
        ↑ {bytes(tunnel.bytes_to_host)} · ↓ {bytes(tunnel.bytes_from_host)}
      </td>
      <td>
        {open ? (
          <button class="ghost close-tunnel" onClick={() => onClose(tunnel.id)}>
            {t("tunnelClose")}
          </button>
        ) : (
          <span class="closed-reason">{t("tunnelClosed", { reason: tunnel.close_reason ?? "" })}</span>
        )}
      </td>
    </tr>
  );
}

export function TunnelsPage() {
  const [tunnels, setTunnels] = useState<Tunnel[] | null>(null);
  const [hosts, setHosts] = useState<string[]>([]);
  const [error, setError] = useState<string | null>(null);
  const [reloads, setReloads] = useState(0);

  useEffect(() => {
    loadRunnable()
      .then((all) => setHosts(all.map((h) => h.name)))
      .catch((exc: Error) => setError(exc.message));
  }, []);

  useEffect(() => {
    let current = true;
    const load = () =>
      getJSON<Tunnel[]>("/api/tunnels")
        .then((list) => {
          if (!current) return;
          setTunnels(list);
          setError(null);
        })
        .catch((exc: Error) => current && setError(exc.message));
    load();
    const timer = setInterval(load, REFRESH_MS);
    return () => {
      current = false;
      clearInterval(timer);
    };
  }, [reloads]);

  const reload = () => setReloads((n) => n + 1);
  const close = (id: string) => {
    deleteJSON<Tunnel>(`/api/tunnels/${encodeURIComponent(id)}`)
      .catch((exc: Error) => setError(exc.message))
      .finally(reload);
  };
  const now = Date.now() / 1000;
  return (
    <section class="control-page tunnels">
      <div class="panel">
        <div class="toolbar">
          <h2>{t("tunnelsTitle")}</h2>
          <button class="ghost" onClick={reload}>
            {t("refresh")}
          </button>
        </div>
        <p class="muted">{t("tunnelsHint")}</p>
        {hosts.length > 0 && <OpenTunnel key={hosts.join(",")} hosts={hosts} onOpened={reload} />}
        {error && <p class="error">{error}</p>}
        {tunnels === null && !error && <p class="muted">{t("loading")}</p>}
        {tunnels?.length === 0 && <p class="muted">{t("noTunnels")}</p>}
        {tunnels && tunnels.length > 0 && (
          <div class="scroll-x">
            <table class="small tunnel-list">
              <thead>
                <tr>
                  <th>{t("host")}</th>
                  <th>{t("tunnelRoute")}</th>
                  <th>{t("tunnelOpenedBy")}</th>
                  <th>{t("tunnelSince")}</th>
                  <th>{t("tunnelConnections")}</th>
                  <th>{t("tunnelBytes")}</th>
                  <th />
                </tr>
              </thead>
              <tbody>
                {tunnels.map((tunnel) => (
                  <TunnelRow key={tunnel.id} tunnel={tunnel} now={now} onClose={close} />
                ))}
              </tbody>
            </table>
          </div>
        )}
      </div>
    </section>
  );
}
