// Pages whose code is fetched the first time they are shown, so the fleet's first load does
// not carry the terminal (xterm.js) or the control pages (issue 5: small initial bundle).

import type { ComponentType, FunctionComponent } from "preact";
import { useEffect, useState } from "preact/hooks";
import { t } from "./i18n";

export function lazy<P extends object>(load: () => Promise<ComponentType<P>>): FunctionComponent<P> {
  let loaded: ComponentType<P> | null = null;
  let pending: Promise<ComponentType<P>> | null = null;
  return function Lazy(props: P) {
    const [, setReady] = useState(false);
    const [error, setError] = useState<string | null>(null);
    useEffect(() => {
      if (loaded) return;
      let alive = true;
      pending ??= load();
      pending.then(
        (component) => {
          loaded = component;
          if (alive) setReady(true);
        },
        (exc: Error) => {
          pending = null; // a later visit tries again (e.g. EGO was restarting)
          if (alive) setError(exc.message);
        },
      );
      return () => {
        alive = false;
      };
    }, []);
    if (error) return <p class="error panel">{error}</p>;
    if (!loaded) return <p class="panel muted">{t("loading")}</p>;
    const Component = loaded;
    return <Component {...props} />;
  };
}

export const HostPage = lazy(() => import("./HostPage").then((m) => m.HostPage));
export const RunPage = lazy(() => import("./controlPages").then((m) => m.RunPage));
export const AuditPage = lazy(() => import("./controlPages").then((m) => m.AuditPage));
export const TunnelsPage = lazy(() => import("./controlPages").then((m) => m.TunnelsPage));
export const HostControls = lazy(() => import("./controlPages").then((m) => m.HostControls));
export const AlertsPage = lazy(() => import("./AlertsPage").then((m) => m.AlertsPage));
export const TerminalPage = lazy(() => import("./TerminalPage").then((m) => m.TerminalPage));
export const JobsPage = lazy(() => import("./JobsPage").then((m) => m.JobsPage));
export const RoomPage = lazy(() => import("./RoomPage").then((m) => m.RoomPage));
export const SetupPage = lazy(() => import("./SetupPage").then((m) => m.SetupPage));
export const MapPage = lazy(() => import("./MapPage").then((m) => m.MapPage));
