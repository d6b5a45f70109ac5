#!/usr/bin/env node
// `tcpdump` as bpfkit provides it: the same as `bpfkit tcpdump ARGS`, compiled or from source as bin/bpfkit.mjs decides.
process.argv.splice(2, 0, "tcpdump");
await import("./bpfkit.mjs");
