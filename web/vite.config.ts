import preact from "@preact/preset-vite";
import { defineConfig } from "vitest/config";

// `npm run dev` proxies the API to a running `mirror serve`/`mirror demo` on :8077.
export default defineConfig({
  plugins: [preact()],
  build: { outDir: "dist", emptyOutDir: true, sourcemap: false, target: "es2022" },
  server: {
    proxy: {
      "/api": { target: "http://127.0.0.1:8077", ws: true },
    },
  },
  test: { include: ["src/**/*.test.ts"], environment: "node" },
});
