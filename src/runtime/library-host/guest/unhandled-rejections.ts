/**
 * Promise rejections of library code that nobody handled, tracked inside the isolate (native/isolate-hooks
 * hands V8's reports to `#onReport`) and reported by each dispatch after its microtasks ran: the reason is turned
 * into text here, under the call's lock timeout, however hostile its getters or toString are.
 *
 * Map methods and the Map constructor are taken before library code runs, which may replace any of them.
 */
import { RejectEvent, type HostChannel, type IsolateHooks } from './protocol.js';
import { stringForm } from './types.js';

const apply = Reflect.apply;
const IntrinsicMap = Map;
const mapSet = Map.prototype.set;
const mapDelete = Map.prototype.delete;
const mapForEach = Map.prototype.forEach;
const mapSize = Object.getOwnPropertyDescriptor(Map.prototype, 'size')!.get!;

export class UnhandledRejections {
  readonly #hooks: IsolateHooks;
  readonly #host: HostChannel;
  /** Rejected promises without a handler, and their reasons. */
  #pending = new IntrinsicMap<Promise<unknown>, unknown>();

  constructor(hooks: IsolateHooks, host: HostChannel) {
    this.#hooks = hooks;
    this.#host = host;
    hooks.track((event, promise, reason) => this.#onReport(event, promise, reason));
  }

  /**
   * Runs the microtasks the call left, then reports what is still rejected without a handler, until neither is
   * left: making a reason's text runs library code, which may queue microtasks and reject promises in turn.
   */
  settle(): void {
    this.#hooks.checkpoint();
    while ((apply(mapSize, this.#pending, []) as number) > 0) {
      // Taken off before their text is made: reasons the timeout cut short are not read again by the next call.
      const reasons: unknown[] = [];
      apply(mapForEach, this.#pending, [(reason: unknown) => (reasons[reasons.length] = reason)]);
      this.#pending = new IntrinsicMap();
      for (let i = 0; i < reasons.length; i++) this.#host.rejected(stringForm(reasons[i]));
      this.#hooks.checkpoint();
    }
  }

  #onReport(event: number, promise: Promise<unknown>, reason: unknown): void {
    if (event === RejectEvent.WITHOUT_HANDLER) apply(mapSet, this.#pending, [promise, reason]);
    else if (event === RejectEvent.HANDLER_ADDED) apply(mapDelete, this.#pending, [promise]);
  }
}
