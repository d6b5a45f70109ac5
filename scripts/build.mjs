// `npm run build` (and `prepare`, so git and tarball installs get it): compiles src/ into dist/ (ESM + .d.ts) with
// tsconfig.build.json, starting from an empty dist/ so nothing stale is shipped.
import { rmSync } from "node:fs";
import { spawnSync } from "node:child_process";
import { createRequire } from "node:module";

const root = new URL("../", import.meta.url);
rmSync(new URL("dist", root), { recursive: true, force: true });
const tsc = createRequire(import.meta.url).resolve("typescript/bin/tsc");
const r = spawnSync(process.execPath, [tsc, "-p", "tsconfig.build.json"], { cwd: root, stdio: "inherit" });
process.exit(r.status ?? 1);
