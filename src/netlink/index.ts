// rtnetlink, the part `bpftool net` speaks: requests built and replies parsed byte for byte (link, qdisc, class and
// filter dumps; RTM_SETLINK with IFLA_XDP; NLMSG_ERROR with extended-ack messages), and the typed model of what they
// carry (devices with their XDP state, tc bpf filters). The Linux backend sends these over an AF_NETLINK socket
// (src/kernel/netlink.ts); the VM answers them from its devices (src/runtime/netdev.ts). Pure: imports nothing.
export * from "./rtnetlink.ts";
