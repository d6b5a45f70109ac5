// libbpf's hashmap as bpftool 7.1 fills it with hashmap__append, reduced to what decides the order in which one key's
// values are visited: an insert prepends to the key's bucket chain, and every growth (when the map is empty or would
// pass 75% of its capacity; capacity 4, 8, 16...) rehashes each chain by prepending, which reverses it.

export class BpftoolMultimap<V> {
  private readonly chains = new Map<number, V[]>();
  private size = 0;
  private cap = 0;

  append(key: number, value: V): void {
    if (this.cap === 0 || Math.floor(((this.size + 1) * 4) / 3) > this.cap) {
      this.cap = this.cap === 0 ? 4 : this.cap * 2;
      for (const chain of this.chains.values()) chain.reverse();
    }
    const chain = this.chains.get(key) ?? [];
    chain.unshift(value);
    this.chains.set(key, chain);
    this.size++;
  }

  get(key: number): V[] {
    return this.chains.get(key) ?? [];
  }

  get empty(): boolean {
    return this.size === 0;
  }
}
