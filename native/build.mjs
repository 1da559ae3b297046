// `npm ci` / `npm install` run this (package.json "install"): builds binding.gyp's addons with
// the node-gyp npm ships. Node's headers are taken from beside this node (Debian's /usr/include/node,
// an official tarball's include/node) when they are there, else node-gyp fetches them as usual.
// A failed build does not fail the install: each addon is optional and privlink says once, at
// run time, what it does without it (src/dns/udp-batch.ts, src/net/splice.ts). .ci/run requires them built.
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";

const prefix = dirname(dirname(process.execPath));
const args = ["rebuild"];
if (!process.env.npm_config_nodedir && existsSync(join(prefix, "include", "node", "node_api.h")))
  args.push(`--nodedir=${prefix}`);
// npm sets npm_config_node_gyp for its scripts; run by hand, take the one npm ships beside node.
const shipped = join(prefix, "lib", "node_modules", "npm", "node_modules", "node-gyp", "bin", "node-gyp.js");
const gyp = process.env.npm_config_node_gyp ?? (existsSync(shipped) ? shipped : undefined);
const r = gyp
  ? spawnSync(process.execPath, [gyp, ...args], { stdio: "inherit" })
  : spawnSync("node-gyp", args, { stdio: "inherit", shell: true });
if (r.status !== 0)
  console.warn("privlink: the native addons did not build (needs make, g++, python3); DNS answers UDP through dgram and the relay copies bulk bytes in JavaScript");
