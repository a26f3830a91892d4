// #/discovered: addresses that answered the subnet sweep and are in no inventory host
// (GET /api/discovered). Admins adopt one with a name: POST /api/discovered/ADDRESS/adopt
// writes it into inventory.yaml (comments kept, audited) and reloads.

import { useEffect, useState } from "preact/hooks";
import { getJSON, postJSON } from "./api";
import { ago, ms } from "./format";
import { t } from "./i18n";
import "./map.css";

const REFRESH_MS = 10_000;

interface Discovered {
  address: string;
  mac: string | null;
  name: string | null; // reverse DNS
  rtt_avg_ms: number | null;
  last_seen: number | null;
}

/** A host name the inventory accepts, suggested from reverse DNS or the address. */
export function suggestName(d: { address: string; name: string | null }): string {
  const base = d.name ? d.name.split(".")[0] : `host-${d.address.replace(/[.:]/g, "-")}`;
  return base.toLowerCase().replace(/[^a-z0-9_-]/g, "-").slice(0, 63) || "host";
}

function Adopt({ item, onDone }: { item: Discovered; onDone: () => void }) {
  const [name, setName] = useState(suggestName(item));
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const submit = (ev: Event) => {
    ev.preventDefault();
    setBusy(true);
    setError(null);
    postJSON(`/api/discovered/${encodeURIComponent(item.address)}/adopt`, { name })
      .then(onDone)
      .catch((exc: Error) => setError(exc.message))
      .finally(() => setBusy(false));
  };
  return (
    <form class="adopt" onSubmit={submit}>
      <input name="name" value={name} aria-label={t("host")} onInput={(e) => setName((e.target as HTMLInputElement).value)} />{" "}
      <button type="submit" disabled={busy || !name}>
        {t("adopt")}
      </button>
      {error && <span class="bad"> {error}</span>}
    </form>
  );
}

export function DiscoveredPage({ admin }: { admin: boolean }) {
  const [items, setItems] = useState<Discovered[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [adopted, setAdopted] = useState<string[]>([]);
  const load = () =>
    getJSON<Discovered[]>("/api/discovered")
      .then(setItems)
      .catch((exc: Error) => setError(exc.message));
  useEffect(() => {
    load();
    const timer = setInterval(load, REFRESH_MS); // sweeps run every 30 s or so
    return () => clearInterval(timer);
  }, []);
  if (error) return <p class="error panel">{error}</p>;
  if (!items) return <p class="panel muted">{t("loading")}</p>;
  const now = Date.now() / 1000;
  return (
    <section class="panel" id="discovered">
      <h2>{t("discovered")}</h2>
      {adopted.length > 0 && (
        <p class="ok" id="adopted">
          {t("adoptedHosts", { names: adopted.join(", ") })}
        </p>
      )}
      {items.length === 0 ? (
        <p class="muted">{t("noDiscovered")}</p>
      ) : (
        <div class="scroll-x">
          <table class="small">
            <thead>
              <tr>
                <th>{t("addresses")}</th>
                <th>MAC</th>
                <th>DNS</th>
                <th>RTT</th>
                <th>{t("lastSeen")}</th>
                {admin && <th />}
              </tr>
            </thead>
            <tbody>
              {items.map((d) => (
                <tr key={d.address} data-address={d.address}>
                  <td>{d.address}</td>
                  <td>{d.mac ?? "–"}</td>
                  <td>{d.name ?? "–"}</td>
                  <td>{ms(d.rtt_avg_ms)}</td>
                  <td>{ago(d.last_seen, now)}</td>
                  {admin && (
                    <td>
                      <Adopt
                        item={d}
                        onDone={() => {
                          setAdopted((a) => [...a, d.address]);
                          load();
                        }}
                      />
                    </td>
                  )}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
