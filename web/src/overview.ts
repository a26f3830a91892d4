// The fleet table's first answer (GET /api/overview). index.html preloads it under its own
// URL while the script loads; that answer is used once, and only when it is a success: a page
// opened logged out preloaded a 401, and after the login the table asks again.

import { getJSON } from "./api";
import type { Overview } from "./types";

export const PRELOAD_URL = "/api/overview?preload=1"; // as in index.html
let preloaded = true;

export async function loadOverview(): Promise<Overview> {
  if (preloaded) {
    preloaded = false;
    try {
      const response = await fetch(PRELOAD_URL, { credentials: "same-origin" });
      if (response.ok) return (await response.json()) as Overview;
    } catch {
      // the network failed: ask as usual below, which reports it
    }
  }
  return getJSON<Overview>("/api/overview");
}
