// bpftool 7.1's usage texts, one per object, as data. `{B}` is the program name (bpfkit), `{O}` the object word as the
// user typed it (bpftool echoes `p`, `m` … for prog, map …; btf, gen and iter print their full name). bpfkit prints
// them as bpftool does so scripts and muscle memory carry over; commands bpfkit does not run yet say so when used.

const OPTS_BASE = "{ {-j|--json} [{-p|--pretty}] | {-d|--debug} | {-l|--legacy}";

const PROG_TYPES = `{ socket | kprobe | kretprobe | classifier | action |
                 tracepoint | raw_tracepoint | xdp | perf_event | cgroup/skb |
                 cgroup/sock | cgroup/dev | lwt_in | lwt_out | lwt_xmit |
                 lwt_seg6local | sockops | sk_skb | sk_msg | lirc_mode2 |
                 sk_reuseport | flow_dissector | cgroup/sysctl |
                 cgroup/bind4 | cgroup/bind6 | cgroup/post_bind4 |
                 cgroup/post_bind6 | cgroup/connect4 | cgroup/connect6 |
                 cgroup/getpeername4 | cgroup/getpeername6 |
                 cgroup/getsockname4 | cgroup/getsockname6 | cgroup/sendmsg4 |
                 cgroup/sendmsg6 | cgroup/recvmsg4 | cgroup/recvmsg6 |
                 cgroup/getsockopt | cgroup/setsockopt | cgroup/sock_release |
                 struct_ops | fentry | fexit | freplace | sk_lookup }`;

const MAP_TYPES = `{ hash | array | prog_array | perf_event_array | percpu_hash |
                 percpu_array | stack_trace | cgroup_array | lru_hash |
                 lru_percpu_hash | lpm_trie | array_of_maps | hash_of_maps |
                 devmap | devmap_hash | sockmap | cpumap | xskmap | sockhash |
                 cgroup_storage | reuseport_sockarray | percpu_cgroup_storage |
                 queue | stack | sk_storage | struct_ops | ringbuf | inode_storage |
                 task_storage | bloom_filter | user_ringbuf }`;

const PROG_SPEC = "PROG := { id PROG_ID | pinned FILE | tag PROG_TAG | name PROG_NAME }";
const MAP_SPEC = "MAP := { id MAP_ID | pinned FILE | name MAP_NAME }";

export const MAIN_USAGE = `Usage: {B} [OPTIONS] OBJECT { COMMAND | help }
       {B} batch file FILE
       {B} version

       OBJECT := { prog | map | link | cgroup | perf | net | feature | btf | gen | struct_ops | iter }
       OPTIONS := ${OPTS_BASE} |
                    {-V|--version} }
`;

export const OBJECT_USAGE: Readonly<Record<string, string>> = {
  prog: `Usage: {B} {O} { show | list } [PROG]
       {B} {O} dump xlated PROG [{ file FILE | opcodes | visual | linum }]
       {B} {O} dump jited  PROG [{ file FILE | opcodes | linum }]
       {B} {O} pin   PROG FILE
       {B} {O} { load | loadall } OBJ  PATH \\
                         [type TYPE] [dev NAME] \\
                         [map { idx IDX | name NAME } MAP]\\
                         [pinmaps MAP_DIR]
       {B} {O} attach PROG ATTACH_TYPE [MAP]
       {B} {O} detach PROG ATTACH_TYPE [MAP]
       {B} {O} run PROG \\
                         data_in FILE \\
                         [data_out FILE [data_size_out L]] \\
                         [ctx_in FILE [ctx_out FILE [ctx_size_out M]]] \\
                         [repeat N]
       {B} {O} profile PROG [duration DURATION] METRICs
       {B} {O} tracelog
       {B} {O} help

       ${MAP_SPEC}
       ${PROG_SPEC}
       TYPE := ${PROG_TYPES}
       ATTACH_TYPE := { sk_msg_verdict | sk_skb_verdict | sk_skb_stream_verdict |
                        sk_skb_stream_parser | flow_dissector }
       METRIC := { cycles | instructions | l1d_loads | llc_misses | itlb_misses | dtlb_misses }
       OPTIONS := ${OPTS_BASE} |
                    {-f|--bpffs} | {-m|--mapcompat} | {-n|--nomount} |
                    {-L|--use-loader} }
`,
  map: `Usage: {B} {O} { show | list }   [MAP]
       {B} {O} create     FILE type TYPE key KEY_SIZE value VALUE_SIZE \\
                                  entries MAX_ENTRIES name NAME [flags FLAGS] \\
                                  [inner_map MAP] [dev NAME]
       {B} {O} dump       MAP
       {B} {O} update     MAP [key DATA] [value VALUE] [UPDATE_FLAGS]
       {B} {O} lookup     MAP [key DATA]
       {B} {O} getnext    MAP [key DATA]
       {B} {O} delete     MAP  key DATA
       {B} {O} pin        MAP  FILE
       {B} {O} event_pipe MAP [cpu N index M]
       {B} {O} peek       MAP
       {B} {O} push       MAP value VALUE
       {B} {O} pop        MAP
       {B} {O} enqueue    MAP value VALUE
       {B} {O} dequeue    MAP
       {B} {O} freeze     MAP
       {B} {O} help

       ${MAP_SPEC}
       DATA := { [hex] BYTES }
       ${PROG_SPEC}
       VALUE := { DATA | MAP | PROG }
       UPDATE_FLAGS := { any | exist | noexist }
       TYPE := ${MAP_TYPES}
       OPTIONS := ${OPTS_BASE} |
                    {-f|--bpffs} | {-n|--nomount} }
`,
  link: `Usage: {B} {O} { show | list }   [LINK]
       {B} {O} pin        LINK  FILE
       {B} {O} detach     LINK
       {B} {O} help

       LINK := { id LINK_ID | pinned FILE }
       OPTIONS := ${OPTS_BASE} |
                    {-f|--bpffs} | {-n|--nomount} }
`,
  cgroup: `Usage: {B} {O} { show | list } CGROUP [**effective**]
       {B} {O} tree [CGROUP_ROOT] [**effective**]
       {B} {O} attach CGROUP ATTACH_TYPE PROG [ATTACH_FLAGS]
       {B} {O} detach CGROUP ATTACH_TYPE PROG
       {B} {O} help

       ATTACH_TYPE := { cgroup_inet_ingress | cgroup_inet_egress |
                        cgroup_inet_sock_create | cgroup_sock_ops |
                        cgroup_device | cgroup_inet4_bind |
                        cgroup_inet6_bind | cgroup_inet4_post_bind |
                        cgroup_inet6_post_bind | cgroup_inet4_connect |
                        cgroup_inet6_connect | cgroup_inet4_getpeername |
                        cgroup_inet6_getpeername | cgroup_inet4_getsockname |
                        cgroup_inet6_getsockname | cgroup_udp4_sendmsg |
                        cgroup_udp6_sendmsg | cgroup_udp4_recvmsg |
                        cgroup_udp6_recvmsg | cgroup_sysctl |
                        cgroup_getsockopt | cgroup_setsockopt |
                        cgroup_inet_sock_release }
       ATTACH_FLAGS := { multi | override }
       ${PROG_SPEC}
       OPTIONS := ${OPTS_BASE} |
                    {-f|--bpffs} }
`,
  perf: `Usage: {B} {O} { show | list }
       {B} {O} help }

       OPTIONS := ${OPTS_BASE} }
`,
  net: `Usage: {B} {O} { show | list } [dev <devname>]
       {B} {O} attach ATTACH_TYPE PROG dev <devname> [ overwrite ]
       {B} {O} detach ATTACH_TYPE dev <devname>
       {B} {O} help

       ${PROG_SPEC}
       ATTACH_TYPE := { xdp | xdpgeneric | xdpdrv | xdpoffload }
       OPTIONS := ${OPTS_BASE} }

Note: Only xdp and tc attachments are supported now.
      For progs attached to cgroups, use "{B} cgroup"
      to dump program attachments. For program types
      sk_{filter,skb,msg,reuseport} and lwt/seg6, please
      consult iproute2.
`,
  feature: `Usage: {B} {O} probe [COMPONENT] [full] [unprivileged] [macros [prefix PREFIX]]
       {B} {O} list_builtins GROUP
       {B} {O} help

       COMPONENT := { kernel | dev NAME }
       GROUP := { prog_types | map_types | attach_types | link_types | helpers }
       OPTIONS := ${OPTS_BASE} }
`,
  btf: `Usage: {B} btf { show | list } [id BTF_ID]
       {B} btf dump BTF_SRC [format FORMAT]
       {B} btf help

       BTF_SRC := { id BTF_ID | prog PROG | map MAP [{key | value | kv | all}] | file FILE }
       FORMAT  := { raw | c }
       ${MAP_SPEC}
       ${PROG_SPEC}
       OPTIONS := ${OPTS_BASE} |
                    {-B|--base-btf} }
`,
  gen: `Usage: {B} gen object OUTPUT_FILE INPUT_FILE [INPUT_FILE...]
       {B} gen skeleton FILE [name OBJECT_NAME]
       {B} gen subskeleton FILE [name OBJECT_NAME]
       {B} gen min_core_btf INPUT OUTPUT OBJECT [OBJECT...]
       {B} gen help

       OPTIONS := ${OPTS_BASE} |
                    {-L|--use-loader} }
`,
  struct_ops: `Usage: {B} {O} { show | list } [STRUCT_OPS_MAP]
       {B} {O} dump [STRUCT_OPS_MAP]
       {B} {O} register OBJ
       {B} {O} unregister STRUCT_OPS_MAP
       {B} {O} help

       STRUCT_OPS_MAP := [ id STRUCT_OPS_MAP_ID | name STRUCT_OPS_MAP_NAME ]
       OPTIONS := ${OPTS_BASE} }
`,
  iter: `Usage: {B} iter pin OBJ PATH [map MAP]
       {B} iter help

       ${MAP_SPEC}
       OPTIONS := ${OPTS_BASE} }
`,
};

/** A usage text with the program name and the object word as typed filled in. */
export function renderUsage(text: string, bin: string, objectWord = ""): string {
  return text.replaceAll("{B}", bin).replaceAll("{O}", objectWord);
}

/**
 * A command's output that ended in bpftool's usage(): the object's help appended in plain mode, naming the object as
 * `typedObject` (how the user typed it, `n` for net).
 */
export function withUsage<T extends { stderr: string; usage?: boolean }>(out: T, json: boolean, object: string, typedObject = object): T {
  if (out.usage && !json) out.stderr += renderUsage(OBJECT_USAGE[object]!, "bpfkit", typedObject);
  return out;
}
