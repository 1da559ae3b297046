// A folder on the on-premises file server: COUNT files of SIZE random bytes (half of them in a
// subfolder), made in a fresh temporary directory. It stays while this process runs and is
// removed when the scenario stops it (at teardown, or `privlink scenario down` after --keep).
const { randomBytes } = require("node:crypto");
const { mkdirSync, mkdtempSync, rmSync, writeFileSync } = require("node:fs");
const { tmpdir } = require("node:os");
const { join } = require("node:path");

const count = Number(process.argv[2] ?? 100);
const size = Number(process.argv[3] ?? 1_000_000);
const dir = mkdtempSync(join(tmpdir(), "privlink-site-folder-"));
const remove = () => rmSync(dir, { recursive: true, force: true });
process.on("exit", remove);
process.on("SIGTERM", () => process.exit(0));
process.on("SIGINT", () => process.exit(0));

mkdirSync(join(dir, "nested"));
for (let i = 0; i < count; i++) writeFileSync(join(dir, i % 2 ? "nested" : "", `f-${i}.bin`), randomBytes(size));
console.log(`folder ${dir} ready: ${count} files, ${count * size} bytes`);
setInterval(() => {}, 1 << 30);
