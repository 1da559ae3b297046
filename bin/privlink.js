#!/usr/bin/env -S node --max-semi-space-size=64
import { statSync } from "node:fs";

// The shebang's V8 flag is SERVER_NODE_FLAGS (src/package.ts says why); `npm start` passes it too.

// The build (npm's `prepare`) compiles src/ to dist/; this shim keeps the bin path stable.
// privlink pins its AWS SDK; the SDK's warning about future releases needing Node 22 is noise here.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";

// Every command runs from dist/bundle (rolldown.config.mjs: the server's ~250 modules in a few
// chunks start about a third faster; a client command loads its few chunks, commander inlined).
// A bundle older than dist/src (tsc ran alone since) would be stale code: dist/src runs instead.
const mtime = (path) => statSync(new URL(path, import.meta.url), { throwIfNoEntry: false })?.mtimeMs ?? -1;
const bundled = mtime("../dist/bundle/main.js") >= mtime("../dist/src/cli/main.js");
await import(bundled ? "../dist/bundle/main.js" : "../dist/src/cli/main.js");
