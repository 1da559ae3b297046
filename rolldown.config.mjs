// `npm run build` bundles what tsc wrote to dist/src into dist/bundle, for `privlink up` only
// (bin/privlink.js). Why: Node 20's ESM loader pays per module — resolve, stat, read, lex, link —
// and the server's graph is ~250 modules: loaded as a handful of chunks, `privlink up` spends
// about a third less CPU before it answers (docs/performance.md, issue 15). Packages stay
// external (node_modules resolves them as before); dynamic imports stay lazy, as chunks.
export default {
  input: { main: "dist/src/cli/main.js" },
  platform: "node",
  external: (id) => !id.startsWith(".") && !id.startsWith("/") && !id.startsWith("\0"),
  output: { dir: "dist/bundle", format: "esm", sourcemap: true, cleanDir: true },
};
