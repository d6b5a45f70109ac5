// The running kernel's configuration as libbpf reads it for `extern ... __kconfig` variables: LINUX_KERNEL_VERSION from
// the release (KERNEL_VERSION(a, b, min(c, 255))), CONFIG_* from /boot/config-RELEASE or /proc/config.gz
// ("y"/"n"/"m" tristates, numbers, quoted strings).
import { readFileSync } from "node:fs";
import { release } from "node:os";
import { gunzipSync } from "node:zlib";

export type KconfigValues = Record<string, number | bigint | boolean | string>;

let cached: KconfigValues | undefined;

export function hostKconfig(): KconfigValues {
  if (cached) return cached;
  const values: KconfigValues = {};
  const [a = 0, b = 0, c = 0] = (/^(\d+)\.(\d+)(?:\.(\d+))?/.exec(release()) ?? []).slice(1).map((x) => Number(x ?? 0));
  values.LINUX_KERNEL_VERSION = (a << 16) + (b << 8) + Math.min(c, 255);
  const config = readKernelConfig();
  const text = "text" in config ? config.text : ""; // no config: externs stay 0
  for (const line of text.split("\n")) {
    const m = /^(CONFIG_\w+)=(.*)$/.exec(line);
    if (!m) continue;
    const v = m[2]!;
    if (v === "y" || v === "n" || v === "m") values[m[1]!] = v;
    else if (/^"/.test(v)) values[m[1]!] = v.slice(1, -1);
    else if (/^-?(0x[0-9a-f]+|\d+)$/i.test(v)) values[m[1]!] = BigInt(v);
  }
  return (cached = values);
}

/**
 * The kernel's config file as libbpf and bpftool find it: /boot/config-RELEASE, else /proc/config.gz (either may be
 * gzipped), or the errno name of the last failure to open one.
 */
export function readKernelConfig(): { text: string } | { errno: string } {
  let errno = "ENOENT";
  for (const path of [`/boot/config-${release()}`, "/proc/config.gz"]) {
    try {
      const bytes = readFileSync(path);
      const gz = bytes[0] === 0x1f && bytes[1] === 0x8b;
      return { text: (gz ? gunzipSync(bytes) : bytes).toString("utf8") };
    } catch (e) {
      errno = (e as { code?: string }).code ?? errno;
    }
  }
  return { errno };
}
