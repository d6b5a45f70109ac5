/* Batch oracle for the filter grammar fuzzer's long mode: pcap_compile (the library tcpdump -d uses) on each line
 * of stdin, for DLT_EN10MB with tcpdump's default snaplen, printing tcpdump -d's listing or "error: <text>", then a
 * line holding only \001. The prototypes are declared here so libpcap's headers need not be installed. */
#include <stdio.h>
#include <string.h>
struct bpf_insn { unsigned short code; unsigned char jt, jf; unsigned int k; };
struct bpf_program { unsigned int bf_len; struct bpf_insn *bf_insns; };
typedef struct pcap pcap_t;
pcap_t *pcap_open_dead(int linktype, int snaplen);
int pcap_compile(pcap_t *p, struct bpf_program *fp, const char *expr, int optimize, unsigned int netmask);
char *pcap_geterr(pcap_t *p);
char *bpf_image(const struct bpf_insn *insn, int n);
void pcap_freecode(struct bpf_program *fp);

int main(void) {
  static char line[1 << 20];
  pcap_t *p = pcap_open_dead(1, 262144);
  while (fgets(line, sizeof line, stdin)) {
    line[strcspn(line, "\n")] = 0;
    struct bpf_program prog;
    if (pcap_compile(p, &prog, line, 1, 0) < 0) {
      printf("error: %s\n", pcap_geterr(p));
    } else {
      for (unsigned i = 0; i < prog.bf_len; i++) printf("%s\n", bpf_image(&prog.bf_insns[i], (int)i));
      pcap_freecode(&prog);
    }
    printf("\001\n");
  }
  return 0;
}
