// Scheduled jobs (issue 18): each job's schedule and next run, its last run and each
// target's last result; operators get Run now, Pause/Resume and the live output of a run.
// The history below lists every run, missed ones included, with who or what started it.

import { useEffect, useRef, useState } from "preact/hooks";
import { getJSON, postJSON, wsUrl } from "./api";
import { ago, duration } from "./format";
import { t } from "./i18n";
import {
  type JobInfo,
  type JobRun,
  type LiveRun,
  type RunMessage,
  type TargetResult,
  foldRun,
  nextRunText,
  startLive,
  stateBadge,
} from "./jobs";
import "./control.css";
import "./jobs.css";

const REFRESH_MS = 5000;

function when(ts: number | null): string {
  return ts == null ? "–" : new Date(ts * 1000).toLocaleString();
}

function targetTitle(host: string, r: TargetResult): string {
  const how = r.error ?? (r.exit_signal ? `signal ${r.exit_signal}` : `exit ${r.exit_status}`);
  return `${host}: ${r.state} (${how}, ${(r.duration_ms / 1000).toFixed(2)} s)`;
}

function useLive(runId: string | null, job: string, hosts: string[]): LiveRun | null {
  const [run, setRun] = useState<LiveRun | null>(null);
  useEffect(() => {
    if (!runId) return;
    setRun(startLive(runId, job, hosts));
    const socket = new WebSocket(wsUrl(`/api/job-runs/${encodeURIComponent(runId)}/stream`));
    let pending: RunMessage[] = [];
    let frame = 0;
    const flush = () => {
      frame = 0;
      const batch = pending;
      pending = [];
      if (batch.length) setRun((r) => (r ? foldRun(r, batch) : r));
    };
    socket.onmessage = (message) => {
      try {
        pending.push(JSON.parse(message.data as string) as RunMessage);
      } catch {
        return;
      }
      if (!frame) frame = requestAnimationFrame(flush);
    };
    socket.onclose = (close) => {
      if (frame) cancelAnimationFrame(frame);
      flush();
      setRun((r) =>
        r && r.state == null && !r.error ? { ...r, error: t("jobStreamClosed", { code: close.code }) } : r,
      );
    };
    return () => {
      socket.onclose = null;
      if (frame) cancelAnimationFrame(frame);
      socket.close();
    };
  }, [runId]);
  return run;
}

function LiveOutput({ runId, job, hosts, onDone }: { runId: string; job: string; hosts: string[]; onDone: () => void }) {
  const run = useLive(runId, job, hosts);
  const done = run?.state != null;
  useEffect(() => {
    if (done) onDone();
  }, [done]);
  if (!run) return null;
  return (
    <section class="panel run job-live" data-run={runId} data-state={run.state ?? "running"}>
      <header class="run-head">
        <h3>{t("jobRunOf", { job, run: runId })}</h3>
        <span class={`badge ${stateBadge(run.state)}`} id="job-live-state">
          {run.state ?? t("running")}
        </span>
        {!done && (
          <button class="danger" onClick={() => postJSON(`/api/job-runs/${encodeURIComponent(runId)}/cancel`).catch(() => {})}>
            {t("cancel")}
          </button>
        )}
      </header>
      {run.error && <p class="error">{run.error}</p>}
      <div class="run-hosts">
        {run.hosts.map((h) => (
          <article key={h.host} class="run-host" data-host={h.host} data-state={h.state ?? "running"}>
            <header>
              <b>{h.host}</b>
              <span class={`badge ${stateBadge(h.state)}`}>{h.state ? h.summary : t("running")}</span>
            </header>
            <pre class="out">{h.text || (h.state ? <span class="muted">{t("noOutput")}</span> : "")}</pre>
          </article>
        ))}
      </div>
    </section>
  );
}

function JobRow({
  job,
  now,
  operate,
  onRun,
  onSwitch,
}: {
  job: JobInfo;
  now: number;
  operate: boolean;
  onRun: (job: JobInfo) => void;
  onSwitch: (job: JobInfo) => void;
}) {
  const last = job.last_run;
  const words = { paused: t("jobPaused"), byHand: t("jobByHand"), in: (d: string) => t("jobIn", { d }) };
  return (
    <tr data-job={job.name} class={job.enabled ? "" : "muted"}>
      <td>
        <b>{job.name}</b>
        {job.description && <div class="muted small-text">{job.description}</div>}
        <div class="job-what">
          <code>{job.action ? `${job.action} ${Object.entries(job.params).map(([k, v]) => `${k}=${v}`).join(" ")}` : job.command}</code>
        </div>
      </td>
      <td>{job.schedule}</td>
      <td class="when" data-next title={when(job.next_run)}>
        {nextRunText(job, now, words, duration)}
        {job.running && <div class="badge idle">{t("running")}</div>}
      </td>
      <td data-last>
        {last ? (
          <>
            <span class={`badge ${stateBadge(last.state)}`}>{last.state}</span>{" "}
            <small title={when(last.started ?? last.scheduled)}>
              {t("jobAgoBy", { ago: ago(last.ended ?? last.started ?? last.scheduled, now), who: last.requested_by })}
            </small>
            {last.note && <div class="muted small-text">{last.note}</div>}
          </>
        ) : (
          <span class="muted">{t("jobNever")}</span>
        )}
      </td>
      <td>
        <div class="job-targets">
        {job.targets.map((host) => {
          const r = job.last_results[host];
          return (
            <span key={host} class={`chip ${r ? stateBadge(r.state) : "idle"}`} data-target={host} title={r ? targetTitle(host, r) : host}>
              {host}
            </span>
          );
        })}
        </div>
      </td>
      {operate && (
        <td>
          <div class="job-buttons">
          <button class="run-now" onClick={() => onRun(job)} disabled={!job.enabled}>
            {t("jobRunNow")}
          </button>
          {job.schedule !== "by hand" && (
            <button class="ghost" onClick={() => onSwitch(job)}>
              {job.paused ? t("jobResume") : t("jobPause")}
            </button>
          )}
          </div>
        </td>
      )}
    </tr>
  );
}

export function JobsPage({ operate }: { operate: boolean }) {
  const [jobs, setJobs] = useState<JobInfo[] | null>(null);
  const [runs, setRuns] = useState<JobRun[]>([]);
  const [error, setError] = useState<string | null>(null);
  const [reloads, setReloads] = useState(0);
  const [live, setLive] = useState<{ runId: string; job: string; hosts: string[] } | null>(null);
  const liveRef = useRef(live);
  liveRef.current = live;

  useEffect(() => {
    let current = true;
    const load = () =>
      Promise.all([getJSON<JobInfo[]>("/api/jobs"), getJSON<JobRun[]>("/api/job-runs?limit=20")])
        .then(([list, history]) => {
          if (!current) return;
          setJobs(list);
          setRuns(history);
          setError(null);
          // A run going that nobody here started: follow it (operators only may read output).
          const going = list.find((j) => j.running);
          if (operate && going?.running && !liveRef.current) setLive({ runId: going.running, job: going.name, hosts: going.targets });
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
  const run = (job: JobInfo) => {
    postJSON<{ run_id: string }>(`/api/jobs/${encodeURIComponent(job.name)}/run`)
      .then((started) => setLive({ runId: started.run_id, job: job.name, hosts: job.targets }))
      .catch((exc: Error) => setError(exc.message));
  };
  const flip = (job: JobInfo) => {
    postJSON(`/api/jobs/${encodeURIComponent(job.name)}/${job.paused ? "resume" : "pause"}`)
      .catch((exc: Error) => setError(exc.message))
      .finally(reload);
  };
  const now = Date.now() / 1000;
  return (
    <section class="control-page jobs">
      <div class="panel">
        <div class="toolbar">
          <h2>{t("jobsTitle")}</h2>
          <button class="ghost" onClick={reload}>
            {t("refresh")}
          </button>
        </div>
        <p class="muted">{t("jobsHint")}</p>
        {error && <p class="error">{error}</p>}
        {jobs === null && !error && <p class="muted">{t("loading")}</p>}
        {jobs?.length === 0 && <p class="muted">{t("noJobs")}</p>}
        {jobs && jobs.length > 0 && (
          <div class="scroll-x">
            <table class="small job-list">
              <thead>
                <tr>
                  <th>{t("jobName")}</th>
                  <th>{t("jobSchedule")}</th>
                  <th>{t("jobNextRun")}</th>
                  <th>{t("jobLastRun")}</th>
                  <th>{t("jobTargets")}</th>
                  {operate && <th />}
                </tr>
              </thead>
              <tbody>
                {jobs.map((job) => (
                  <JobRow key={job.name} job={job} now={now} operate={operate} onRun={run} onSwitch={flip} />
                ))}
              </tbody>
            </table>
          </div>
        )}
      </div>
      {live && <LiveOutput key={live.runId} runId={live.runId} job={live.job} hosts={live.hosts} onDone={reload} />}
      <div class="panel">
        <h3>{t("jobHistory")}</h3>
        {runs.length === 0 ? (
          <p class="muted">{t("noRuns")}</p>
        ) : (
          <div class="scroll-x">
            <table class="small run-history">
              <thead>
                <tr>
                  <th>{t("jobName")}</th>
                  <th>{t("jobTrigger")}</th>
                  <th>{t("who")}</th>
                  <th>{t("jobDue")}</th>
                  <th>{t("jobStarted")}</th>
                  <th>{t("jobSeconds")}</th>
                  <th>{t("state")}</th>
                  <th>{t("jobNote")}</th>
                </tr>
              </thead>
              <tbody>
                {runs.map((r) => (
                  <tr key={r.run_id} data-run={r.run_id}>
                    <td>{r.job}</td>
                    <td>{r.trigger === "manual" ? t("jobManual") : t("jobScheduled")}</td>
                    <td>{r.requested_by}</td>
                    <td class="when">{when(r.scheduled)}</td>
                    <td class="when">{when(r.started)}</td>
                    <td class="num">{r.duration_s == null ? "–" : r.duration_s.toFixed(1)}</td>
                    <td>
                      <span class={`badge ${stateBadge(r.state)}`}>{r.state}</span>
                    </td>
                    <td class="muted">{r.note ?? ""}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </div>
    </section>
  );
}
