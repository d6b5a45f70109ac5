/* Counts packets by size class in an array map and bytes per protocol byte in a hash map.
 * clang -O2 -g -target bpf -c examples/count.bpf.c -o count.o */
/* self-contained: the few uapi definitions it needs, so no kernel headers are required */
typedef unsigned int __u32;
typedef unsigned long long __u64;
struct xdp_md { __u32 data, data_end, data_meta, ingress_ifindex, rx_queue_index, egress_ifindex; };
enum { BPF_MAP_TYPE_HASH = 1, BPF_MAP_TYPE_ARRAY = 2 };
enum { XDP_PASS = 2 };
#define BPF_NOEXIST 1

#define SEC(name) __attribute__((section(name), used))
#define __uint(name, val) int (*name)[val]
#define __type(name, val) typeof(val) *name

static void *(*bpf_map_lookup_elem)(void *map, const void *key) = (void *)1;
static long (*bpf_map_update_elem)(void *map, const void *key, const void *value, __u64 flags) = (void *)2;

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, __u64);
} sizes SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 256);
	__type(key, __u32);
	__type(value, __u64);
} bytes_by_proto SEC(".maps");

SEC("xdp")
int count(struct xdp_md *ctx)
{
	unsigned char *data = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;
	__u32 len = end - data, idx = len > 100, proto;
	__u64 *n = bpf_map_lookup_elem(&sizes, &idx), one = len;

	if (n)
		__sync_fetch_and_add(n, 1);
	if (data + 24 > end)
		return XDP_PASS;
	proto = data[23]; /* IPv4 protocol byte behind a 14-byte Ethernet header */
	n = bpf_map_lookup_elem(&bytes_by_proto, &proto);
	if (n)
		__sync_fetch_and_add(n, len);
	else
		bpf_map_update_elem(&bytes_by_proto, &proto, &one, BPF_NOEXIST);
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
