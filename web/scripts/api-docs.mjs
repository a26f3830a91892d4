// Copy Swagger UI (swagger-ui-dist) into dist/api-docs, so that EGO's API reference page
// (/schema, rendered by Litestar) loads it from EGO itself, never from a CDN.
import { copyFileSync, mkdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const source = dirname(createRequire(import.meta.url).resolve("swagger-ui-dist/package.json"));
const target = join(here, "..", "dist", "api-docs");
mkdirSync(target, { recursive: true });
for (const name of [
  "swagger-ui-bundle.js",
  "swagger-ui-standalone-preset.js",
  "swagger-ui.css",
  "LICENSE",
  "NOTICE",
]) {
  copyFileSync(join(source, name), join(target, name));
}
