// CodeMirror 6 editors for the three languages the playground reads: pcap-filter expressions, eBPF assembly (kernel
// and llvm syntax) and bpftrace scripts. Highlighting is a small stream tokenizer per language; errors from the core
// are underlined at their line and column through @codemirror/lint.
import { EditorState } from "@codemirror/state";
import { EditorView, keymap, lineNumbers, highlightActiveLine, drawSelection } from "@codemirror/view";
import { defaultKeymap, history, historyKeymap } from "@codemirror/commands";
import { StreamLanguage, syntaxHighlighting, defaultHighlightStyle, type StreamParser } from "@codemirror/language";
import { setDiagnostics, type Diagnostic } from "@codemirror/lint";
import type { SourceError } from "./playground.ts";

const FILTER_WORDS = new Set(("host net port portrange src dst ether ip ip6 arp rarp tcp udp icmp icmp6 sctp igmp vlan mpls " +
  "and or not less greater proto broadcast multicast gateway mask len inbound outbound ifname on pppoed pppoes geneve " +
  "wlan type subtype addr1 addr2 addr3 addr4 ra ta link atalk decnet iso stp ipx netbeui lat moprc mopdl esis isis clnp " +
  "protochain tcpflags icmptype tcp-syn tcp-ack tcp-fin tcp-rst tcp-push tcp-urg").split(" "));

const filterParser: StreamParser<null> = {
  token(s) {
    if (s.eatSpace()) return null;
    if (s.match(/^(0x[0-9a-f]+|\d+(\.\d+){0,3}(\/\d+)?)/i)) return "number";
    if (s.match(/^([0-9a-f]{1,2}:){5}[0-9a-f]{1,2}/i)) return "number";
    if (s.match(/^(&&|\|\||!=|<=|>=|==|[!<>=&|+\-*/%^])/)) return "operator";
    if (s.match(/^[()[\]]/)) return "bracket";
    const w = s.match(/^[A-Za-z_][\w.-]*/) as RegExpMatchArray | null;
    if (w) return FILTER_WORDS.has(w[0].toLowerCase()) ? "keyword" : "variableName";
    s.next();
    return null;
  },
};

const asmParser: StreamParser<null> = {
  token(s) {
    if (s.eatSpace()) return null;
    if (s.match(/^(;|#|\/\/).*/)) return "comment";
    if (s.match(/^[wr](10|[0-9])\b/)) return "variableName.special";
    if (s.match(/^(goto|call|exit|if|lock|ll|be16|be32|be64|le16|le32|le64|bswap16|bswap32|bswap64|lddw|ja|map_fd|map_value)\b/)) return "keyword";
    if (s.match(/^(u8|u16|u32|u64|s8|s16|s32|s64)\b/)) return "typeName";
    if (s.match(/^[+-]?(0x[0-9a-f]+|\d+)/i)) return "number";
    if (s.match(/^[A-Za-z_][\w.]*:/)) return "labelName";
    if (s.match(/^[A-Za-z_][\w.]*/)) return "variableName";
    if (s.match(/^(<<=|>>=|s>>=|[-+*/%&|^]=|=|[<>]=?|s[<>]=?|!=|==|&)/)) return "operator";
    s.next();
    return null;
  },
};

interface TraceState { inComment: boolean }
const bpftraceParser: StreamParser<TraceState> = {
  startState: () => ({ inComment: false }),
  token(s, st) {
    if (st.inComment) { if (s.skipTo("*/")) { s.match("*/"); st.inComment = false; } else s.skipToEnd(); return "comment"; }
    if (s.eatSpace()) return null;
    if (s.match("/*")) { st.inComment = true; return "comment"; }
    if (s.match(/^\/\/.*/)) return "comment";
    if (s.match(/^"([^"\\]|\\.)*"?/)) return "string";
    if (s.match(/^(kprobe|kretprobe|uprobe|uretprobe|tracepoint|rawtracepoint|profile|interval|software|hardware|BEGIN|END|kfunc|kretfunc|fentry|fexit|usdt|watchpoint)\b/)) return "keyword";
    if (s.match(/^@\w*/)) return "variableName.special";
    if (s.match(/^\$\w+/)) return "variableName.local";
    if (s.match(/^(if|else|while|unroll|return|for)\b/)) return "controlKeyword";
    if (s.match(/^(hist|lhist|count|sum|avg|min|max|stats|printf|print|clear|zero|delete|time|exit|str|ksym|usym|kstack|ustack|nsecs|elapsed|pid|tid|comm|cpu|uid|gid|retval|args|arg\d|curtask|cgroup|probe|func)\b/)) return "atom";
    if (s.match(/^(0x[0-9a-f]+|\d+)/i)) return "number";
    if (s.match(/^[A-Za-z_]\w*/)) return "variableName";
    if (s.match(/^[{}()[\]]/)) return "bracket";
    s.next();
    return "operator";
  },
};

export type Language = "filter" | "asm" | "bpftrace";
const PARSERS = { filter: filterParser, asm: asmParser, bpftrace: bpftraceParser } as const;

export interface Editor {
  readonly view: EditorView;
  text(): string;
  setText(s: string): void;
  showError(e: SourceError | undefined): void;
}

/** An editor in `parent`, labelled for screen readers; `onChange` runs after each edit. Tab stays the browser's focus
 * key (Escape then Tab also leaves), so the page remains keyboard-usable. */
export function createEditor(parent: HTMLElement, lang: Language, doc: string, label: string, onChange: () => void, singleLine = false): Editor {
  const view = new EditorView({
    parent,
    state: EditorState.create({
      doc,
      extensions: [
        ...(singleLine ? [] : [lineNumbers(), highlightActiveLine()]),
        drawSelection(),
        history(),
        keymap.of([...defaultKeymap, ...historyKeymap]),
        StreamLanguage.define(PARSERS[lang] as StreamParser<unknown>),
        syntaxHighlighting(defaultHighlightStyle),
        EditorView.contentAttributes.of({ "aria-label": label }),
        EditorView.updateListener.of((u) => { if (u.docChanged) onChange(); }),
        ...(singleLine ? [EditorState.transactionFilter.of((tr) => (tr.newDoc.lines > 1 ? [] : tr))] : []),
      ],
    }),
  });
  return {
    view,
    text: () => view.state.doc.toString(),
    setText: (s) => view.dispatch({ changes: { from: 0, to: view.state.doc.length, insert: s } }),
    showError(e) {
      const diags: Diagnostic[] = [];
      if (e) {
        const doc = view.state.doc;
        const line = doc.line(Math.min(doc.lines, Math.max(1, (e.line ?? 0) + 1)));
        const from = Math.min(line.to, line.from + (e.column ?? 0));
        // underline the token at the position (to the next space), or the whole line when no column is known
        let to = e.column === undefined ? line.to : from;
        while (to < line.to && !/\s/.test(doc.sliceString(to, to + 1))) to++;
        if (to === from) to = Math.min(line.to, from + 1);
        diags.push({ from: e.column === undefined ? line.from : from, to: Math.max(to, from), severity: "error", message: e.message });
      }
      view.dispatch(setDiagnostics(view.state, diags));
    },
  };
}
