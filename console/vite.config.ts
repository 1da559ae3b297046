import react from "@vitejs/plugin-react";
import { defineConfig } from "vite";

// The console bundle: served by privlink's edge at `/`, from console/dist, with no external requests.
export default defineConfig({
  root: import.meta.dirname,
  base: "/",
  plugins: [react()],
  build: {
    outDir: "dist",
    emptyOutDir: true,
    sourcemap: false,
    reportCompressedSize: false,
    chunkSizeWarningLimit: 1024,
  },
  logLevel: "warn",
});
