// The audit log: who did what, where, when, with what result; filters, and a check of the
// hash chain that names the first broken entry.

import { useEffect, useState } from "preact/hooks";
import { getJSON } from "./api";
import { type AuditEntry, type VerifyAnswer, auditQuery, auditWhat } from "./control";
import { getLang, t } from "./i18n";
import { dateTime } from "./format";

const LIMITS = [100, 500, 1000];

function Verify({ onBroken }: { onBroken: (id: number | null) => void }) {
  const [answer, setAnswer] = useState<VerifyAnswer | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const verify = () => {
    setBusy(true);
    setError(null);
    getJSON<VerifyAnswer>("/api/audit/verify")
      .then((a) => {
        setAnswer(a);
        onBroken(a.ok ? null : a.broken_id);
      })
      .catch((exc: Error) => setError(exc.message))
      .finally(() => setBusy(false));
  };
  return (
    <div class="verify">
      <button id="verify" onClick={verify} disabled={busy}>
        {busy ? t("verifying") : t("verifyChain")}
      </button>
      {answer && (
        <span id="verify-result" class={answer.ok ? "ok" : "bad"} data-ok={String(answer.ok)} title={answer.head_hash}>
          {answer.ok
            ? `✓ ${t("chainOk", { n: answer.checked })}`
            : `✗ ${t("chainBroken", { id: answer.broken_id ?? "?", reason: answer.reason ?? "" })}`}
        </span>
      )}
      {error && <span class="error">{error}</span>}
    </div>
  );
}

export function AuditPage({ target }: { target: string | null }) {
  const [filter, setFilter] = useState({ actor: "", action: "", target: target ?? "", limit: 100 });
  const [entries, setEntries] = useState<AuditEntry[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [broken, setBroken] = useState<number | null>(null);
  const [reloads, setReloads] = useState(0);

  useEffect(() => {
    let current = true;
    // Typing in a filter field asks once it pauses, not at every key.
    const timer = setTimeout(() => {
      getJSON<AuditEntry[]>(`/api/audit?${auditQuery(filter)}`)
        .then((list) => {
          if (!current) return;
          setEntries(list);
          setError(null);
        })
        .catch((exc: Error) => current && setError(exc.message));
    }, 250);
    return () => {
      current = false;
      clearTimeout(timer);
    };
  }, [filter.actor, filter.action, filter.target, filter.limit, reloads]);

  const field = (key: "actor" | "action" | "target", placeholder: string) => (
    <input
      type="search"
      name={key}
      placeholder={placeholder}
      value={filter[key]}
      onInput={(e) => setFilter({ ...filter, [key]: e.currentTarget.value })}
    />
  );
  return (
    <section class="control-page audit">
      <div class="panel">
        <div class="toolbar">
          <h2>{t("auditTitle")}</h2>
          <Verify onBroken={setBroken} />
        </div>
        <div class="toolbar filters">
          {field("actor", t("filterActor"))}
          {field("action", t("filterAction"))}
          {field("target", t("filterTarget"))}
          <select
            name="limit"
            value={filter.limit}
            onChange={(e) => setFilter({ ...filter, limit: Number(e.currentTarget.value) })}
          >
            {LIMITS.map((n) => (
              <option key={n} value={n}>
                {n}
              </option>
            ))}
          </select>
          <button class="ghost" onClick={() => setReloads((n) => n + 1)}>
            {t("refresh")}
          </button>
        </div>
        {error && <p class="error">{error}</p>}
        {entries === null && !error && <p class="muted">{t("loading")}</p>}
        {entries?.length === 0 && <p class="muted">{t("noEntries")}</p>}
        {entries && entries.length > 0 && (
          <div class="scroll-x">
            <table class="small audit-log">
              <thead>
                <tr>
                  <th>#</th>
                  <th>{t("when")}</th>
                  <th>{t("who")}</th>
                  <th>{t("action")}</th>
                  <th>{t("target")}</th>
                  <th>{t("what")}</th>
                  <th>{t("result")}</th>
                </tr>
              </thead>
              <tbody>
                {entries.map((e) => (
                  <tr key={e.id} data-id={e.id} data-action={e.action} class={e.id === broken ? "broken" : ""}>
                    <td class="num">{e.id}</td>
                    <td class="when">{dateTime(e.ts, getLang())}</td>
                    <td>
                      {e.actor} <small>{e.via}</small>
                    </td>
                    <td>{e.action}</td>
                    <td>{e.target ?? "–"}</td>
                    <td class="what">
                      <code>{auditWhat(e)}</code>
                    </td>
                    <td>{e.result ?? "–"}</td>
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
