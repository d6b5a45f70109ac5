// bpftool's own C skeletons: `gen skeleton FILE` (a header that embeds the object and opens it through libbpf's
// bpf_object__open_skeleton) and `gen subskeleton FILE` (a header that finds a library object's variables, maps and
// programs inside an already opened bpf_object). Byte-identical to bpftool 7.1: the same map and program order as
// libbpf's open (src/object/load.ts), the global-data sections as C structs through btf_dump's declaration emitter
// (src/btf/dump-c.ts), with bpftool's padding rules (alignment capped at 4) and size asserts.
import { BpfError } from "../errors.ts";
import { BtfCDumper } from "../btf/dump-c.ts";
import * as K from "../btf/kinds.ts";
import { alignOf, resolveSize } from "../btf/layout.ts";
import type { Btf } from "../btf/parse.ts";
import type { BtfType } from "../btf/types.ts";
import type { BpfObject, MapSpec } from "./types.ts";

const MAX_OBJ_NAME_LEN = 64;
const BPF_F_MMAPABLE = 1 << 10;
const BPF_F_RDONLY_PROG = 1 << 7;
const DATA_SUFFIXES = [".data", ".rodata", ".bss", ".kconfig"] as const;

/** Every character that is not [A-Za-z0-9_] becomes '_' (bpftool's sanitize_identifier). */
export const sanitizeIdent = (s: string): string => s.replace(/[^A-Za-z0-9_]/g, "_");

/** bpftool's object name for a file: its basename (63 chars at most) without a trailing ".o", sanitized. */
export function skeletonObjectName(file: string): string {
  let n = file.slice(file.lastIndexOf("/") + 1).slice(0, MAX_OBJ_NAME_LEN - 1);
  if (n.endsWith(".o")) n = n.slice(0, -2);
  return sanitizeIdent(n);
}

/** A name given with `name X`: truncated as bpftool's strncpy does, not sanitized. */
export const givenObjectName = (n: string): string => n.slice(0, MAX_OBJ_NAME_LEN - 1);

const isInternal = (m: MapSpec): boolean => m.origin === "data" || m.origin === "rodata" || m.origin === "bss" || m.origin === "kconfig";

/** bpftool's get_map_ident: a declared map's name, or an internal map's name from its section suffix on. */
function mapIdent(m: MapSpec): string | undefined {
  if (!isInternal(m)) return m.realName;
  for (const sfx of DATA_SUFFIXES) {
    const at = m.name.indexOf(sfx);
    if (at >= 0) return sanitizeIdent(m.name.slice(at + 1));
  }
  return undefined;
}

function datasecIdent(secName: string): string | undefined {
  return DATA_SUFFIXES.some((p) => secName.startsWith(p)) ? sanitizeIdent(secName.slice(1)) : undefined;
}

const mmapable = (m: MapSpec): string | undefined => (isInternal(m) && (m.flags & BPF_F_MMAPABLE) ? mapIdent(m) : undefined);

function findDatasec(btf: Btf, ident: string): BtfType | undefined {
  for (const t of btf.ownTypes) {
    if (t.kind !== K.BTF_KIND_DATASEC) continue;
    if (datasecIdent(btf.name(t)) === ident) return t;
  }
  return undefined;
}

/** Collects output; btf_dump's declarations write into the same buffer. */
class Out {
  private parts: string[] = [];
  readonly w = (s: string): void => {
    this.parts.push(s);
  };
  text(): string {
    return this.parts.join("");
  }
}

/** The object's non-static variables of one DATASEC. */
function exposedVars(btf: Btf, sec: BtfType): { v: BtfType; name: string; offset: number; size: number }[] {
  const out = [];
  for (const si of sec.secinfos) {
    const v = btf.type(si.type);
    if (v.kind === K.BTF_KIND_VAR && v.linkage === K.BTF_VAR_STATIC) continue;
    out.push({ v, name: btf.name(v), offset: si.offset, size: si.size });
  }
  return out;
}

function datasecStructs(obj: BpfObject, btf: Btf, objName: string, o: Out): void {
  const d = new BtfCDumper(btf, o.w);
  for (const m of obj.maps) {
    const ident = mmapable(m);
    if (ident === undefined) continue;
    const sec = findDatasec(btf, ident);
    if (!sec) {
      o.w(`\tstruct ${objName}__${ident} {\n\t} *${ident};\n`);
      continue;
    }
    const secName = btf.name(sec);
    const secIdent = datasecIdent(secName)!;
    const strip = secName !== ".kconfig";
    o.w(`\tstruct ${objName}__${secIdent} {\n`);
    let off = 0, pads = 0;
    for (const { v, name, offset, size } of exposedVars(btf, sec)) {
      if (off > offset) {
        throw new BpfError("EINVAL", `Something is wrong for ${secName}'s variable #${sec.secinfos.findIndex((s) => s.offset === offset)}: need offset ${offset}, already at ${off}.\n`);
      }
      let align = alignOf(btf, v.sizeOrType);
      if (align <= 0) throw new BpfError("EINVAL", `Failed to determine alignment of variable '${name}': -22`);
      if (align > 4) align = 4;
      const alignOff = Math.ceil(off / align) * align;
      if (alignOff !== offset) o.w(`\t\tchar __pad${pads++}[${offset - off}];\n`);
      o.w("\t\t");
      d.emitDecl(v.sizeOrType, sanitizeIdent(name), 2, strip);
      d.flush();
      o.w(";\n");
      off = offset + size;
    }
    o.w(`\t} *${secIdent};\n`);
  }
}

function asserts(obj: BpfObject, btf: Btf, objName: string, o: Out): void {
  o.w(`__attribute__((unused)) static void\n${objName}__assert(struct ${objName} *s __attribute__((unused)))\n{\n` +
    "#ifdef __cplusplus\n#define _Static_assert static_assert\n#endif\n");
  for (const m of obj.maps) {
    const ident = mmapable(m);
    if (ident === undefined) continue;
    const sec = findDatasec(btf, ident);
    if (!sec) continue;
    for (const { v, name } of exposedVars(btf, sec)) {
      const size = resolveSize(btf, v.sizeOrType);
      if (size < 0) continue;
      const vi = sanitizeIdent(name);
      o.w(`\t_Static_assert(sizeof(s->${ident}->${vi}) == ${size}, "unexpected size of '${vi}'");\n`);
    }
  }
  o.w("#ifdef __cplusplus\n#undef _Static_assert\n#endif\n}\n");
}

/** The object as a C string literal body: `\xNN` per byte, `\0` for zeros, lines wrapped at 78 columns. */
export function hexLiteral(data: Uint8Array): string {
  const parts: string[] = [];
  let len = 0;
  for (let i = 0; i < data.length; i++) {
    const b = data[i]!;
    const w = b ? 4 : 2;
    len += w;
    if (len > 78) {
      parts.push("\\\n");
      len = w;
    }
    parts.push(b ? `\\x${b < 16 ? "0" : ""}${b.toString(16)}` : "\\0");
  }
  return parts.join("");
}

function mapsSkeleton(obj: BpfObject, count: number, mmaped: boolean, o: Out): void {
  if (!count) return;
  o.w("\n\t/* maps */\n\ts->map_cnt = " + count + ";\n\ts->map_skel_sz = sizeof(*s->maps);\n" +
    "\ts->maps = (struct bpf_map_skeleton *)calloc(s->map_cnt, s->map_skel_sz);\n" +
    "\tif (!s->maps) {\n\t\terr = -ENOMEM;\n\t\tgoto err;\n\t}\n");
  let i = 0;
  for (const m of obj.maps) {
    const ident = mapIdent(m);
    if (ident === undefined) continue;
    o.w(`\n\ts->maps[${i}].name = "${m.name}";\n\ts->maps[${i}].map = &obj->maps.${ident};\n`);
    const mm = mmapable(m);
    if (mmaped && mm !== undefined) o.w(`\ts->maps[${i}].mmaped = (void **)&obj->${mm};\n`);
    i++;
  }
}

function progsSkeleton(obj: BpfObject, links: boolean, o: Out): void {
  if (!obj.programs.length) return;
  o.w("\n\t/* programs */\n\ts->prog_cnt = " + obj.programs.length + ";\n\ts->prog_skel_sz = sizeof(*s->progs);\n" +
    "\ts->progs = (struct bpf_prog_skeleton *)calloc(s->prog_cnt, s->prog_skel_sz);\n" +
    "\tif (!s->progs) {\n\t\terr = -ENOMEM;\n\t\tgoto err;\n\t}\n");
  obj.programs.forEach((p, i) => {
    o.w(`\n\ts->progs[${i}].name = "${p.name}";\n\ts->progs[${i}].prog = &obj->progs.${p.name};\n`);
    if (links) o.w(`\ts->progs[${i}].link = &obj->links.${p.name};\n`);
  });
}

export interface CSkeletonResult {
  readonly text: string;
  /** What bpftool reports with p_err and carries on after (internal maps it cannot name). */
  readonly warnings: readonly string[];
}

/**
 * `bpftool gen skeleton`: `obj` is the object opened with `objectName: objName` (libbpf's object_name option), `bytes`
 * the file as it is embedded.
 */
export function cSkeleton(obj: BpfObject, bytes: Uint8Array, objName: string): CSkeletonResult {
  const warnings: string[] = [];
  let mapCount = 0;
  for (const m of obj.maps) {
    if (mapIdent(m) === undefined) warnings.push(`ignoring unrecognized internal map '${m.name}'...`);
    else mapCount++;
  }
  const guard = `__${objName}_SKEL_H__`.toUpperCase();
  const n = objName;
  const o = new Out();
  o.w("/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */\n\n/* THIS FILE IS AUTOGENERATED BY BPFTOOL! */\n" +
    `#ifndef ${guard}\n#define ${guard}\n\n#include <errno.h>\n#include <stdlib.h>\n#include <bpf/libbpf.h>\n\n` +
    `struct ${n} {\n\tstruct bpf_object_skeleton *skeleton;\n\tstruct bpf_object *obj;\n`);
  if (mapCount) {
    o.w("\tstruct {\n");
    for (const m of obj.maps) {
      const ident = mapIdent(m);
      if (ident !== undefined) o.w(`\t\tstruct bpf_map *${ident};\n`);
    }
    o.w("\t} maps;\n");
  }
  if (obj.programs.length) {
    o.w("\tstruct {\n");
    for (const p of obj.programs) o.w(`\t\tstruct bpf_program *${p.name};\n`);
    o.w("\t} progs;\n\tstruct {\n");
    for (const p of obj.programs) o.w(`\t\tstruct bpf_link *${p.name};\n`);
    o.w("\t} links;\n");
  }
  if (obj.btf) datasecStructs(obj, obj.btf, n, o);
  o.w(`
#ifdef __cplusplus
	static inline struct ${n} *open(const struct bpf_object_open_opts *opts = nullptr);
	static inline struct ${n} *open_and_load();
	static inline int load(struct ${n} *skel);
	static inline int attach(struct ${n} *skel);
	static inline void detach(struct ${n} *skel);
	static inline void destroy(struct ${n} *skel);
	static inline const void *elf_bytes(size_t *sz);
#endif /* __cplusplus */
};

static void
${n}__destroy(struct ${n} *obj)
{
	if (!obj)
		return;
	if (obj->skeleton)
		bpf_object__destroy_skeleton(obj->skeleton);
	free(obj);
}

static inline int
${n}__create_skeleton(struct ${n} *obj);

static inline struct ${n} *
${n}__open_opts(const struct bpf_object_open_opts *opts)
{
	struct ${n} *obj;
	int err;

	obj = (struct ${n} *)calloc(1, sizeof(*obj));
	if (!obj) {
		errno = ENOMEM;
		return NULL;
	}

	err = ${n}__create_skeleton(obj);
	if (err)
		goto err_out;

	err = bpf_object__open_skeleton(obj->skeleton, opts);
	if (err)
		goto err_out;

	return obj;
err_out:
	${n}__destroy(obj);
	errno = -err;
	return NULL;
}

static inline struct ${n} *
${n}__open(void)
{
	return ${n}__open_opts(NULL);
}

static inline int
${n}__load(struct ${n} *obj)
{
	return bpf_object__load_skeleton(obj->skeleton);
}

static inline struct ${n} *
${n}__open_and_load(void)
{
	struct ${n} *obj;
	int err;

	obj = ${n}__open();
	if (!obj)
		return NULL;
	err = ${n}__load(obj);
	if (err) {
		${n}__destroy(obj);
		errno = -err;
		return NULL;
	}
	return obj;
}

static inline int
${n}__attach(struct ${n} *obj)
{
	return bpf_object__attach_skeleton(obj->skeleton);
}

static inline void
${n}__detach(struct ${n} *obj)
{
	bpf_object__detach_skeleton(obj->skeleton);
}

static inline const void *${n}__elf_bytes(size_t *sz);

static inline int
${n}__create_skeleton(struct ${n} *obj)
{
	struct bpf_object_skeleton *s;
	int err;

	s = (struct bpf_object_skeleton *)calloc(1, sizeof(*s));
	if (!s)	{
		err = -ENOMEM;
		goto err;
	}

	s->sz = sizeof(*s);
	s->name = "${n}";
	s->obj = &obj->obj;
`);
  mapsSkeleton(obj, mapCount, true, o);
  progsSkeleton(obj, true, o);
  o.w(`
	s->data = (void *)${n}__elf_bytes(&s->data_sz);

	obj->skeleton = s;
	return 0;
err:
	bpf_object__destroy_skeleton(s);
	return err;
}

static inline const void *${n}__elf_bytes(size_t *sz)
{
	*sz = ${bytes.length | 0};
	return (const void *)"\\
`);
  o.w(hexLiteral(bytes));
  o.w(`";
}

#ifdef __cplusplus
struct ${n} *${n}::open(const struct bpf_object_open_opts *opts) { return ${n}__open_opts(opts); }
struct ${n} *${n}::open_and_load() { return ${n}__open_and_load(); }
int ${n}::load(struct ${n} *skel) { return ${n}__load(skel); }
int ${n}::attach(struct ${n} *skel) { return ${n}__attach(skel); }
void ${n}::detach(struct ${n} *skel) { ${n}__detach(skel); }
void ${n}::destroy(struct ${n} *skel) { ${n}__destroy(skel); }
const void *${n}::elf_bytes(size_t *sz) { return ${n}__elf_bytes(sz); }
#endif /* __cplusplus */

`);
  if (obj.btf) asserts(obj, obj.btf, n, o);
  o.w(`\n#endif /* ${guard} */\n`);
  return { text: o.text(), warnings };
}

/**
 * `bpftool gen subskeleton`: `obj` is the object opened with an empty object name (so internal maps are named after
 * their sections). Returns "" where bpftool stops without output (an internal map without BTF type).
 */
export function cSubskeleton(obj: BpfObject, objName: string): string {
  const btf = obj.btf;
  if (!btf) throw new BpfError("EINVAL", `need btf type information for ${objName}`);
  let mapCount = 0, varCount = 0;
  for (const m of obj.maps) {
    if (mapIdent(m) === undefined) continue;
    mapCount++;
    if (mmapable(m) === undefined) continue;
    if (m.btfValueTypeId <= 0) return ""; // bpftool returns its (zero) type id as the result, having printed nothing
    varCount += exposedVars(btf, btf.type(m.btfValueTypeId)).length;
  }
  const guard = `__${objName}_SUBSKEL_H__`.toUpperCase();
  const n = objName;
  const o = new Out();
  o.w("/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */\n\n/* THIS FILE IS AUTOGENERATED! */\n" +
    `#ifndef ${guard}\n#define ${guard}\n\n#include <errno.h>\n#include <stdlib.h>\n#include <bpf/libbpf.h>\n\n` +
    `struct ${n} {\n\tstruct bpf_object *obj;\n\tstruct bpf_object_subskeleton *subskel;\n`);
  if (mapCount) {
    o.w("\tstruct {\n");
    for (const m of obj.maps) {
      const ident = mapIdent(m);
      if (ident !== undefined) o.w(`\t\tstruct bpf_map *${ident};\n`);
    }
    o.w("\t} maps;\n");
  }
  if (obj.programs.length) {
    o.w("\tstruct {\n");
    for (const p of obj.programs) o.w(`\t\tstruct bpf_program *${p.name};\n`);
    o.w("\t} progs;\n");
  }
  const d = new BtfCDumper(btf, o.w);
  for (const m of obj.maps) {
    const ident = mmapable(m);
    if (ident === undefined) continue;
    const sec = findDatasec(btf, ident);
    if (!sec) continue;
    const secName = btf.name(sec);
    const strip = secName !== ".kconfig";
    o.w(`\tstruct ${n}__${datasecIdent(secName)} {\n`);
    for (const { v, name } of exposedVars(btf, sec)) {
      o.w("\t\t");
      const under = btf.type(skipModsAndTypedefs(btf, v.sizeOrType));
      const typeOf = under.kind === K.BTF_KIND_ARRAY ||
        (under.kind === K.BTF_KIND_PTR && btf.type(under.sizeOrType).kind === K.BTF_KIND_FUNC_PROTO);
      if (typeOf) o.w("typeof(");
      d.emitDecl(v.sizeOrType, "", 2, strip);
      d.flush();
      if (typeOf) o.w(")");
      o.w(` *${name};\n`);
    }
    o.w(`\t} ${datasecIdent(secName)};\n`);
  }
  o.w(`
#ifdef __cplusplus
	static inline struct ${n} *open(const struct bpf_object *src);
	static inline void destroy(struct ${n} *skel);
#endif /* __cplusplus */
};

static inline void
${n}__destroy(struct ${n} *skel)
{
	if (!skel)
		return;
	if (skel->subskel)
		bpf_object__destroy_subskeleton(skel->subskel);
	free(skel);
}

static inline struct ${n} *
${n}__open(const struct bpf_object *src)
{
	struct ${n} *obj;
	struct bpf_object_subskeleton *s;
	int err;

	obj = (struct ${n} *)calloc(1, sizeof(*obj));
	if (!obj) {
		err = -ENOMEM;
		goto err;
	}
	s = (struct bpf_object_subskeleton *)calloc(1, sizeof(*s));
	if (!s) {
		err = -ENOMEM;
		goto err;
	}
	s->sz = sizeof(*s);
	s->obj = src;
	s->var_skel_sz = sizeof(*s->vars);
	obj->subskel = s;

	/* vars */
	s->var_cnt = ${varCount};
	s->vars = (struct bpf_var_skeleton *)calloc(${varCount}, sizeof(*s->vars));
	if (!s->vars) {
		err = -ENOMEM;
		goto err;
	}
`);
  let idx = 0;
  for (const m of obj.maps) {
    const ident = mmapable(m);
    if (ident === undefined || m.btfValueTypeId <= 0) continue;
    for (const { name } of exposedVars(btf, btf.type(m.btfValueTypeId))) {
      o.w(`\n\ts->vars[${idx}].name = "${name}";\n\ts->vars[${idx}].map = &obj->maps.${ident};\n` +
        `\ts->vars[${idx}].addr = (void **) &obj->${ident}.${name};\n`);
      idx++;
    }
  }
  mapsSkeleton(obj, mapCount, false, o);
  progsSkeleton(obj, false, o);
  o.w(`
	err = bpf_object__open_subskeleton(s);
	if (err)
		goto err;

	return obj;
err:
	${n}__destroy(obj);
	errno = -err;
	return NULL;
}

#ifdef __cplusplus
struct ${n} *${n}::open(const struct bpf_object *src) { return ${n}__open(src); }
void ${n}::destroy(struct ${n} *skel) { ${n}__destroy(skel); }
#endif /* __cplusplus */

#endif /* ${guard} */
`);
  return o.text();
}

function skipModsAndTypedefs(btf: Btf, id: number): number {
  for (let guard = 0; guard < 1000 && id !== 0; guard++) {
    const t = btf.type(id);
    if (!K.isModifier(t.kind) && t.kind !== K.BTF_KIND_TYPEDEF) return id;
    id = t.sizeOrType;
  }
  return id;
}

/** A page-rounded mmap size of an internal map, as bpftool's bpf_map_mmap_sz computes it. */
const mmapSize = (m: MapSpec, pageSize: number): number => Math.ceil((Math.ceil(m.valueSize / 8) * 8 * m.maxEntries) / pageSize) * pageSize;

/** The light skeleton's first part: the struct up to its global-data members (bpftool prints it before the load). */
function lightHead(obj: BpfObject, objName: string): { o: Out; idents: { m: MapSpec; ident: string }[]; warnings: string[] } {
  const warnings: string[] = [];
  const idents: { m: MapSpec; ident: string }[] = [];
  for (const m of obj.maps) {
    const ident = mapIdent(m);
    if (ident === undefined) warnings.push(`ignoring unrecognized internal map '${m.name}'...`);
    else idents.push({ m, ident });
  }
  const guard = `__${objName}_SKEL_H__`.toUpperCase();
  const n = objName;
  const o = new Out();
  o.w("/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */\n/* THIS FILE IS AUTOGENERATED BY BPFTOOL! */\n" +
    `#ifndef ${guard}\n#define ${guard}\n\n#include <bpf/skel_internal.h>\n\nstruct ${n} {\n\tstruct bpf_loader_ctx ctx;\n`);
  if (idents.length) {
    o.w("\tstruct {\n");
    for (const { ident } of idents) o.w(`\t\tstruct bpf_map_desc ${ident};\n`);
    o.w("\t} maps;\n");
  }
  const progs = obj.programs;
  if (progs.length) {
    o.w("\tstruct {\n");
    for (const p of progs) o.w(`\t\tstruct bpf_prog_desc ${p.name};\n`);
    o.w("\t} progs;\n\tstruct {\n");
    for (const p of progs) o.w(`\t\tint ${p.name}_fd;\n`);
    o.w("\t} links;\n");
  }
  if (obj.btf) datasecStructs(obj, obj.btf, n, o);
  return { o, idents, warnings };
}

/** What bpftool has printed of a light skeleton when the object's recorded load fails: the struct's first part. */
export function cLightSkeletonHead(obj: BpfObject, objName: string): CSkeletonResult {
  const { o, warnings } = lightHead(obj, objName);
  return { text: o.text(), warnings };
}

/**
 * `bpftool gen skeleton -L`: the light skeleton, a header that runs `loader` (src/object/loader-gen.ts: the object's
 * load recorded as a BPF_PROG_TYPE_SYSCALL program and its data blob) through skel_internal.h's bpf_load_and_run.
 */
export function cLightSkeleton(obj: BpfObject, objName: string, loader: { insns: Uint8Array; data: Uint8Array }, pageSize = 4096): CSkeletonResult {
  const { o, idents, warnings } = lightHead(obj, objName);
  const n = objName;
  const guard = `__${objName}_SKEL_H__`.toUpperCase();
  const progs = obj.programs;

  o.w("};\n");
  for (const p of progs) {
    o.w(`\nstatic inline int\n${n}__${p.name}__attach(struct ${n} *skel)\n{\n\tint prog_fd = skel->progs.${p.name}.prog_fd;\n`);
    if (p.progType === 17) o.w(`\tint fd = skel_raw_tracepoint_open("${p.section.slice(p.section.indexOf("/") + 1)}", prog_fd);\n`);
    else if (p.progType === 26 || p.progType === 29) {
      o.w(p.attachType === 28 ? "\tint fd = skel_link_create(prog_fd, 0, BPF_TRACE_ITER);\n" : "\tint fd = skel_raw_tracepoint_open(NULL, prog_fd);\n");
    } else o.w("\tint fd = ((void)prog_fd, 0); /* auto-attach not supported */\n");
    o.w(`\n\tif (fd > 0)\n\t\tskel->links.${p.name}_fd = fd;\n\treturn fd;\n}\n`);
  }
  o.w(`\nstatic inline int\n${n}__attach(struct ${n} *skel)\n{\n\tint ret = 0;\n\n`);
  for (const p of progs) o.w(`\tret = ret < 0 ? ret : ${n}__${p.name}__attach(skel);\n`);
  o.w(`\treturn ret < 0 ? ret : 0;\n}\n\nstatic inline void\n${n}__detach(struct ${n} *skel)\n{\n`);
  for (const p of progs) o.w(`\tskel_closenz(skel->links.${p.name}_fd);\n`);
  o.w(`}\nstatic void\n${n}__destroy(struct ${n} *skel)\n{\n\tif (!skel)\n\t\treturn;\n\t${n}__detach(skel);\n`);
  for (const p of progs) o.w(`\tskel_closenz(skel->progs.${p.name}.prog_fd);\n`);
  for (const { m, ident } of idents) {
    if (isInternal(m) && (m.flags & BPF_F_MMAPABLE)) o.w(`\tskel_free_map_data(skel->${ident}, skel->maps.${ident}.initial_value, ${mmapSize(m, pageSize)});\n`);
    o.w(`\tskel_closenz(skel->maps.${ident}.map_fd);\n`);
  }
  o.w(`\tskel_free(skel);\n}\nstatic inline struct ${n} *\n${n}__open(void)\n{\n\tstruct ${n} *skel;\n\n` +
    "\tskel = skel_alloc(sizeof(*skel));\n\tif (!skel)\n\t\tgoto cleanup;\n\tskel->ctx.sz = (void *)&skel->links - (void *)skel;\n");
  for (const m of obj.maps) {
    const ident = mmapable(m);
    if (ident === undefined) continue;
    const init = m.initialValue ?? new Uint8Array(m.valueSize);
    o.w(`\tskel->${ident} = skel_prep_map_data((void *)"\\\n`);
    o.w(hexLiteral(init.subarray(0, m.valueSize)));
    o.w(`", ${mmapSize(m, pageSize)}, ${m.valueSize});\n\tif (!skel->${ident})\n\t\tgoto cleanup;\n\tskel->maps.${ident}.initial_value = (__u64) (long) skel->${ident};\n`);
  }
  o.w(`\treturn skel;\ncleanup:\n\t${n}__destroy(skel);\n\treturn NULL;\n}\n\nstatic inline int\n${n}__load(struct ${n} *skel)\n{\n` +
    "\tstruct bpf_load_and_run_opts opts = {};\n\tint err;\n\n\topts.ctx = (struct bpf_loader_ctx *)skel;\n" +
    `\topts.data_sz = ${loader.data.length};\n\topts.data = (void *)"\\\n`);
  o.w(hexLiteral(loader.data));
  o.w(`";\n\topts.insns_sz = ${loader.insns.length};\n\topts.insns = (void *)"\\\n`);
  o.w(hexLiteral(loader.insns));
  o.w("\";\n\terr = bpf_load_and_run(&opts);\n\tif (err < 0)\n\t\treturn err;\n");
  for (const m of obj.maps) {
    const ident = mmapable(m);
    if (ident === undefined) continue;
    const prot = m.flags & BPF_F_RDONLY_PROG ? "PROT_READ" : "PROT_READ | PROT_WRITE";
    o.w(`\tskel->${ident} = skel_finalize_map_data(&skel->maps.${ident}.initial_value,\n\t\t\t\t\t${mmapSize(m, pageSize)}, ${prot}, skel->maps.${ident}.map_fd);\n\tif (!skel->${ident})\n\t\treturn -ENOMEM;\n`);
  }
  o.w(`\treturn 0;\n}\n\nstatic inline struct ${n} *\n${n}__open_and_load(void)\n{\n\tstruct ${n} *skel;\n\n\tskel = ${n}__open();\n` +
    `\tif (!skel)\n\t\treturn NULL;\n\tif (${n}__load(skel)) {\n\t\t${n}__destroy(skel);\n\t\treturn NULL;\n\t}\n\treturn skel;\n}\n\n`);
  if (obj.btf) asserts(obj, obj.btf, n, o);
  o.w(`\n#endif /* ${guard} */\n`);
  return { text: o.text(), warnings };
}
