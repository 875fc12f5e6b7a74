import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { pinMmapThreshold } from './mmap-threshold.js';

const built = existsSync(fileURLToPath(new URL('../../native/mmap-threshold/build/Release/mmap_threshold.node', import.meta.url)));
const glibc = (process.report.getReport() as { header: { glibcVersionRuntime?: string } }).header.glibcVersionRuntime !== undefined;

describe('pinMmapThreshold', () => {
  // `npm ci` builds the addon; on glibc it must take effect (pipeline-memory.test.ts measures what it is for).
  it.runIf(built && glibc)('pins glibc malloc\'s mmap threshold through the built addon', () => {
    expect(pinMmapThreshold()).toBe(true);
  });
});
