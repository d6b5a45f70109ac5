#!/usr/bin/env node
// `tcpdump` as bpfkit provides it: the same as `bpfkit tcpdump ARGS`.
import { register } from "tsx/esm/api";
register();
const { main } = await import("../src/cli/main.ts");
process.exitCode = await main(["tcpdump", ...process.argv.slice(2)]);
