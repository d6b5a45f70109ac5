export { HELPER_NAMES, HELPER_IDS, helperName } from "../uapi/helpers.ts";
