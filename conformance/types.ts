import { pathToFileURL } from "node:url";
// The shape every conformance runner returns (see scripts/conformance.ts).
export interface CorpusResult {
  readonly name: string;
  readonly passed: number;
  readonly failed: number;
  /** Names (and short reasons) of the failing cases. */
  readonly failures: readonly string[];
  /** Extra lines printed under the summary (skipped cases with reasons, figures). */
  readonly notes?: readonly string[];
  /** Replaces the default `NAME: N passed, M failed` line (e.g. `elf: N loaded, M rejected`). */
  readonly summary?: string;
  /** Set when the corpus could not be run at all; the reason is printed. */
  readonly skipped?: string;
}

/** ../shared/corpora, resolved from the repository root (BPFKIT_CORPORA overrides it, e.g. from a worktree). */
export const CORPORA = process.env.BPFKIT_CORPORA
  ? pathToFileURL(process.env.BPFKIT_CORPORA.replace(/\/?$/, "/"))
  : new URL("../../shared/corpora/", import.meta.url);
