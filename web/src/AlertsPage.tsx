// The Alerts page: active alerts (ack, silence a host), history, silences, rules and
// notification channels (status and "send test"); desktop notifications are switched on here.

import { useEffect, useState } from "preact/hooks";
import { deleteJSON, getJSON, postJSON } from "./api";
import {
  type Alert,
  type ChannelStatus,
  type RuleRow,
  type SilenceRow,
  parseMatchers,
  severityClass,
  where,
} from "./alerts";
import { type Key, getLang, t } from "./i18n";
import { dateTime } from "./format";

const TABS = [
  ["active", "alertsActive"],
  ["history", "alertsHistory"],
  ["silences", "alertsSilences"],
  ["rules", "alertsRules"],
  ["channels", "alertsChannels"],
] as const;

function when(ts: number | null): string {
  return ts ? dateTime(ts, getLang()) : "–";
}

function useLoad<T>(path: string, reloads: number): [T | null, string | null] {
  const [data, setData] = useState<T | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    let current = true;
    getJSON<T>(path)
      .then((d) => {
        if (!current) return;
        setData(d);
        setError(null);
      })
      .catch((exc: Error) => current && setError(exc.message));
    return () => {
      current = false;
    };
  }, [path, reloads]);
  return [data, error];
}

function AlertTable({ alerts, operate, onChange }: { alerts: Alert[]; operate: boolean; onChange: () => void }) {
  const [error, setError] = useState<string | null>(null);
  const act = (work: Promise<unknown>) =>
    work.then(onChange).catch((exc: Error) => setError(exc.message));
  if (!alerts.length) return <p class="muted">{t("noAlerts")}</p>;
  return (
    <div class="scroll-x">
      {error && <p class="error">{error}</p>}
      <table class="small alerts-table" id="alerts-table">
        <thead>
          <tr>
            <th>{t("alertStatus")}</th>
            <th>{t("alertSeverity")}</th>
            <th>{t("alertRule")}</th>
            <th>{t("alertWhere")}</th>
            <th>{t("alertValue")}</th>
            <th>{t("alertSince")}</th>
            <th>{t("alertNote")}</th>
            {operate && <th />}
          </tr>
        </thead>
        <tbody>
          {alerts.map((a) => (
            <tr key={a.id} data-alert={a.id} data-status={a.status}>
              <td>
                <span class={`badge ${a.status === "resolved" ? "ok" : severityClass(a.severity)}`}>{alertStatus(a.status)}</span>
              </td>
              <td>{a.severity}</td>
              <td title={a.summary}>
                {a.rule}
                <div class="muted">{a.summary}</div>
              </td>
              <td>
                <a href={`#/host/${encodeURIComponent(a.target)}`}>{where(a)}</a>
              </td>
              <td>{a.value === null ? "" : a.value.toPrecision(4)}</td>
              <td>{when(a.status === "resolved" ? a.resolved_at : a.since)}</td>
              <td>
                {a.ack_by && <span title={a.ack_comment ?? ""}>{t("ackedBy", { who: a.ack_by })} </span>}
                {a.silenced_by !== null && <span>{t("silencedBy", { id: a.silenced_by })}</span>}
              </td>
              {operate && (
                <td class="actions">
                  {a.status !== "resolved" && !a.ack_by && (
                    <button
                      class="ghost"
                      data-ack={a.id}
                      onClick={() => {
                        const comment = prompt(t("ackComment")) ?? "";
                        act(postJSON(`/api/alerts/${a.id}/ack`, { comment }));
                      }}
                    >
                      {t("ack")}
                    </button>
                  )}
                  {a.status !== "resolved" && a.silenced_by === null && (
                    <button
                      class="ghost"
                      onClick={() => {
                        const why = prompt(t("silenceWhy"));
                        if (why)
                          act(
                            postJSON("/api/alerts/silences", {
                              matchers: { host: a.target },
                              duration: "2h",
                              comment: why,
                            }),
                          );
                      }}
                    >
                      {t("silenceHost")}
                    </button>
                  )}
                </td>
              )}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function Silences({ operate, reloads, onChange }: { operate: boolean; reloads: number; onChange: () => void }) {
  const [rows, error] = useLoad<SilenceRow[]>("/api/alerts/silences", reloads);
  const [form, setForm] = useState({ matchers: "", duration: "2h", comment: "" });
  const [formError, setFormError] = useState<string | null>(null);
  const add = () => {
    const matchers = parseMatchers(form.matchers);
    if (!matchers) return setFormError(t("silenceMatchers"));
    postJSON("/api/alerts/silences", { matchers, duration: form.duration, comment: form.comment })
      .then(() => {
        setFormError(null);
        setForm({ ...form, matchers: "", comment: "" });
        onChange();
      })
      .catch((exc: Error) => setFormError(exc.message));
  };
  return (
    <>
      {operate && (
        <div class="toolbar filters">
          <input
            placeholder={t("silenceMatchers")}
            value={form.matchers}
            onInput={(e) => setForm({ ...form, matchers: e.currentTarget.value })}
          />
          <input
            class="short"
            placeholder={t("silenceFor")}
            value={form.duration}
            onInput={(e) => setForm({ ...form, duration: e.currentTarget.value })}
          />
          <input
            placeholder={t("silenceWhy")}
            value={form.comment}
            onInput={(e) => setForm({ ...form, comment: e.currentTarget.value })}
          />
          <button onClick={add}>{t("silenceAdd")}</button>
        </div>
      )}
      {(formError || error) && <p class="error">{formError ?? error}</p>}
      {rows?.length === 0 && <p class="muted">{t("noSilences")}</p>}
      {rows && rows.length > 0 && (
        <table class="small">
          <tbody>
            {rows.map((s) => (
              <tr key={s.id}>
                <td>#{s.id}</td>
                <td>
                  <code>{Object.entries(s.matchers).map(([k, v]) => `${k}=${v}`).join(", ")}</code>
                </td>
                <td>{t("silenceUntil", { when: when(s.ends) })}</td>
                <td>
                  {s.created_by}: {s.comment}
                </td>
                <td>
                  {operate && (
                    <button class="ghost" onClick={() => deleteJSON(`/api/alerts/silences/${s.id}`).then(onChange)}>
                      {t("silenceEnd")}
                    </button>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </>
  );
}

function Rules({ reloads }: { reloads: number }) {
  const [rows, error] = useLoad<RuleRow[]>("/api/alerts/rules", reloads);
  if (error) return <p class="error">{error}</p>;
  return (
    <table class="small">
      <thead>
        <tr>
          <th>{t("alertRule")}</th>
          <th>{t("ruleOrigin")}</th>
          <th />
        </tr>
      </thead>
      <tbody>
        {rows?.map((r) => (
          <tr key={r.name}>
            <td>{r.name}</td>
            <td>{r.origin}</td>
            <td>
              <code>{JSON.stringify(r.rule)}</code>
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function Channels({ admin, reloads, onChange }: { admin: boolean; reloads: number; onChange: () => void }) {
  const [rows, error] = useLoad<Record<string, ChannelStatus>>("/api/alerts/channels", reloads);
  const [note, setNote] = useState<Record<string, string>>({});
  if (error) return <p class="error">{error}</p>;
  const names = Object.keys(rows ?? {});
  if (rows && !names.length) return <p class="muted">{t("noChannels")}</p>;
  return (
    <table class="small" id="channels">
      <thead>
        <tr>
          <th>{t("alertsChannels")}</th>
          <th>{t("channelState")}</th>
          <th>{t("channelSent")}</th>
          <th>{t("channelQueued")}</th>
          <th>{t("channelError")}</th>
          {admin && <th />}
        </tr>
      </thead>
      <tbody>
        {names.map((name) => {
          const c = rows![name];
          return (
            <tr key={name}>
              <td>{name}</td>
              <td>
                <span class={`badge ${c.state === "ok" ? "ok" : c.state === "idle" ? "idle" : "bad"}`}>{c.state}</span>
              </td>
              <td>{c.sent}</td>
              <td>{c.queued}</td>
              <td>{c.last_error ?? ""}</td>
              {admin && (
                <td>
                  <button
                    class="ghost"
                    onClick={() =>
                      postJSON(`/api/alerts/channels/${encodeURIComponent(name)}/test`)
                        .then(() => setNote({ ...note, [name]: t("testSent") }))
                        .catch((exc: Error) => setNote({ ...note, [name]: exc.message }))
                        .finally(onChange)
                    }
                  >
                    {t("sendTest")}
                  </button>{" "}
                  {note[name]}
                </td>
              )}
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}

function DesktopSwitch() {
  const supported = typeof Notification !== "undefined";
  const [permission, setPermission] = useState(supported ? Notification.permission : "denied");
  if (!supported) return null;
  if (permission === "granted") return <span class="badge ok">{t("desktopEnabled")}</span>;
  if (permission === "denied") return <span class="muted">{t("desktopDenied")}</span>;
  return (
    <button class="ghost" id="desktop-notifications" onClick={() => Notification.requestPermission().then(setPermission)}>
      {t("desktopOn")}
    </button>
  );
}

/** base64url (the VAPID public key) → the bytes pushManager.subscribe wants. */
function keyBytes(text: string): Uint8Array<ArrayBuffer> {
  const b64 = text.replace(/-/g, "+").replace(/_/g, "/") + "=".repeat((4 - (text.length % 4)) % 4);
  const raw = atob(b64);
  const out = new Uint8Array(new ArrayBuffer(raw.length));
  for (let i = 0; i < raw.length; i++) out[i] = raw.charCodeAt(i);
  return out;
}

function PushSwitch() {
  const supported = "serviceWorker" in navigator && "PushManager" in window && window.isSecureContext;
  const [state, setState] = useState<string | null>(null);
  if (!supported) return null;
  const subscribe = async () => {
    try {
      const { public_key } = await getJSON<{ public_key: string }>("/api/alerts/push/key");
      const registration = await navigator.serviceWorker.ready;
      const sub = await registration.pushManager.subscribe({
        userVisibleOnly: true,
        applicationServerKey: keyBytes(public_key),
      });
      await postJSON("/api/alerts/push/subscriptions", sub.toJSON());
      setState(t("pushOn"));
    } catch (exc) {
      setState((exc as Error).message);
    }
  };
  return (
    <>
      <button class="ghost" id="push-subscribe" onClick={subscribe}>
        {t("pushSubscribe")}
      </button>
      {state && <span class="muted">{state}</span>}
    </>
  );
}

export function AlertsPage({ tab, role }: { tab: string; role: string }) {
  const [reloads, setReloads] = useState(0);
  const operate = role === "operator" || role === "admin";
  const reload = () => setReloads((n) => n + 1);
  useEffect(() => {
    const timer = setInterval(reload, 5000);
    return () => clearInterval(timer);
  }, []);
  const list = tab === "history" ? "history" : "active";
  const [alerts, error] = useLoad<Alert[]>(`/api/alerts?state=${list}`, reloads);
  return (
    <section class="control-page alerts">
      <div class="panel">
        <div class="toolbar">
          <h2>{t("alertsTitle")}</h2>
          <nav class="tabs">
            {TABS.map(([name, label]) => (
              <a key={name} href={`#/alerts?tab=${name}`} class={tab === name ? "on" : ""} id={`tab-${name}`}>
                {t(label)}
              </a>
            ))}
          </nav>
          <span class="spacer" />
          <DesktopSwitch />
          <PushSwitch />
        </div>
        {(tab === "active" || tab === "history") && (
          <>
            {error && <p class="error">{error}</p>}
            {alerts === null && !error && <p class="muted">{t("loading")}</p>}
            {alerts && <AlertTable alerts={alerts} operate={operate && tab === "active"} onChange={reload} />}
          </>
        )}
        {tab === "silences" && <Silences operate={operate} reloads={reloads} onChange={reload} />}
        {tab === "rules" && <Rules reloads={reloads} />}
        {tab === "channels" && <Channels admin={role === "admin"} reloads={reloads} onChange={reload} />}
      </div>
    </section>
  );
}

function alertStatus(status: string): string {
  const key = `alert_${status}`;
  return key === "alert_firing" || key === "alert_pending" || key === "alert_resolved" ? t(key as Key) : status;
}
