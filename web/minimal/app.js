// The minimal live page: /api/hosts once per (re)connection, then every row live from
// the /api/live WebSocket. No polling loop; the 1 s timer only re-renders "last poll" ages.
"use strict";

// Series names this page reads (naming: mirror/model.py). The first name present wins.
const SERIES = {
  cpu: ["cpu.busy_pct"],
  mem: ["mem.used_pct"],
  load1: ["load.1"],
  uptime: ["uptime_s"],
};
const RX = "net.rx_bytes_per_s", TX = "net.tx_bytes_per_s";
const COLUMNS = ["name", "address", "groups", "state", "cpu", "mem", "load1", "rx", "tx",
  "uptime", "age"];

const rows = new Map(); // name → {host, cells}
const tbody = document.querySelector("#hosts tbody");
const link = document.getElementById("link");

function pick(metrics, names) {
  for (const n of names) if (typeof metrics[n] === "number") return metrics[n];
  return null;
}

function memPct(m) {
  const pct = pick(m, SERIES.mem);
  if (pct !== null) return pct;
  const total = m["mem.total_bytes"], available = m["mem.available_bytes"];
  const used = m["mem.used_bytes"] ?? (available >= 0 ? total - available : undefined);
  return used >= 0 && total > 0 ? (100 * used) / total : null;
}

// Summed over interfaces, loopback left out: it is not LAN traffic.
function netSum(m, metric) {
  let sum = null;
  for (const [name, v] of Object.entries(m)) {
    const open = name.indexOf("[");
    if (open < 0 || name.slice(0, open) !== metric || !name.endsWith("]")) continue;
    if (name.slice(open + 1, -1) === "lo") continue;
    sum = (sum ?? 0) + v;
  }
  return sum;
}

const fixed = (v, d) => (v === null ? "–" : v.toFixed(d));

function rate(v) {
  if (v === null) return "–";
  const units = ["B/s", "kB/s", "MB/s", "GB/s"];
  let i = 0;
  while (v >= 1000 && i < units.length - 1) { v /= 1000; i++; }
  return `${v.toFixed(v < 10 && i ? 1 : 0)} ${units[i]}`;
}

function duration(s) {
  if (s === null || s < 0) return "–";
  const d = Math.floor(s / 86400), h = Math.floor((s % 86400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  if (d) return `${d}d ${h}h`;
  if (h) return `${h}h ${m}m`;
  return m ? `${m}m` : `${Math.floor(s)}s`;
}

function age(ts) {
  return ts ? duration(Math.max(0, Date.now() / 1000 - ts)) + " ago" : "never";
}

function rowFor(name) {
  let row = rows.get(name);
  if (row) return row;
  const tr = document.createElement("tr");
  const cells = {};
  for (const col of COLUMNS) {
    const td = document.createElement("td");
    td.className = col === "name" ? "name" : ["address", "groups"].includes(col) ? "dim"
      : col === "state" ? "" : "num metric";
    tr.appendChild(td);
    cells[col] = td;
  }
  cells.name.textContent = name;
  cells.state.appendChild(document.createElement("span"));
  tbody.appendChild(tr);
  row = { host: { name, metrics: {}, ts: null }, cells, tr };
  rows.set(name, row);
  document.getElementById("empty").hidden = true;
  return row;
}

// One path for both sources; a stale update (older ts) never overwrites a newer one.
function apply(update) {
  const row = rowFor(update.name);
  const host = row.host;
  // Events carry no identity; /api/hosts does.
  if (update.address !== undefined) host.address = update.address;
  if (update.groups !== undefined) host.groups = update.groups;
  if (!(host.ts && update.ts && update.ts < host.ts)) {
    for (const key of ["state", "error", "ts"]) {
      if (update[key] !== undefined) host[key] = update[key];
    }
    // An unreachable host's poll carries no metrics: keep the last ones, shown dimmed.
    if (update.metrics && Object.keys(update.metrics).length) host.metrics = update.metrics;
  }
  render(row);
}

function render({ host, cells, tr }) {
  const m = host.metrics;
  const state = host.state || "pending";
  cells.address.textContent = host.address || "";
  cells.groups.textContent = (host.groups || []).join(", ");
  const badge = cells.state.firstChild;
  badge.className = `state ${state}`;
  badge.textContent = state;
  badge.title = host.error || "";
  tr.classList.toggle("stale", state !== "up");
  cells.cpu.textContent = fixed(pick(m, SERIES.cpu), 1);
  cells.mem.textContent = fixed(memPct(m), 1);
  cells.load1.textContent = fixed(pick(m, SERIES.load1), 2);
  cells.rx.textContent = rate(netSum(m, RX));
  cells.tx.textContent = rate(netSum(m, TX));
  cells.uptime.textContent = duration(pick(m, SERIES.uptime));
  cells.age.textContent = age(host.ts);
}

function summarize() {
  let up = 0;
  for (const { host } of rows.values()) if (host.state === "up") up++;
  document.getElementById("summary").textContent = `${up} / ${rows.size} up`;
}

async function loadHosts() {
  const response = await fetch("/api/hosts");
  if (!response.ok) throw new Error(`/api/hosts: HTTP ${response.status}`);
  const hosts = await response.json();
  for (const host of hosts) apply(host);
  document.getElementById("empty").hidden = rows.size > 0;
  summarize();
}

function setLink(state) {
  link.className = `link ${state}`;
  link.textContent = state;
}

let backoffMs = 1000;
let connectedBefore = false;

function connect() {
  setLink("connecting");
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  const socket = new WebSocket(`${scheme}//${location.host}/api/live`);
  socket.onopen = () => {
    backoffMs = 1000;
    setLink("live");
    // After a reconnect, catch up on whatever happened while we were not subscribed.
    if (connectedBefore) loadHosts().catch((err) => console.error(err));
    connectedBefore = true;
  };
  socket.onmessage = (message) => {
    const event = JSON.parse(message.data);
    if (event.type !== "host") return;
    apply({ ...event, name: event.host });
    summarize();
  };
  socket.onclose = () => {
    setLink("disconnected");
    const delay = backoffMs * (0.75 + Math.random() * 0.5);
    backoffMs = Math.min(backoffMs * 2, 30000);
    setTimeout(connect, delay);
  };
}

setInterval(() => {
  for (const { host, cells } of rows.values()) cells.age.textContent = age(host.ts);
}, 1000);
loadHosts().catch((err) => console.error(err));
connect();
