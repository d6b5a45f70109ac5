// The `bpfkit` command line. Subcommands are named as bpftool, tcpdump and bpftrace name them; each lives in its own
// module (loaded on demand, so `bpfkit filter` never loads the kernel backend) and returns an exit code.
// Errors reaching here are rendered as one line, never as a stack trace.
import { isBpfError } from "../errors.ts";
import { moduleUrl } from "./module-url.ts";

export type Command = (args: string[]) => Promise<number>;

const commands: Record<string, { help: string }> = {
  run: { help: "run [--type T] [--data HEX|--data-file F] [--repeat N] [--engine interp|jit] FILE...  run programs like `bpftool prog run`" },
  asm: { help: "asm [--syntax kernel|llvm] [-o OUT] FILE  assemble to raw instructions, or disassemble a .bin" },
  verify: { help: "verify [--type T] [--prog NAME] [--log-level N] [--unpriv] FILE...  run the verifier" },
  filter: { help: "filter [-y LINKTYPE] [-O] [-s SNAPLEN] [-F FILE] -d|-dd|-ddd EXPR | -r FILE [-w OUT] [-c N] [--count] EXPR  tcpdump's filters" },
  tcpdump: { help: "tcpdump [-r FILE | -i IF] [-w OUT] [-c N] [-nn] [-e] [-q] [-v] [-x|-X|-A] [-t...] [-d] EXPR  tcpdump 4.99's command line" },
  cbpf: { help: "cbpf asm|disasm|check|run ...  classic BPF tools (bpf_asm syntax, disassembler, checker, seccomp)" },
  prog: { help: "[--vm] prog show|dump|load|loadall ...  like bpftool prog (kernel ids, --vm: bpfkit's VM, or `file X.o`)" },
  map: { help: "map show|dump ...  like bpftool map" },
  btf: { help: "btf dump file X [format raw|c] | btf show  like bpftool btf" },
  object: { help: "object show X.o [-j|-p]  programs, maps and BTF of an ELF object" },
  gen: { help: "gen skeleton X.o  a typed TypeScript skeleton" },
  link: { help: "link show  like bpftool link" },
  perf: { help: "perf  programs attached through perf events, like bpftool perf" },
  trace: { help: "trace [-e PROGRAM | FILE.bt] [-l [PATTERN]] [-c CMD] [-p PID] [-f text|json] [-v] [-d]  bpftrace's language (root)" },
  tools: { help: "tools bitehist [SECONDS] | lostupdates [--vm] [N [EVENTS]]  the seed's tracing tools (Linux: root; --vm: worker CPUs)" },
  exporter: { help: "exporter --config.dir=DIR --config.names=a,b [--web.listen-address=:9435]  BPF maps as Prometheus metrics (ebpf_exporter configs)" },
  kernel: { help: "kernel bitesize [--bcc] [INTERVAL [COUNT]]  real in-kernel demos (root)" },
  web: { help: "web [--port N] [--host ADDR]  the playground in a web page (built with esbuild, served on localhost)" },
};

function usage(): string {
  return ["Usage: bpfkit COMMAND [ARGS]", "", ...Object.entries(commands).map(([, c]) => `  bpfkit ${c.help}`), "",
    "bpftool's objects (prog, map, link, btf, gen, perf, ...) take bpftool's grammar: global options anywhere,",
    "objects and commands by prefix (`bpfkit -j p s`), `bpfkit prog help` for each object's usage."].join("\n");
}

/** bpftool's objects (and `version`, `batch`): these go through bpftool's grammar in src/cli/bpftool.ts. */
const BPFTOOL_OBJECTS = new Set(["prog", "map", "link", "btf", "gen", "perf", "net", "cgroup", "feature", "struct_ops", "iter", "batch", "version"]);

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === "help" || name === "--help" || name === "-h") {
    console.log(usage());
    return name === undefined ? 1 : 0;
  }
  const cmd = commands[name];
  // bpfkit's own commands by their exact name; everything else is read as bpftool reads its command line
  // (global options anywhere, objects and commands by prefix: `bpfkit -j p s`)
  if (cmd !== undefined && !BPFTOOL_OBJECTS.has(name)) return run(name, rest);
  if (cmd === undefined && !name.startsWith("-") && ![...BPFTOOL_OBJECTS, "help"].some((o) => o.startsWith(name))) {
    console.error(`bpfkit: unknown command '${name}'\n${usage()}`);
    return 1;
  }
  return bpftool(argv);
}

/** One bpftool command line through the grammar (batch files run each of their lines through this). */
export const runBpftoolArgv = (argv: string[]): Promise<number> => bpftool(argv);

async function bpftool(argv: string[]): Promise<number> {
  const { routeBpftool } = await import("./bpftool.ts");
  const route = routeBpftool(argv);
  if (route.kind === "outcome") {
    process.stdout.write(route.outcome.stdout);
    process.stderr.write(route.outcome.stderr);
    return route.outcome.code;
  }
  return run(route.object, route.args);
}

async function run(name: string, rest: string[]): Promise<number> {
  let mod: { default: Command };
  try {
    // each command is its own module, named after it (src/cli/<name>.ts)
    mod = (await import(moduleUrl(`./${name}`).href)) as { default: Command };
  } catch (e) {
    if ((e as { code?: string }).code === "ERR_MODULE_NOT_FOUND") {
      console.error(`bpfkit: '${name}' is not built yet in this version of bpfkit`);
      return 2;
    }
    throw e;
  }
  try {
    return await mod.default(rest);
  } catch (e) {
    if (isBpfError(e)) {
      console.error(`bpfkit ${name}: ${e.message}`);
      return 1;
    }
    const msg = e instanceof Error ? e.message : String(e);
    console.error(`bpfkit ${name}: internal error: ${msg}`);
    if (process.env.BPFKIT_DEBUG) console.error(e);
    return 70;
  }
}
