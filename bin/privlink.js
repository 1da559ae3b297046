#!/usr/bin/env node
// The build (npm's `prepare`) compiles src/ to dist/; this shim keeps the bin path stable.
// privlink pins its AWS SDK; the SDK's warning about future releases needing Node 22 is noise here.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";
await import("../dist/src/cli/main.js");
