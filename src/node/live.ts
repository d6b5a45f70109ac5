// Live capture for `bpfkit tcpdump -i` (Node edge): placeholder until the AF_PACKET backend lands.
import type { PrintOptions } from "../decode/index.ts";

export interface LiveOptions {
  readonly device: string | undefined;
  readonly expr: string;
  readonly optimize: boolean;
  readonly snaplen: number;
  readonly count: number;
  readonly print: PrintOptions;
  readonly write: string | undefined;
  readonly countOnly: boolean;
  readonly promisc: boolean;
  readonly direction: string | undefined;
  readonly perPacket: boolean;
  readonly listLinkTypes: boolean;
  readonly linktype: string | undefined;
  readonly hosts: ReadonlyMap<string, string>;
  readonly onError: (text: string) => never;
}

export async function liveCapture(o: LiveOptions): Promise<number> {
  return o.onError("live capture needs the kernel (Linux, root)");
}
