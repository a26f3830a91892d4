// Admins: move a device into a rack at a U, or to a desk or shelf, from the Room page. The
// server writes inventory.yaml through its writer (comments kept, validated, audited) and
// reloads it; a refused move says why with the file's line. (Dragging in 3D: not yet.)

import { useState } from "preact/hooks";
import { postJSON } from "./api";
import type { World } from "./room";
import { rt } from "./roomText";

export function RoomEdit({ world, onDone }: { world: World; onDone: () => void }) {
  const rooms = world.sites.flatMap((s) => s.rooms);
  const racks = rooms.flatMap((r) => r.racks.map((k) => k.name));
  const places = rooms.flatMap((r) => r.places.map((p) => p.name));
  const [device, setDevice] = useState(world.devices[0]?.name ?? "");
  const [target, setTarget] = useState(racks[0] ? `rack:${racks[0]}` : places[0] ? `place:${places[0]}` : "");
  const [u, setU] = useState("1");
  const [message, setMessage] = useState<{ ok: boolean; text: string } | null>(null);
  const [busy, setBusy] = useState(false);
  const inRack = target.startsWith("rack:");

  const submit = (e: Event) => {
    e.preventDefault();
    const [kind, name] = [target.slice(0, target.indexOf(":")), target.slice(target.indexOf(":") + 1)];
    const body = kind === "rack" ? { rack: name, u: Number(u), expect: world.version } : { place: name, expect: world.version };
    setBusy(true);
    postJSON(`/api/world/devices/${encodeURIComponent(device)}`, body, "PUT")
      .then(() => {
        setMessage({ ok: true, text: rt("moved", { name: device }) });
        onDone();
      })
      .catch((exc: Error) => setMessage({ ok: false, text: exc.message }))
      .finally(() => setBusy(false));
  };

  return (
    <section class="panel" id="room-edit">
      <h3>{rt("editTitle")}</h3>
      <form class="room-edit" onSubmit={submit}>
        <select id="room-edit-device" value={device} onChange={(e) => setDevice((e.target as HTMLSelectElement).value)}>
          {world.devices.map((d) => (
            <option key={d.name} value={d.name}>
              {d.name}
            </option>
          ))}
        </select>
        <span>→</span>
        <select id="room-edit-target" value={target} onChange={(e) => setTarget((e.target as HTMLSelectElement).value)}>
          {racks.map((r) => (
            <option key={r} value={`rack:${r}`}>
              {rt("rack")} {r}
            </option>
          ))}
          {places.map((p) => (
            <option key={p} value={`place:${p}`}>
              {p}
            </option>
          ))}
        </select>
        {inRack && (
          <label>
            U{" "}
            <input
              id="room-edit-u"
              type="number"
              min={1}
              max={60}
              value={u}
              onInput={(e) => setU((e.target as HTMLInputElement).value)}
            />
          </label>
        )}
        <button type="submit" disabled={busy || !device || !target}>
          {rt("move")}
        </button>
      </form>
      {message && (
        <p class={message.ok ? "muted" : "error"} id="room-edit-result">
          {message.text}
        </p>
      )}
      <p class="muted small">{rt("editHint")}</p>
    </section>
  );
}
