/** The `--slots` option of `recapture` and `reshard`, parsed by zod so its error names the flag (exit 2). */
import * as z from 'zod';
import { parseSlotList } from '../../reshard/slot-list.js';

export const slotListSchema = z.string({ error: 'is required' }).transform((text, ctx) => {
  try {
    return parseSlotList(text);
  } catch (error) {
    ctx.addIssue({ code: 'custom', message: (error as Error).message });
    return z.NEVER;
  }
});
