// Which page the location hash names, and who may see the operators' pages. In the first
// load (main.tsx); the control pages themselves are loaded later (lazy.tsx).

export type Route =
  | { page: "fleet" }
  | { page: "host"; name: string }
  | { page: "terminal"; name: string }
  | { page: "run"; hosts: string[]; group: string | null }
  | { page: "audit"; target: string | null }
  | { page: "tunnels" }
  | { page: "alerts"; tab: string }
  | { page: "jobs" }
  | { page: "setup"; tab: string }
  | { page: "map"; layer: "physical" | "l2" | "l3" }
  | { page: "room"; generated: string | null };

/** The page a location hash names: #/host/NAME, #/terminal/NAME, #/run?host=A&host=B, #/audit,
 * #/tunnels, #/alerts?tab=history, #/setup?tab=users, #/map?layer=l2, #/discovered (the setup page's tab). */
export function parseRoute(hash: string): Route {
  const [path, query = ""] = hash.replace(/^#/, "").split("?", 2);
  const params = new URLSearchParams(query);
  let match = /^\/host\/(.+)$/.exec(path);
  if (match) return { page: "host", name: decodeURIComponent(match[1]) };
  match = /^\/terminal\/(.+)$/.exec(path);
  if (match) return { page: "terminal", name: decodeURIComponent(match[1]) };
  if (path === "/run") return { page: "run", hosts: params.getAll("host"), group: params.get("group") };
  if (path === "/audit") return { page: "audit", target: params.get("target") };
  if (path === "/tunnels") return { page: "tunnels" };
  if (path === "/alerts") return { page: "alerts", tab: params.get("tab") ?? "active" };
  if (path === "/jobs") return { page: "jobs" };
  // #/room?generated=20x300x300: a made-up world of racks x devices x cables (scale test, bench)
  if (path === "/room") return { page: "room", generated: params.get("generated") };
  if (path === "/setup") return { page: "setup", tab: params.get("tab") ?? "hosts" };
  if (path === "/map") {
    const layer = params.get("layer");
    return { page: "map", layer: layer === "physical" || layer === "l3" ? layer : "l2" };
  }
  if (path === "/discovered") return { page: "setup", tab: "discovered" };
  return { page: "fleet" };
}

/** Whether a role may operate hosts (the server checks again on every route). */
export function canOperate(role: string | undefined): boolean {
  return role === "operator" || role === "admin";
}
