// GET /api/health (api/schemas.py Health): "degraded" while storage refuses writes or a
// storage job (EGO's own, or TimescaleDB's policies) fails or never runs. The UI shows
// its problems above every page and asks again every HEALTH_EVERY_MS.

export const HEALTH_EVERY_MS = 30_000;

export interface Health {
  status: "ok" | "degraded";
  problems?: string[];
}

/** What to show: the problems of a degraded answer, none otherwise (or without an answer). */
export function healthProblems(health: Health | null): string[] {
  if (!health || health.status !== "degraded") return [];
  return health.problems?.length ? health.problems : ["degraded"];
}
