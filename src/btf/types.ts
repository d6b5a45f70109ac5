// The in-memory BTF model: one flat record per type (kind-specific parts empty when unused) over a shared string
// table. Type ids are the kernel's: 0 is void, the first type is 1 (or base.count for split BTF).

export interface BtfMember {
  readonly nameOff: number;
  readonly type: number;
  /** Bit offset of the member (already split from the bitfield size when kind_flag is set). */
  readonly bitOffset: number;
  /** Bitfield size in bits, 0 when not a bitfield. */
  readonly bitfieldSize: number;
}

export interface BtfEnumValue {
  readonly nameOff: number;
  /** Low 32 bits as stored (unsigned). */
  readonly lo: number;
  /** High 32 bits (ENUM64 only; 0 for ENUM). */
  readonly hi: number;
}

export interface BtfParam {
  readonly nameOff: number;
  readonly type: number;
}

export interface BtfVarSecinfo {
  readonly type: number;
  readonly offset: number;
  readonly size: number;
}

export interface BtfType {
  readonly id: number;
  readonly kind: number;
  readonly nameOff: number;
  readonly kflag: boolean;
  readonly vlen: number;
  /** `size` for INT/STRUCT/UNION/ENUM/ENUM64/DATASEC/FLOAT, `type` for the others: the raw third word. */
  readonly sizeOrType: number;
  /** INT: the extra word's fields. */
  readonly intEncoding: number;
  readonly intOffset: number;
  readonly intBits: number;
  /** ARRAY. */
  readonly arrayType: number;
  readonly arrayIndexType: number;
  readonly arrayNelems: number;
  readonly members: readonly BtfMember[];
  readonly enumValues: readonly BtfEnumValue[];
  readonly params: readonly BtfParam[];
  readonly secinfos: readonly BtfVarSecinfo[];
  /** VAR linkage. */
  readonly linkage: number;
  /** DECL_TAG component_idx (-1 for the whole declaration). */
  readonly componentIdx: number;
}

/** The void type (id 0). */
export const VOID_TYPE: BtfType = {
  id: 0, kind: 0, nameOff: 0, kflag: false, vlen: 0, sizeOrType: 0, intEncoding: 0, intOffset: 0, intBits: 0,
  arrayType: 0, arrayIndexType: 0, arrayNelems: 0, members: [], enumValues: [], params: [], secinfos: [], linkage: 0,
  componentIdx: 0,
};
