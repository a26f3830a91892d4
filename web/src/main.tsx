import { render } from "preact";
import { useCallback, useEffect, useRef, useState } from "preact/hooks";
import { getJSON, postJSON, setCsrf, whenUnauthorized } from "./api";
import { canOperate, parseRoute } from "./routes";
import { Fleet } from "./Fleet";
import { type Row, applyEvent, rowFromOverview } from "./fleet";
import { HEALTH_EVERY_MS, type Health, healthProblems } from "./health";
import { getLang, initialLang, setLang, t } from "./i18n";
import { AlertBadge } from "./AlertBadge";
import {
  AlertsPage,
  AuditPage,
  HostPage,
  JobsPage,
  MapPage,
  RoomPage,
  RunPage,
  SetupPage,
  TerminalPage,
  TunnelsPage,
} from "./lazy";
import { type LinkState, connectLive } from "./live";
import { Login } from "./Login";
import { loadOverview } from "./overview";
import type { LiveEvent, Me } from "./types";
import "./style.css";

// For bench/ui.py and the end-to-end test: when each live event was painted.
interface PaintRecord {
  host: string;
  ts: number; // the event's own time (poll time, unix seconds)
  stored: number; // when EGO committed it (EGO's clock, unix seconds; 0: not said)
  received: number; // Date.now()/1000 when the socket delivered it
  painted: number; // Date.now()/1000 after the frame that shows it
}
declare global {
  interface Window {
    __mirrorPaints?: PaintRecord[];
  }
}
const PAINT_LOG_MAX = 20_000;
// The operators' pages in the header: the route's page and its label.
const NAV = [
  ["run", "navRun"],
  ["audit", "navAudit"],
  ["tunnels", "navTunnels"],
] as const;

/**
 * The host page and uPlot are half of the UI's code and the fleet needs none of it: they are
 * left out of the first load (issue 5: 43.7 → 19.6 kB gzipped). Once the table is up and the
 * browser idle their chunk is fetched, so the first click on a host does not wait for it.
 */
function whenIdle(run: () => void): void {
  if ("requestIdleCallback" in window) requestIdleCallback(run, { timeout: 3000 });
  else setTimeout(run, 1000); // Safari has no requestIdleCallback
}

function route() {
  return parseRoute(location.hash);
}

function useRoute() {
  const [current, setCurrent] = useState(route());
  useEffect(() => {
    const update = () => setCurrent(route());
    addEventListener("hashchange", update);
    return () => removeEventListener("hashchange", update);
  }, []);
  return current;
}

function Dashboard({ me, onLogout }: { me: Me; onLogout: () => void }) {
  const [rows, setRows] = useState<Map<string, Row>>(new Map());
  const [groupOrder, setGroupOrder] = useState<string[]>([]);
  const [link, setLink] = useState<LinkState>("connecting");
  const [hostEvent, setHostEvent] = useState<LiveEvent | null>(null);
  const [loadError, setLoadError] = useState<string | null>(null);
  const [problems, setProblems] = useState<string[]>([]);
  const rowsRef = useRef(rows);
  const byAddress = useRef(new Map<string, string>());
  const current = useRoute();
  const currentRef = useRef(current);
  currentRef.current = current;

  useEffect(() => {
    let stop = () => {};
    let cancelled = false;
    (async () => {
      try {
        // The whole table, last-hour sparklines included, in one answer (api/overview.py).
        const overview = await loadOverview();
        if (cancelled) return;
        const { hosts, spark_from: from, spark_step_s: step } = overview;
        const map = new Map(hosts.map((h) => [h.name, rowFromOverview(h, from, step)]));
        byAddress.current = new Map(hosts.filter((h) => h.address).map((h) => [h.address!, h.name]));
        const order: string[] = [];
        for (const h of hosts) for (const g of h.groups ?? []) if (!order.includes(g)) order.push(g);
        setGroupOrder(order);
        rowsRef.current = map;
        setRows(map);
        whenIdle(() => void import("./HostPage").catch(() => {})); // see whenIdle
      } catch (exc) {
        setLoadError((exc as Error).message);
        return;
      }
      stop = connectLive({
        onState: setLink,
        onRefused: () => {
          getJSON<Me>("/api/auth/me").catch(() => {});
        },
        onEvents: (events) => {
          const next = new Map(rowsRef.current);
          let changed = false;
          for (const event of events) {
            const row = applyEvent(next, event, byAddress.current);
            if (row) {
              next.set(row.name, row);
              changed = true;
            }
            const here = currentRef.current;
            if (here.page === "host" && event.host === here.name) setHostEvent(event);
          }
          if (!changed) return;
          rowsRef.current = next;
          setRows(next);
          // After Preact commits (a microtask) and the browser paints (the next frame).
          requestAnimationFrame(() => {
            const painted = Date.now() / 1000;
            const log = (window.__mirrorPaints ??= []);
            for (const e of events)
              log.push({ host: e.host, ts: e.ts ?? 0, stored: e.stored ?? 0, received: e.received ?? painted, painted });
            if (log.length > PAINT_LOG_MAX) log.splice(0, log.length - PAINT_LOG_MAX);
          });
        },
      });
    })();
    return () => {
      cancelled = true;
      stop();
    };
  }, []);

  useEffect(() => {
    const check = () =>
      getJSON<Health>("/api/health")
        .then((h) => setProblems(healthProblems(h)))
        .catch(() => {});
    check();
    const timer = setInterval(check, HEALTH_EVERY_MS);
    return () => clearInterval(timer);
  }, []);

  const open = useCallback((name: string) => {
    location.hash = `#/host/${encodeURIComponent(name)}`;
  }, []);

  return (
    <>
      <header class="top">
        <a class="brand" href="#/">
          <span class="mark" aria-hidden="true" />
          MIRROR STAGE <small>거울단계</small>
        </a>
        {current.page !== "fleet" && (
          <a class="crumb" href="#/">
            ← {t("back")}
          </a>
        )}
        {canOperate(me.role) && (
          <nav class="nav">
            {NAV.map(([page, label]) => (
              <a key={page} href={`#/${page}`} id={`nav-${page}`} class={current.page === page ? "on" : ""}>
                {t(label)}
              </a>
            ))}
          </nav>
        )}
        <nav class="nav">
          <a href="#/map" id="nav-map" class={current.page === "map" ? "on" : ""}>
            {t("navMap")}
          </a>
          {me.role === "admin" && (
            <a href="#/setup?tab=discovered" id="nav-discovered" class={current.page === "setup" && current.tab === "discovered" ? "on" : ""}>
              {t("navDiscovered")}
            </a>
          )}
          <a href="#/room" id="nav-room" class={current.page === "room" ? "on" : ""}>
            {t("room")}
          </a>
        </nav>
        <AlertBadge active={current.page === "alerts"} />
        <a class={`crumb${current.page === "jobs" ? " on" : ""}`} href="#/jobs" id="nav-jobs">
          {t("navJobs")}
        </a>
        <a class="crumb" href="/schema" id="api-docs" target="_blank" rel="noopener">
          {t("apiDocs")}
        </a>
        {location.protocol === "https:" && (
          <a class="crumb" href="/ca" id="trust-ca" target="_blank" rel="noopener">
            {t("trustCa")}
          </a>
        )}
        <span class={`link ${link}`} id="link">
          {link === "live" ? t("live") : link === "connecting" ? t("connecting") : t("offline")}
        </span>
        <span class="spacer" />
        <button
          class="ghost"
          onClick={() => {
            const next = getLang() === "en" ? "ko" : "en";
            localStorage.setItem("mirror.lang", next);
            setLang(next);
            setRows(new Map(rowsRef.current));
          }}
        >
          {t("language")}
        </button>
        {me.role === "admin" && (
          <a href="#/setup" id="nav-setup" class={`crumb${current.page === "setup" ? " on" : ""}`}>
            {t("navSetup")}
          </a>
        )}
        <a class="who" id="who" href="#/setup?tab=sessions" title={t("mySessions")}>
          {me.user} <small>{me.role}</small>
        </a>
        <button class="ghost" id="logout" onClick={onLogout}>
          {t("signOut")}
        </button>
      </header>
      <main>
        {loadError && <p class="error panel">{loadError}</p>}
        {problems.length > 0 && (
          <div class="error panel" id="health">
            <b>{t("degraded")}</b>
            <ul>
              {problems.map((p) => (
                <li key={p}>{p}</li>
              ))}
            </ul>
          </div>
        )}
        {current.page === "host" ? (
          <HostPage name={current.name} live={hostEvent} operate={canOperate(me.role)} />
        ) : current.page === "terminal" ? (
          <TerminalPage name={current.name} />
        ) : current.page === "run" ? (
          <RunPage key={location.hash} hosts={current.hosts} group={current.group} />
        ) : current.page === "audit" ? (
          <AuditPage target={current.target} />
        ) : current.page === "tunnels" ? (
          <TunnelsPage />
        ) : current.page === "setup" ? (
          <SetupPage tab={current.tab} role={me.role} user={me.user} />
        ) : current.page === "map" ? (
          <MapPage layer={current.layer} operate={canOperate(me.role)} />
        ) : current.page === "alerts" ? (
          <AlertsPage tab={current.tab} role={me.role} />
        ) : current.page === "jobs" ? (
          <JobsPage operate={canOperate(me.role)} />
        ) : current.page === "room" ? (
          <RoomPage key={location.hash} generated={current.generated} admin={me.role === "admin"} />
        ) : (
          <Fleet rows={rows} groupOrder={groupOrder} onOpen={open} />
        )}
      </main>
    </>
  );
}

function App() {
  const [me, setMe] = useState<Me | null | undefined>(undefined);
  const notice = new URLSearchParams(location.search).get("login_error") === "link" ? t("linkFailed") : null;

  useEffect(() => {
    whenUnauthorized(() => {
      setCsrf(null);
      setMe(null);
    });
    getJSON<Me>("/api/auth/me")
      .then((who) => {
        setCsrf(who.csrf);
        setMe(who);
      })
      .catch(() => setMe(null));
  }, []);

  if (me === undefined) return null;
  if (me === null)
    return (
      <Login
        notice={notice}
        onLogin={(who) => {
          setCsrf(who.csrf);
          history.replaceState(null, "", location.pathname + location.hash);
          setMe(who);
        }}
      />
    );
  return (
    <Dashboard
      me={me}
      onLogout={() => {
        postJSON("/api/auth/logout")
          .catch(() => {})
          .finally(() => {
            setCsrf(null);
            setMe(null);
          });
      }}
    />
  );
}

setLang(initialLang(localStorage.getItem("mirror.lang"), navigator.language));
if ("serviceWorker" in navigator && window.isSecureContext) {
  navigator.serviceWorker.register("/sw.js").catch(() => {});
}
render(<App />, document.getElementById("app")!);
