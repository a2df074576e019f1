/** Which extended attributes a layer carries, and overlay's own markers. */

/** overlayfs's private attributes (opaque, redirect, origin, …), under either namespace. */
const OVERLAY_PREFIXES = ['trusted.overlay.', 'user.overlay.'] as const;
const LAYER_PREFIXES = ['security.', 'user.', 'trusted.'] as const;

export const OPAQUE_XATTR = 'trusted.overlay.opaque';
export const USER_OPAQUE_XATTR = 'user.overlay.opaque';

/** True for attributes that belong in a layer: security.*, user.*, trusted.*, minus overlay's own. */
export function isLayerXattr(name: string): boolean {
  return LAYER_PREFIXES.some((p) => name.startsWith(p)) && !OVERLAY_PREFIXES.some((p) => name.startsWith(p));
}

export const WHITEOUT_PREFIX = '.wh.';
export const OPAQUE_MARKER = '.wh..wh..opq';
/** aufs's bookkeeping names (`.wh..wh.plnk`, …): never content. */
export const AUFS_META_PREFIX = '.wh..wh.';
