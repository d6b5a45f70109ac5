// Comparison of bpfkit's verdict with a reference verdict (the kernel's), shared by the fuzz test, the corpus test and
// the conformance runner: the three figures the brief tracks (accepts kept, rejects caught, exact error lines).
export interface ReferenceVerdict { accepted: boolean; error?: string; errno?: string; processed?: number }
export interface OwnVerdict { accepted: boolean; error?: { message: string } }

export interface DiffTally {
  total: number;
  kernelAccepted: number;
  acceptedBoth: number;
  kernelRejected: number;
  rejectedBoth: number;
  exactError: number;
}

export const newTally = (): DiffTally => ({ total: 0, kernelAccepted: 0, acceptedBoth: 0, kernelRejected: 0, rejectedBoth: 0, exactError: 0 });

/** Adds one comparison; returns a short disagreement description, or undefined when the verdicts agree exactly. */
export function tallyOne(t: DiffTally, ref: ReferenceVerdict, own: OwnVerdict): string | undefined {
  t.total++;
  if (ref.accepted) {
    t.kernelAccepted++;
    if (own.accepted) { t.acceptedBoth++; return undefined; }
    return `kernel accepts, bpfkit rejects: ${own.error?.message}`;
  }
  t.kernelRejected++;
  if (own.accepted) return `kernel rejects (${ref.error}), bpfkit accepts`;
  t.rejectedBoth++;
  if ((own.error?.message ?? "") === (ref.error ?? "")) { t.exactError++; return undefined; }
  return `error line: kernel "${ref.error}" bpfkit "${own.error?.message}"`;
}

const pct = (a: number, b: number): string => (b === 0 ? "n/a" : `${((100 * a) / b).toFixed(2)}%`);

/** The three figures as one line. */
export function tallySummary(t: DiffTally): string {
  return `${t.total} programs: kernel-accepted also accepted ${t.acceptedBoth}/${t.kernelAccepted} (${pct(t.acceptedBoth, t.kernelAccepted)}), ` +
    `kernel-rejected also rejected ${t.rejectedBoth}/${t.kernelRejected} (${pct(t.rejectedBoth, t.kernelRejected)}), ` +
    `exact error line ${t.exactError}/${t.kernelRejected} (${pct(t.exactError, t.kernelRejected)})`;
}
