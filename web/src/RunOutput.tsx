// One command run, followed live: per host its stdout/stderr as they come, then exit status
// and duration; Cancel while it runs. Messages are folded once per animation frame.

import { useEffect, useRef, useState } from "preact/hooks";
import { postJSON } from "./api";
import {
  type HostRun,
  type Job,
  type RunState,
  type StreamMessage,
  applyMessages,
  resultText,
  seconds,
  startRun,
  tally,
  wsUrl,
} from "./control";
import { t } from "./i18n";

const BADGE: Record<string, string> = {
  ok: "ok",
  failed: "bad",
  error: "bad",
  timeout: "warn",
  cancelled: "warn",
  running: "idle",
};

function useRun(job: Job): RunState {
  const [state, setState] = useState(() => startRun(job));
  useEffect(() => {
    setState(startRun(job));
    const socket = new WebSocket(wsUrl(`/api/commands/${encodeURIComponent(job.id)}/stream`));
    let pending: StreamMessage[] = [];
    let frame = 0;
    const flush = () => {
      frame = 0;
      const batch = pending;
      pending = [];
      if (batch.length) setState((s) => applyMessages(s, batch));
    };
    socket.onmessage = (message) => {
      try {
        pending.push(JSON.parse(message.data as string) as StreamMessage);
      } catch {
        return;
      }
      if (!frame) frame = requestAnimationFrame(flush);
    };
    socket.onclose = (close) => {
      if (frame) cancelAnimationFrame(frame);
      flush();
      // Closed before the done message: say so rather than show "running" for ever.
      setState((s) => (s.done ? s : { ...s, done: true, error: `output stream closed (${close.code}) before the end` }));
    };
    return () => {
      socket.onclose = null;
      if (frame) cancelAnimationFrame(frame);
      socket.close();
    };
  }, [job.id]);
  return state;
}

function HostOutput({ run, started, now }: { run: HostRun; started: number; now: number }) {
  const pre = useRef<HTMLPreElement>(null);
  const stick = useRef(true);
  useEffect(() => {
    if (stick.current && pre.current) pre.current.scrollTop = pre.current.scrollHeight;
  }, [run.chars, run.dropped]);
  const state = run.result?.state ?? "running";
  const duration = run.result ? run.result.duration_s : Math.max(0, now - started);
  return (
    <article class="run-host" data-host={run.host} data-state={state}>
      <header>
        <b>{run.host}</b>
        <span class={`badge ${BADGE[state]}`} data-exit>
          {run.result ? resultText(run.result) : t("running")}
        </span>
        <small data-duration>{seconds(duration)}</small>
      </header>
      <pre
        ref={pre}
        class="out"
        onScroll={(e) => {
          const el = e.currentTarget;
          stick.current = el.scrollHeight - el.scrollTop - el.clientHeight < 24;
        }}
      >
        {run.dropped > 0 && <span class="muted">{t("droppedChars", { n: run.dropped }) + "\n"}</span>}
        {run.chunks.map((c) => (c.stream === "stderr" ? <span class="stderr">{c.text}</span> : c.text))}
        {run.result && run.chars === 0 && <span class="muted">{t("noOutput")}</span>}
      </pre>
    </article>
  );
}

export function RunOutput({ job }: { job: Job }) {
  const state = useRun(job);
  const [now, setNow] = useState(() => Date.now() / 1000);
  const [cancelling, setCancelling] = useState(false);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    if (state.done) return;
    const timer = setInterval(() => setNow(Date.now() / 1000), 500);
    return () => clearInterval(timer);
  }, [state.done]);

  const counts = tally(state);
  const cancel = () => {
    setCancelling(true);
    postJSON(`/api/commands/${encodeURIComponent(job.id)}/cancel`).catch((exc: Error) => {
      setCancelling(false);
      setError(exc.message);
    });
  };
  return (
    <section class="panel run" data-run={job.id} data-done={String(state.done)}>
      <header class="run-head">
        <code>{job.command}</code>
        <small>{t("runBy", { action: job.action, actor: job.actor })}</small>
        <span class="run-summary">
          {t("runSummary", {
            ok: counts.ok,
            failed: counts.failed,
            other: counts.error + counts.timeout + counts.cancelled,
            running: counts.running,
          })}
        </span>
        {!state.done && (
          <button class="danger" data-cancel disabled={cancelling} onClick={cancel}>
            {cancelling ? t("cancelling") : t("cancel")}
          </button>
        )}
      </header>
      {(state.error || error) && <p class="error">{state.error ?? error}</p>}
      <div class="run-hosts">
        {state.hosts.map((run) => (
          <HostOutput key={run.host} run={run} started={job.started} now={now} />
        ))}
      </div>
    </section>
  );
}
