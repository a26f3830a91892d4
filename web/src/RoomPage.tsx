// The 3D room (#/room): racks with each device at its U, desks with their PCs, the declared
// cables between ports (a cable on the wrong port in magenta), coloured by state and firing
// alerts or, in heat mode, by CPU. Search flies to a device; a click opens its page. Without
// placement data it says how to add it. three.js comes with this page's chunk only.

import { useEffect, useMemo, useRef, useState } from "preact/hooks";
import { getJSON } from "./api";
import { t } from "./i18n";
import { rt } from "./roomText";
import { type Layout, type Mode, type World, generatedWorld, layout } from "./room";
import { type RoomView, createRoom } from "./room3d";
import { RoomEdit } from "./RoomEdit";
import "./room.css";

const REFRESH_MS = 10_000;

declare global {
  interface Window {
    __mirrorRoom?: RoomView; // for tests/test_room_e2e.py and bench/ui.py
  }
}

export const PLACEMENT_EXAMPLE = `sites:
  - name: home
    rooms:
      - name: office
        size: {w: 5.0, d: 4.0, h: 2.6}      # metres
        racks:
          - name: rack-a
            position: {x: 0.5, y: 0.3}      # back-left corner
            height_u: 42
            devices:
              - {device: core-switch, u: 40}
              - {device: nas, u: 10, height_u: 2}
        places:
          - name: desk-1
            kind: desk                      # desk, shelf, wall, floor
            position: {x: 3.0, y: 2.5}
            devices: [pc-anna]
cables:
  - a: {node: nas, port: eth0}
    b: {node: core-switch, port: Gi1/0/10}
    label: P-10`;

function Empty({ world }: { world: World }) {
  return (
    <section class="panel room-empty" id="room-empty">
      <h2>{rt("empty")}</h2>
      <p>{rt("emptyHint")}</p>
      <pre>{PLACEMENT_EXAMPLE}</pre>
      <p class="muted">
        {rt("emptyThen")} <code>mirror check -i {world.source || "inventory.yaml"}</code>
      </p>
    </section>
  );
}

/** ``#/room?generated=RxDxC``: a made-up world (tests/test_room_e2e.py, bench/ui.py). */
function generatedFrom(spec: string | null | undefined): World | null {
  const m = spec ? /^(\d+)x(\d+)x(\d+)$/.exec(spec) : null;
  return m ? generatedWorld(Number(m[1]), Number(m[2]), Number(m[3])) : null;
}

export function RoomPage({ generated, admin = false }: { generated?: string | null; admin?: boolean }) {
  const [world, setWorld] = useState<World | null>(() => generatedFrom(generated));
  const [error, setError] = useState<string | null>(null);
  const [mode, setMode] = useState<Mode>("state");
  const [query, setQuery] = useState("");
  const [missing, setMissing] = useState<string | null>(null);
  const canvas = useRef<HTMLCanvasElement>(null);
  const view = useRef<RoomView | null>(null);
  const shape = useRef<Layout | null>(null);

  const [reloads, setReloads] = useState(0);
  useEffect(() => {
    if (generatedFrom(generated)) return;
    let alive = true;
    const load = () =>
      getJSON<World>("/api/world")
        .then((w) => alive && (setWorld(w), setError(null)))
        .catch((exc: Error) => alive && setError(exc.message));
    load();
    const timer = setInterval(load, REFRESH_MS);
    return () => {
      alive = false;
      clearInterval(timer);
    };
  }, [generated, reloads]);

  const laid = useMemo(() => (world ? layout(world, mode) : null), [world, mode]);

  useEffect(() => {
    if (!laid || !canvas.current) return;
    if (view.current && view.current.recolour(laid)) return;
    view.current?.dispose();
    try {
      view.current = createRoom(canvas.current, laid, (name) => {
        location.hash = `#/host/${encodeURIComponent(name)}`;
      });
      window.__mirrorRoom = view.current;
      shape.current = laid;
    } catch (exc) {
      setError(`${rt("noWebgl")} (${(exc as Error).message})`);
    }
  }, [laid]);

  useEffect(
    () => () => {
      view.current?.dispose();
      view.current = null;
      window.__mirrorRoom = undefined;
    },
    [],
  );

  if (error) return <p class="error panel">{error}</p>;
  if (!world) return <p class="panel muted">{t("loading")}</p>;
  if (!laid) return <Empty world={world} />;

  const drift = world.cables.filter((c) => c.status !== "ok" && c.status !== "unchecked");
  const undocumented = world.findings.filter((f) => f.kind === "not-documented");
  const fly = (e: Event) => {
    e.preventDefault();
    const name = world.devices.find((d) => d.name.toLowerCase() === query.trim().toLowerCase())?.name ?? query.trim();
    setMissing(view.current?.flyTo(name) ? null : name);
  };

  return (
    <section class="room-page">
      <div class="room-bar">
        <h2>
          {t("room")}: {laid.room.name}
        </h2>
        <form onSubmit={fly} class="room-search">
          <input
            list="room-devices"
            id="room-search"
            placeholder={rt("search")}
            value={query}
            onInput={(e) => setQuery((e.target as HTMLInputElement).value)}
          />
          <datalist id="room-devices">
            {laid.devices.map((b) => (
              <option key={b.name} value={b.name} />
            ))}
          </datalist>
          <button type="submit">{rt("fly")}</button>
        </form>
        <label class="room-mode">
          <input
            type="checkbox"
            id="room-heat"
            checked={mode === "heat"}
            onChange={(e) => setMode((e.target as HTMLInputElement).checked ? "heat" : "state")}
          />
          {rt("heat")}
        </label>
        {missing && <span class="error">{rt("notPlaced", { name: missing })}</span>}
      </div>
      <canvas ref={canvas} class="room-canvas" id="room-canvas" />
      <div class="room-legend muted">
        <span class="dot ok" /> {rt("legendUp")} <span class="dot bad" /> {rt("legendDown")}{" "}
        <span class="swatch wrong" /> {rt("legendWrong")} · {rt("help")}
      </div>
      <div class="room-lists">
        <section class="panel" id="room-drift">
          <h3>
            {rt("cables")} ({world.cables.length})
          </h3>
          {drift.length === 0 && undocumented.length === 0 ? (
            <p class="muted">{rt("noDrift")}</p>
          ) : (
            <ul class="drift">
              {drift.map((c) => (
                <li key={c.index} data-status={c.status}>
                  <b>{c.label ?? `#${c.index}`}</b> <span class={`tag ${c.status}`}>{c.status}</span> {c.message}{" "}
                  <small class="muted">{c.where}</small>
                </li>
              ))}
              {undocumented.map((f) => (
                <li key={f.message} data-status={f.kind}>
                  <span class={`tag ${f.kind}`}>{f.kind}</span> {f.message}
                </li>
              ))}
            </ul>
          )}
        </section>
        {admin && !generatedFrom(generated) && <RoomEdit world={world} onDone={() => setReloads((n) => n + 1)} />}
        {laid.unplaced.length > 0 && (
          <section class="panel" id="room-unplaced">
            <h3>{rt("unplaced")}</h3>
            <p class="muted">{laid.unplaced.join(", ")}</p>
          </section>
        )}
      </div>
    </section>
  );
}
