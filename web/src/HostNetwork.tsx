// The host page's network panel: the ICMP latency and loss of the host's address (the ICMP
// loop's series, GET /api/ping/ADDRESS/series) and, for operators, Wake-on-LAN when the host
// has a MAC (POST /api/hosts/NAME/wake; EGO then watches for it to answer ping).

import { useEffect, useState } from "preact/hooks";
import { getJSON, postJSON } from "./api";
import { Chart } from "./Chart";
import { t } from "./i18n";
import { align } from "./series";
import type { Series } from "./types";

interface WakeReport {
  state: string;
  message: string;
}

async function pingSeries(address: string, metric: string, from: string): Promise<[number, number][]> {
  try {
    const answer = await getJSON<Series>(
      `/api/ping/${encodeURIComponent(address)}/series?metric=${metric}&from=${encodeURIComponent(from)}`,
    );
    return answer.points;
  } catch {
    return [];
  }
}

export function HostNetwork({
  name,
  address,
  mac,
  operate,
  from,
  spanSeconds,
}: {
  name: string;
  address: string | null;
  mac: string | null;
  operate: boolean;
  from: string;
  spanSeconds: number;
}) {
  const [rtt, setRtt] = useState<(number | null)[][] | null>(null);
  const [loss, setLoss] = useState<(number | null)[][] | null>(null);
  const [wake, setWake] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    if (!address) return;
    let alive = true;
    Promise.all([pingSeries(address, "ping.rtt_avg_ms", from), pingSeries(address, "ping.loss_pct", from)]).then(
      ([r, l]) => {
        if (!alive) return;
        setRtt(align([r]));
        setLoss(align([l]));
      },
    );
    return () => {
      alive = false;
    };
  }, [address, from]);

  const doWake = () => {
    setBusy(true);
    postJSON<WakeReport>(`/api/hosts/${encodeURIComponent(name)}/wake`)
      .then((r) => setWake(r.message))
      .catch((exc: Error) => setWake(exc.message))
      .finally(() => setBusy(false));
  };

  return (
    <>
      {operate && mac && (
        <div class="panel" id="wake-panel">
          <button id="wake" disabled={busy} onClick={doWake}>
            {t("wake")}
          </button>{" "}
          <small>{mac}</small> {wake && <span id="wake-result">{wake}</span>}
        </div>
      )}
      {address && (
        <div class="charts" id="ping-charts">
          <figure class="panel" data-family="ping-rtt">
            <figcaption>{t("pingLatency")}</figcaption>
            {rtt && (rtt[0]?.length ?? 0) > 0 ? (
              <Chart labels={[address]} data={rtt} unit="ms" spanSeconds={spanSeconds} />
            ) : (
              <p class="muted">{rtt ? t("noData") : t("loading")}</p>
            )}
          </figure>
          <figure class="panel" data-family="ping-loss">
            <figcaption>{t("pingLoss")}</figcaption>
            {loss && (loss[0]?.length ?? 0) > 0 ? (
              <Chart labels={[address]} data={loss} unit="pct" spanSeconds={spanSeconds} />
            ) : (
              <p class="muted">{loss ? t("noData") : t("loading")}</p>
            )}
          </figure>
        </div>
      )}
    </>
  );
}
