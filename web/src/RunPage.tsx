// Run a command on one host, a group or a hand-picked set; each run is followed below.

import { useEffect, useMemo, useState } from "preact/hooks";
import { getJSON, postJSON } from "./api";
import { type CommandForm, type Job, type TargetMode, commandBody } from "./control";
import { t } from "./i18n";
import { RunOutput } from "./RunOutput";
import type { Target } from "./types";

const KEEP_RUNS = 5;

/** The hosts commands and tunnels can reach: GET /api/targets (~20 kB for 254 hosts, not
 *  /api/hosts' 1.6 MB) less SNMP gear, which runs no commands. */
export function loadRunnable(): Promise<Target[]> {
  return getJSON<Target[]>("/api/targets").then((all) => all.filter((h) => h.kind !== "snmp"));
}

function HostPicker({
  names,
  picked,
  onChange,
}: {
  names: string[];
  picked: string[];
  onChange: (next: string[]) => void;
}) {
  const [filter, setFilter] = useState("");
  const shown = names.filter((n) => n.toLowerCase().includes(filter.trim().toLowerCase()));
  const chosen = new Set(picked);
  return (
    <div class="picker">
      <div class="picker-bar">
        <input type="search" placeholder={t("filterHosts")} value={filter} onInput={(e) => setFilter(e.currentTarget.value)} />
        <button type="button" class="ghost" onClick={() => onChange([...new Set([...picked, ...shown])])}>
          {t("selectShown")}
        </button>
        <button type="button" class="ghost" onClick={() => onChange([])}>
          {t("clearPicked")}
        </button>
        <small>{t("pickedCount", { n: picked.length })}</small>
      </div>
      <div class="picker-list">
        {shown.map((name) => (
          <label key={name} class="check">
            <input
              type="checkbox"
              name="pick"
              value={name}
              checked={chosen.has(name)}
              onChange={(e) => onChange(e.currentTarget.checked ? [...picked, name] : picked.filter((p) => p !== name))}
            />
            {name}
          </label>
        ))}
      </div>
    </div>
  );
}

export function RunPage({ hosts: preset, group: presetGroup }: { hosts: string[]; group: string | null }) {
  const [hosts, setHosts] = useState<Target[] | null>(null);
  const [form, setForm] = useState<CommandForm>({
    mode: preset.length > 1 ? "picked" : presetGroup ? "group" : "host",
    host: preset[0] ?? "",
    group: presetGroup ?? "",
    picked: preset,
    command: "",
    timeoutS: 60,
    sudo: false,
  });
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [runs, setRuns] = useState<Job[]>([]);

  useEffect(() => {
    loadRunnable()
      .then(setHosts)
      .catch((exc: Error) => setError(exc.message));
  }, []);

  const names = useMemo(() => (hosts ?? []).map((h) => h.name), [hosts]);
  const groups = useMemo(() => [...new Set((hosts ?? []).flatMap((h) => h.groups ?? []))], [hosts]);
  // Until one is chosen: the first host and group once the lists are known.
  const host = form.host || names[0] || "";
  const group = form.group || groups[0] || "";

  const set = (patch: Partial<CommandForm>) => setForm((f) => ({ ...f, ...patch }));
  const submit = (event: Event) => {
    event.preventDefault();
    const body = commandBody({ ...form, host, group });
    if ("missing" in body) {
      setError(t(body.missing));
      return;
    }
    setError(null);
    setBusy(true);
    postJSON<Job>("/api/commands", body)
      .then((job) => setRuns((r) => [job, ...r].slice(0, KEEP_RUNS)))
      .catch((exc: Error) => setError(exc.message))
      .finally(() => setBusy(false));
  };

  const modes: [TargetMode, string][] = [
    ["host", t("oneHost")],
    ["group", t("aGroup")],
    ["picked", t("handPicked")],
  ];
  return (
    <section class="control-page">
      <form class="panel run-form" onSubmit={submit}>
        <h2>{t("runTitle")}</h2>
        <fieldset class="modes">
          <legend>{t("target")}</legend>
          {modes.map(([mode, label]) => (
            <label class="check" key={mode}>
              <input type="radio" name="mode" value={mode} checked={form.mode === mode} onChange={() => set({ mode })} />
              {label}
            </label>
          ))}
          {form.mode === "host" && (
            <select name="host" value={host} onChange={(e) => set({ host: e.currentTarget.value })}>
              {names.map((n) => (
                <option key={n} value={n}>
                  {n}
                </option>
              ))}
            </select>
          )}
          {form.mode === "group" && (
            <select name="group" value={group} onChange={(e) => set({ group: e.currentTarget.value })}>
              {groups.map((g) => (
                <option key={g} value={g}>
                  {g}
                </option>
              ))}
            </select>
          )}
        </fieldset>
        {form.mode === "picked" && <HostPicker names={names} picked={form.picked} onChange={(picked) => set({ picked })} />}
        <div class="command-line">
          <label class="grow">
            {t("command")}
            <input
              name="command"
              autocomplete="off"
              spellcheck={false}
              placeholder="uptime"
              value={form.command}
              onInput={(e) => set({ command: e.currentTarget.value })}
            />
          </label>
          <label>
            {t("timeoutS")}
            <input
              name="timeout"
              type="number"
              min="1"
              step="1"
              value={form.timeoutS}
              onInput={(e) => set({ timeoutS: e.currentTarget.valueAsNumber })}
            />
          </label>
          <label class="check">
            <input type="checkbox" name="sudo" checked={form.sudo} onChange={(e) => set({ sudo: e.currentTarget.checked })} />
            {t("sudo")}
          </label>
          <button type="submit" disabled={busy}>
            {t("run")}
          </button>
        </div>
        {error && (
          <p class="error" role="alert">
            {error}
          </p>
        )}
      </form>
      {runs.map((job) => (
        <RunOutput key={job.id} job={job} />
      ))}
    </section>
  );
}
