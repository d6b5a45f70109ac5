// Node-edge event sources for bpfkit's VM (Node only, may import node:): Node's diagnostics_channel channels as
// `usdt:node:CHANNEL` probes of the tracer. The worker-thread CPUs and file-system pins of the runtime come here too.
export { traceChannels } from "./trace-channels.ts";
