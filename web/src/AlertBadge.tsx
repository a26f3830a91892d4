// The header's alert badge (firing count, worst severity) and, while a page is open and the
// user allowed it, a desktop notification per newly firing alert (click: the host page).

import { useEffect, useRef, useState } from "preact/hooks";
import { getJSON } from "./api";
import { type Alert, type Summary, badge, newlyFiring, where } from "./alerts";
import { t } from "./i18n";

const EVERY_MS = 5000;

function announce(alerts: Alert[]): void {
  if (typeof Notification === "undefined" || Notification.permission !== "granted") return;
  for (const a of alerts.slice(0, 5)) {
    const note = new Notification(`${a.severity.toUpperCase()}: ${a.rule} on ${where(a)}`, {
      body: a.summary,
      tag: `mirror-alert-${a.id}`,
    });
    note.onclick = () => {
      window.focus();
      location.hash = `#/host/${encodeURIComponent(a.target)}`;
    };
  }
}

export function AlertBadge({ active }: { active: boolean }) {
  const [summary, setSummary] = useState<Summary | null>(null);
  const seen = useRef<Set<number> | null>(null);
  useEffect(() => {
    let alive = true;
    const tick = async () => {
      try {
        const next = await getJSON<Summary>("/api/alerts/summary");
        if (!alive) return;
        setSummary(next);
        if (next.firing > 0 || seen.current === null) {
          const alerts = await getJSON<Alert[]>("/api/alerts?state=active");
          const { fresh, seen: now } = newlyFiring(seen.current ?? new Set(), alerts);
          if (seen.current !== null) announce(fresh); // not for what fired before the page opened
          seen.current = now;
        }
      } catch {
        // EGO restarting, or alerts not served here: the badge waits for the next tick
      }
    };
    tick();
    const timer = setInterval(tick, EVERY_MS);
    return () => {
      alive = false;
      clearInterval(timer);
    };
  }, []);
  const shown = badge(summary);
  return (
    <a href="#/alerts" id="nav-alerts" class={`alerts-link ${active ? "on" : ""}`} title={t("alertsTitle")}>
      {t("navAlerts")}
      {shown && (
        <span class={`badge ${shown.level}`} id="alert-badge">
          {shown.text}
        </span>
      )}
    </a>
  );
}
