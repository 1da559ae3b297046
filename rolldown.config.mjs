// `npm run build` bundles what tsc wrote to dist/src into dist/bundle, which bin/privlink.js runs
// every command from. Why: Node 20's ESM loader pays per module — resolve, stat, read, lex, link —
// and the server's graph is ~250 modules: loaded as a handful of chunks, `privlink up` spends
// about a third less CPU before it answers (docs/performance.md, issue 15); a client command
// loads its few chunks instead of ~10 modules. Packages stay external (node_modules resolves
// them as before) except commander, which every command parses its arguments with: inlined, it
// is compiled with the CLI, not loaded as 7 CommonJS files that Node lexes from ESM first.
// Dynamic imports stay lazy, as chunks. Comments are dropped (V8 scans every byte it loads)
// except legal ones; the source maps still point at dist/src. Non-ASCII characters in strings
// are written as escapes: one "…" made the whole 1 MB server chunk a two-byte string for V8,
// and Node's UTF-8 decode of it 3-4× slower, at every start.
export default {
  input: { main: "dist/src/cli/main.js" },
  platform: "node",
  external: (id) =>
    id !== "commander" && !id.startsWith(".") && !id.startsWith("/") && !id.startsWith("\0"),
  output: {
    dir: "dist/bundle",
    format: "esm",
    sourcemap: true,
    cleanDir: true,
    comments: { legal: true, annotation: true, jsdoc: false },
    charset: "ascii",
  },
};
