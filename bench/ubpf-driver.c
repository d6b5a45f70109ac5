/* uBPF timing driver for bench/jit.bench.ts (built into a temporary folder with uBPF from ../shared/peers/ubpf).
 * usage: ubpf-driver PROG.bin MEMLEN SECONDS_BUDGET_RUNS
 * Loads raw little-endian eBPF slots, runs them on a MEMLEN-byte zeroed buffer with the interpreter and with the
 * x86-64 JIT, and prints "interp_ns_per_run jit_ns_per_run r0_interp r0_jit". Helper 1 is a one-slot array lookup. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "ubpf.h"

static uint64_t value;
static uint64_t lookup(uint64_t map, uint64_t key, uint64_t a, uint64_t b, uint64_t c) {
  (void)map; (void)a; (void)b; (void)c;
  return *(uint32_t*)(uintptr_t)key == 0 ? (uint64_t)(uintptr_t)&value : 0;
}

static double now_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return t.tv_sec * 1e9 + t.tv_nsec;
}

int main(int argc, char** argv) {
  if (argc < 4) { fprintf(stderr, "usage: %s PROG.bin MEMLEN RUNS\n", argv[0]); return 2; }
  FILE* f = fopen(argv[1], "rb");
  if (!f) { perror(argv[1]); return 1; }
  static uint8_t code[1 << 20];
  size_t n = fread(code, 1, sizeof code, f);
  fclose(f);
  size_t memlen = strtoul(argv[2], 0, 10);
  long runs = strtol(argv[3], 0, 10);
  uint8_t* mem = calloc(1, memlen ? memlen : 1);
  struct ubpf_vm* vm = ubpf_create();
  ubpf_toggle_bounds_check(vm, false);
  ubpf_register(vm, 1, "map_lookup_elem", lookup);
  char* err = 0;
  if (ubpf_load(vm, code, (uint32_t)n, &err) < 0) { fprintf(stderr, "load: %s\n", err); return 1; }
  uint64_t r0i = 0, r0j = 0;
  for (int k = 0; k < 10; k++) ubpf_exec(vm, mem, memlen, &r0i);
  double best_i = 1e300, best_j = 1e300;
  for (int t = 0; t < 7; t++) {
    double t0 = now_ns();
    for (long k = 0; k < runs; k++) { value = 0; ubpf_exec(vm, mem, memlen, &r0i); }
    double d = (now_ns() - t0) / runs;
    if (d < best_i) best_i = d;
  }
  ubpf_jit_fn fn = ubpf_compile(vm, &err);
  if (!fn) { fprintf(stderr, "jit: %s\n", err); printf("%.2f nan %llu 0\n", best_i, (unsigned long long)r0i); return 0; }
  for (int k = 0; k < 10; k++) r0j = fn(mem, memlen);
  long jruns = runs * 20;
  for (int t = 0; t < 7; t++) {
    double t0 = now_ns();
    for (long k = 0; k < jruns; k++) { value = 0; r0j = fn(mem, memlen); }
    double d = (now_ns() - t0) / jruns;
    if (d < best_j) best_j = d;
  }
  printf("%.2f %.2f %llu %llu\n", best_i, best_j, (unsigned long long)r0i, (unsigned long long)r0j);
  return 0;
}
