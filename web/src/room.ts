// The 3D room's geometry, from GET /api/world: where each rack, place, device box, label and
// cable goes, and its colour. Pure (no three.js), so it is tested without a GPU and the
// scene (room3d.ts) only turns these boxes into instanced meshes.
//
// Axes: the room's x (width) is three's x, its y (depth) is three's z, height is three's y.
// A rack's position is its front-left corner; rotation (degrees) turns it about that corner;
// rotation 0: its front faces +y (towards the room's depth).

export interface Mounted {
  device: string;
  u: number;
  height_u: number;
}
export interface Rack {
  name: string;
  position: { x: number; y: number; z?: number | null };
  rotation: number;
  height_u: number;
  devices: Mounted[];
}
export interface Place {
  name: string;
  kind: "desk" | "shelf" | "wall" | "floor";
  position: { x: number; y: number; z?: number | null };
  rotation: number;
  devices: string[];
}
export interface Room {
  name: string;
  size: { w: number; d: number; h: number };
  racks: Rack[];
  places: Place[];
}
export interface Site {
  name: string;
  rooms: Room[];
}
export interface WorldDevice {
  name: string;
  kind: string;
  address: string;
  state: string;
  cpu_pct: number | null;
  alerts_firing: number;
  ports: string[];
  placed: boolean;
}
export interface CableEnd {
  node: string;
  port: string | null;
}
export interface WorldCable {
  index: number;
  label: string | null;
  type: string | null;
  colour: string | null;
  a: CableEnd;
  b: CableEnd;
  status: string;
  message: string;
  where: string;
}
export interface Finding {
  kind: string;
  cable: number | null;
  label: string | null;
  message: string;
}
export interface World {
  sites: Site[];
  devices: WorldDevice[];
  cables: WorldCable[];
  findings: Finding[];
  source: string;
  version: string | null;
}

export type Vec3 = [number, number, number];
export interface Box {
  name: string; // the device, rack or place
  centre: Vec3;
  size: Vec3; // along x, y (up), z
  yaw: number; // radians about +y
  colour: number; // 0xrrggbb
  front: Vec3; // the middle of its front face: labels and cable ends
}
export interface Label {
  text: string;
  at: Vec3; // centre of the label
  yaw: number;
  width: number; // metres; the label is an 8:1 strip
}
export interface Path {
  index: number;
  points: Vec3[];
  colour: number;
  status: string;
  label: string | null;
}
export interface Layout {
  room: Room;
  racks: Box[];
  places: Box[];
  devices: Box[];
  labels: Label[];
  cables: Path[];
  beacons: Vec3[]; // above devices with firing alerts
  unplaced: string[];
}

export const U_M = 0.04445; // one rack unit
export const RACK_W = 0.6;
export const RACK_D = 1.0;
const RACK_PLINTH = 0.1;
const RACK_INNER_W = 0.483; // 19 inches
const DESK = { w: 1.4, d: 0.7, top: 0.75 };
const PC = { w: 0.2, h: 0.42, d: 0.45 };

export type Mode = "state" | "heat";

const STATE_COLOURS: Record<string, number> = {
  up: 0x3fb950,
  pending: 0x8b949e,
  unknown: 0x8b949e,
};
const BAD = 0xf85149;
const WARN = 0xd29922;

/** A device's colour: firing alerts and down states red, degraded amber, up green; in heat
 * mode CPU from blue (idle) through green and yellow to red (busy), grey when unknown. */
export function deviceColour(device: WorldDevice | undefined, mode: Mode): number {
  if (!device) return 0x6e7681;
  if (mode === "heat") return device.cpu_pct == null ? 0x6e7681 : heat(device.cpu_pct);
  if (device.alerts_firing > 0) return BAD;
  if (device.state in STATE_COLOURS) return STATE_COLOURS[device.state];
  return /degraded|partial|slow/.test(device.state) ? WARN : BAD;
}

export function heat(pct: number): number {
  const t = Math.min(1, Math.max(0, pct / 100));
  // hue 240° (blue) at 0 % to 0° (red) at 100 %
  return hsl((1 - t) * 240, 0.75, 0.5);
}

function hsl(h: number, s: number, l: number): number {
  const f = (n: number) => {
    const k = (n + h / 30) % 12;
    const a = s * Math.min(l, 1 - l);
    return Math.round(255 * (l - a * Math.max(-1, Math.min(k - 3, 9 - k, 1))));
  };
  return (f(0) << 16) | (f(8) << 8) | f(4);
}

const NAMED: Record<string, number> = {
  blue: 0x2f81f7,
  yellow: 0xe3b341,
  red: 0xf85149,
  green: 0x3fb950,
  orange: 0xf0883e,
  white: 0xe6edf3,
  black: 0x30363d,
  grey: 0x8b949e,
  gray: 0x8b949e,
  purple: 0xa371f7,
  pink: 0xdb61a2,
};

export function cableColour(cable: WorldCable): number {
  if (cable.status === "wrong-port" || cable.status === "unknown-port") return 0xff00ff;
  if (cable.status === "not-seen") return 0x6e7681;
  const c = (cable.colour ?? "").toLowerCase();
  if (/^#[0-9a-f]{6}$/.test(c)) return parseInt(c.slice(1), 16);
  return NAMED[c] ?? 0x58a6ff;
}

/** Ports in the order a front panel has them: Gi1/0/2 before Gi1/0/10. */
export function naturalSort(names: string[]): string[] {
  const collator = new Intl.Collator("en", { numeric: true });
  return [...names].sort(collator.compare);
}

/** (lx, lz) turned by theta (radians, counter-clockwise seen from above the room's x/y). */
function rotate(lx: number, lz: number, theta: number): [number, number] {
  const c = Math.cos(theta);
  const s = Math.sin(theta);
  return [lx * c - lz * s, lx * s + lz * c];
}

/** A point in a rack's or place's own frame (origin: its back-left corner on the floor; lx
 * along its front, ly up, lz from its back towards its front) in three's coordinates. */
function frame(origin: { x: number; y: number }, theta: number) {
  return (lx: number, ly: number, lz: number): Vec3 => {
    const [x, y] = rotate(lx, lz, theta);
    return [origin.x + x, ly, origin.y + y];
  };
}

export function layout(world: World, mode: Mode = "state", roomIndex = 0): Layout | null {
  const rooms = world.sites.flatMap((s) => s.rooms);
  const room = rooms[roomIndex];
  if (!room) return null;
  const byName = new Map(world.devices.map((d) => [d.name, d]));
  const out: Layout = { room, racks: [], places: [], devices: [], labels: [], cables: [], beacons: [], unplaced: [] };
  const where = new Map<string, Box>();

  for (const rack of room.racks) {
    const theta = (rack.rotation * Math.PI) / 180;
    const yaw = -theta; // three's rotation.y
    const at = frame(rack.position, theta);
    const height = RACK_PLINTH + rack.height_u * U_M + 0.05;
    out.racks.push({
      name: rack.name,
      centre: at(RACK_W / 2, height / 2, RACK_D / 2),
      size: [RACK_W, height, RACK_D],
      yaw,
      colour: 0x4a525c,
      front: at(RACK_W / 2, height, RACK_D),
    });
    out.labels.push({ text: rack.name, at: at(RACK_W / 2, height + 0.06, RACK_D), yaw, width: 0.5 });
    for (const m of rack.devices) {
      const h = m.height_u * U_M - 0.004;
      const y = RACK_PLINTH + (m.u - 1) * U_M + h / 2;
      const box: Box = {
        name: m.device,
        centre: at(RACK_W / 2, y, RACK_D - 0.37),
        size: [RACK_INNER_W, h, 0.7],
        yaw,
        colour: deviceColour(byName.get(m.device), mode),
        front: at(RACK_W / 2, y, RACK_D - 0.015),
      };
      out.devices.push(box);
      where.set(m.device, box);
      out.labels.push({ text: m.device, at: at(0.19, y, RACK_D - 0.012), yaw, width: 0.22 });
    }
  }

  for (const place of room.places) {
    const theta = (place.rotation * Math.PI) / 180;
    const yaw = -theta;
    const at = frame(place.position, theta);
    const n = Math.max(1, place.devices.length);
    const base = place.position.z ?? { desk: DESK.top, shelf: 1.2, wall: 2.0, floor: 0 }[place.kind];
    const width = place.kind === "desk" ? Math.max(DESK.w, n * (PC.w + 0.1) + 0.1) : n * 0.35 + 0.1;
    const depth = place.kind === "desk" ? DESK.d : place.kind === "wall" ? 0.05 : 0.35;
    const thick = place.kind === "desk" ? 0.04 : 0.03;
    if (place.kind !== "floor") {
      const centreY = base - thick / 2;
      const sizeY = thick;
      out.places.push({
        name: place.name,
        centre: at(width / 2, centreY, depth / 2),
        size: [width, sizeY, depth],
        yaw,
        colour: place.kind === "desk" ? 0x6b4f2a : 0x484f58,
        front: at(width / 2, base, depth),
      });
    }
    out.labels.push({ text: place.name, at: at(width / 2, Math.max(0.05, base - 0.1), depth + 0.01), yaw, width: 0.4 });
    place.devices.forEach((name, i) => {
      const size: Vec3 = place.kind === "desk" || place.kind === "floor" ? [PC.w, PC.h, PC.d] : [0.3, 0.08, 0.25];
      const x = 0.1 + i * (place.kind === "desk" ? PC.w + 0.1 : 0.35) + size[0] / 2;
      const y = base + size[1] / 2;
      const box: Box = {
        name,
        centre: at(x, y, depth / 2),
        size,
        yaw,
        colour: deviceColour(byName.get(name), mode),
        front: at(x, y, depth / 2 + size[2] / 2 + 0.005),
      };
      out.devices.push(box);
      where.set(name, box);
      out.labels.push({ text: name, at: at(x, y + size[1] / 2 + 0.04, depth / 2 + size[2] / 2 + 0.006), yaw, width: 0.3 });
    });
  }

  for (const box of out.devices) {
    const d = byName.get(box.name);
    if (d && d.alerts_firing > 0) box.colour = mode === "state" ? BAD : box.colour;
    if (d && d.alerts_firing > 0) out.beacons.push([box.centre[0], box.centre[1] + 0.6, box.centre[2]]);
  }
  out.unplaced = world.devices.filter((d) => !where.has(d.name)).map((d) => d.name);

  const tray = room.size.h - 0.25; // cables between racks and desks run along a ceiling tray
  for (const cable of world.cables) {
    const a = where.get(cable.a.node);
    const b = where.get(cable.b.node);
    if (!a || !b) continue;
    const pa = portPoint(a, byName.get(cable.a.node), cable.a.port);
    const pb = portPoint(b, byName.get(cable.b.node), cable.b.port);
    const points: Vec3[] = [pa, out1(pa, a), [out1(pa, a)[0], tray, out1(pa, a)[2]], [out1(pb, b)[0], tray, out1(pb, b)[2]], out1(pb, b), pb];
    out.cables.push({ index: cable.index, points, colour: cableColour(cable), status: cable.status, label: cable.label });
    if (cable.label) {
      const mid = points[2];
      out.labels.push({ text: cable.label, at: [mid[0], mid[1] - 0.06, mid[2]], yaw: a.yaw, width: 0.3 });
    }
  }
  return out;
}

/** Where on a box's front a port is: spread along its width in front-panel order. */
function portPoint(box: Box, device: WorldDevice | undefined, port: string | null): Vec3 {
  const ports = device ? naturalSort(device.ports) : [];
  const i = port ? ports.indexOf(port) : -1;
  const t = i < 0 ? 0.5 : (i + 0.5) / Math.max(1, ports.length);
  const [dx, dz] = rotate((t - 0.5) * box.size[0] * 0.9, 0, -box.yaw);
  return [box.front[0] + dx, box.front[1], box.front[2] + dz];
}

/** A point 12 cm out of the box's front (the cable leaves the port straight first). */
function out1(p: Vec3, box: Box): Vec3 {
  const [dx, dz] = rotate(0, 0.12, -box.yaw);
  return [p[0] + dx, p[1], p[2] + dz];
}

/** A made-up world for the scale test and bench/ui.py: ``racks`` racks in rows, ``devices``
 * devices spread over them, a cable between each device and the next one. */
export function generatedWorld(racks = 20, devices = 300, cables = 300): World {
  const perRow = 10;
  const rackList: Rack[] = Array.from({ length: racks }, (_, r) => ({
    name: `rack-${r + 1}`,
    position: { x: 0.5 + (r % perRow) * 0.7, y: 1 + Math.floor(r / perRow) * 2.5 },
    rotation: 0,
    height_u: 42,
    devices: [],
  }));
  const list: WorldDevice[] = [];
  for (let i = 0; i < devices; i++) {
    const name = `dev-${String(i + 1).padStart(3, "0")}`;
    const rack = rackList[i % racks];
    rack.devices.push({ device: name, u: 1 + 2 * rack.devices.length, height_u: 2 });
    list.push({
      name,
      kind: "host",
      address: `127.80.${Math.floor(i / 250)}.${(i % 250) + 1}`,
      state: i % 17 === 0 ? "timeout" : "up",
      cpu_pct: (i * 37) % 100,
      alerts_firing: i % 41 === 0 ? 1 : 0,
      ports: ["eth0", "eth1"],
      placed: true,
    });
  }
  const cableList: WorldCable[] = Array.from({ length: cables }, (_, i) => ({
    index: i,
    label: `C-${i + 1}`,
    type: "cat6",
    colour: i % 2 ? "blue" : "yellow",
    a: { node: list[i % devices].name, port: "eth0" },
    b: { node: list[(i + 1) % devices].name, port: "eth1" },
    status: i % 50 === 0 ? "wrong-port" : "ok",
    message: "",
    where: "",
  }));
  const room: Room = { name: "hall", size: { w: 8, d: 6, h: 3 }, racks: rackList, places: [] };
  return { sites: [{ name: "bench", rooms: [room] }], devices: list, cables: cableList, findings: [], source: "", version: null };
}
