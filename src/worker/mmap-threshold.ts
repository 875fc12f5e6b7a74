/**
 * Lets the worker give the memory of large values back to the system. glibc malloc raises its mmap threshold to
 * the size of every mmapped block freed (up to 32 MiB), so once the first 1 MB value has been read and let go,
 * the next ones come from the heap, whose free space fragments and stays resident even after heap-release.ts has
 * collected them: 99-188 MB resident after draining 300 x 1 MB values, 85-91 MB with the threshold pinned.
 * Pinning it (native/mmap-threshold, built by `npm ci`) turns that adjustment off: blocks of 128 KiB and more are
 * mapped and unmapped on their own. It is process-wide, so only the CLI's worker processes pin it. Without the
 * addon (not built, or not glibc) nothing changes but the memory kept.
 *
 * @internal
 */
import { loadAddon } from '../shared/native-addon.js';

/** glibc's own starting threshold, which it would otherwise raise. */
const THRESHOLD_BYTES = 128 * 1024;

/** Pins the threshold; whether it could (false without the addon or off glibc). */
export function pinMmapThreshold(): boolean {
  const addon = loadAddon<{ pinMmapThreshold(bytes: number): boolean }>('mmap-threshold', 'mmap_threshold');
  return addon?.pinMmapThreshold(THRESHOLD_BYTES) ?? false;
}
