// The host page's control panel (operators): terminal, run a command, and the named actions
// with their parameters. The server validates every parameter; its 400 message is shown as is.

import { useEffect, useState } from "preact/hooks";
import { getJSON, postJSON } from "./api";
import { type Job, type Tunnel, tunnelRoute, tunnelUrl } from "./control";
import { t } from "./i18n";
import { RunOutput } from "./RunOutput";
import { OpenTunnel } from "./TunnelsPage";

interface ActionSpec {
  name: string;
  description: string;
  params: Record<string, string>; // name -> kind (service, package, word, integer)
  sudo: boolean;
  confirm: boolean;
}

function ActionForm({ host, action, onStarted }: { host: string; action: ActionSpec; onStarted: (job: Job) => void }) {
  const [values, setValues] = useState<Record<string, string>>({});
  const [confirm, setConfirm] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const submit = (event: Event) => {
    event.preventDefault();
    setError(null);
    setBusy(true);
    const params = Object.fromEntries(Object.keys(action.params).map((p) => [p, values[p] ?? ""]));
    postJSON<Job>(`/api/hosts/${encodeURIComponent(host)}/actions/${encodeURIComponent(action.name)}`, {
      params,
      confirm,
    })
      .then(onStarted)
      .catch((exc: Error) => setError(exc.message))
      .finally(() => setBusy(false));
  };

  return (
    <form class="action" data-action={action.name} onSubmit={submit}>
      <div class="action-name">
        <b>{action.name}</b>
        {action.sudo && <span class="badge idle">sudo</span>}
        <small>{action.description}</small>
      </div>
      {Object.entries(action.params).map(([param, kind]) => (
        <label key={param}>
          {param}
          <input
            name={param}
            placeholder={kind}
            autocomplete="off"
            value={values[param] ?? ""}
            onInput={(e) => setValues({ ...values, [param]: e.currentTarget.value })}
          />
        </label>
      ))}
      {action.confirm && (
        <label class="check">
          <input type="checkbox" name="confirm" checked={confirm} onChange={(e) => setConfirm(e.currentTarget.checked)} />
          {t("confirmAction")}
        </label>
      )}
      <button type="submit" disabled={busy}>
        {t("run")}
      </button>
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
    </form>
  );
}

export function HostControls({ name }: { name: string }) {
  const [actions, setActions] = useState<ActionSpec[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [job, setJob] = useState<Job | null>(null);
  const [tunnel, setTunnel] = useState<Tunnel | null>(null);
  const here = encodeURIComponent(name);

  useEffect(() => {
    let current = true;
    setActions(null);
    setError(null);
    setJob(null);
    setTunnel(null);
    getJSON<ActionSpec[]>(`/api/hosts/${here}/actions`)
      .then((list) => current && setActions(list))
      .catch((exc: Error) => current && setError(exc.message));
    return () => {
      current = false;
    };
  }, [name]);

  return (
    <section class="panel controls" id="controls">
      <div class="controls-bar">
        <h3>{t("control")}</h3>
        <a class="button" id="open-terminal" href={`#/terminal/${here}`}>
          {t("openTerminal")}
        </a>
        <a class="button" id="run-here" href={`#/run?host=${here}`}>
          {t("runHere")}
        </a>
      </div>
      {error && <p class="error">{error}</p>}
      {actions && (
        <details class="actions">
          <summary>
            {t("actions")} ({actions.length})
          </summary>
          {actions.length === 0 && <p class="muted">{t("noActions")}</p>}
          {actions.map((action) => (
            <ActionForm key={action.name} host={name} action={action} onStarted={setJob} />
          ))}
        </details>
      )}
      <details class="host-tunnels">
        <summary>{t("tunnelsTitle")}</summary>
        <OpenTunnel key={name} hosts={[name]} onOpened={setTunnel} />
        {tunnel && (
          <p id="tunnel-opened">
            {t("tunnelOpened")}{" "}
            <a href={tunnelUrl(tunnel)} target="_blank" rel="noreferrer">
              {tunnelRoute(tunnel)}
            </a>{" "}
            · <a href="#/tunnels">{t("allTunnels")}</a>
          </p>
        )}
      </details>
      {job && <RunOutput key={job.id} job={job} />}
    </section>
  );
}
