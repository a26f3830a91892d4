import { render } from "preact";
import { useCallback, useEffect, useRef, useState } from "preact/hooks";
import { getJSON, postJSON, setCsrf, whenUnauthorized } from "./api";
import { Fleet } from "./Fleet";
import { type Row, applyEvent, rowFromHost } from "./fleet";
import { HostPage } from "./HostPage";
import { getLang, initialLang, setLang, t } from "./i18n";
import { type LinkState, connectLive } from "./live";
import { Login } from "./Login";
import type { FleetAnswer, Host, LiveEvent, Me } from "./types";
import "./style.css";

// For bench/ui.py and the end-to-end test: when each live event was painted.
interface PaintRecord {
  host: string;
  ts: number; // the event's own time (poll time, unix seconds)
  received: number; // Date.now()/1000 when the socket delivered it
  painted: number; // Date.now()/1000 after the frame that shows it
}
declare global {
  interface Window {
    __mirrorPaints?: PaintRecord[];
  }
}
const PAINT_LOG_MAX = 20_000;

function route(): { page: "fleet" } | { page: "host"; name: string } {
  const match = /^#\/host\/(.+)$/.exec(location.hash);
  return match ? { page: "host", name: decodeURIComponent(match[1]) } : { page: "fleet" };
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
        const hosts = await getJSON<Host[]>("/api/hosts");
        if (cancelled) return;
        const map = new Map(hosts.map((h) => [h.name, rowFromHost(h)]));
        byAddress.current = new Map(hosts.filter((h) => h.address).map((h) => [h.address!, h.name]));
        const order: string[] = [];
        for (const h of hosts) for (const g of h.groups) if (!order.includes(g)) order.push(g);
        setGroupOrder(order);
        rowsRef.current = map;
        setRows(map);
        // Last-hour sparklines in one round trip per column (GET /api/fleet); optional.
        for (const [metric, field] of [
          ["cpu.busy_pct", "sparkCpu"],
          ["mem.used_pct", "sparkMem"],
        ] as const) {
          getJSON<FleetAnswer>(`/api/fleet?metric=${metric}`)
            .then((fleet) => {
              const next = new Map(rowsRef.current);
              for (const h of fleet.hosts) {
                const row = next.get(h.name);
                if (row && h.sparkline.length) next.set(h.name, { ...row, [field]: [...h.sparkline, ...row[field]] });
              }
              rowsRef.current = next;
              setRows(next);
            })
            .catch(() => {});
        }
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
          const received = Date.now() / 1000;
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
            for (const e of events) log.push({ host: e.host, ts: e.ts ?? 0, received, painted });
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
        {current.page === "host" && (
          <a class="crumb" href="#/">
            ← {t("back")}
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
        <span class="who">
          {me.user} <small>{me.role}</small>
        </span>
        <button class="ghost" id="logout" onClick={onLogout}>
          {t("signOut")}
        </button>
      </header>
      <main>
        {loadError && <p class="error panel">{loadError}</p>}
        {current.page === "host" ? (
          <HostPage name={current.name} live={hostEvent} />
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
