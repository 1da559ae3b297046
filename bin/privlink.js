#!/usr/bin/env node
// The build (npm's `prepare`) compiles src/ to dist/; this shim keeps the bin path stable.
import "../dist/src/cli/main.js";
