// One poller for every ListenEvents stream: it looks at the pods and the store once per interval while at
// least one stream listens, and stops when the last one leaves (an idle service reads nothing).
import { advance, baseline, type Snapshot, type World } from './events.js';
import type { ApiEvent } from './messages.js';

/** How often the pods directories and the store are read while a stream is open (docs/commands/api-service.md). */
export const EVENT_POLL_INTERVAL_MS = 1000;

export interface EventSubscriber {
  /** The watcher has its starting point: every change from now on is reported. */
  ready(): void;
  events(events: readonly ApiEvent[]): void;
}

export class EventWatcher {
  private readonly subscribers = new Set<EventSubscriber>();
  private snapshot: Snapshot | undefined;
  private timer: NodeJS.Timeout | undefined;
  private running = false;
  private lastError = '';

  constructor(
    private readonly look: () => Promise<World>,
    private readonly log: (line: string) => void,
    private readonly intervalMs = EVENT_POLL_INTERVAL_MS,
  ) {}

  subscribe(s: EventSubscriber): () => void {
    this.subscribers.add(s);
    if (this.snapshot !== undefined) queueMicrotask(() => s.ready());
    else if (!this.running && this.timer === undefined) void this.tick(); // else the look under way or the retry due answers it
    return () => {
      this.subscribers.delete(s);
      if (this.subscribers.size === 0) this.stop();
    };
  }

  stop(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    this.snapshot = undefined;
  }

  private async tick(): Promise<void> {
    this.timer = undefined;
    this.running = true;
    try {
      const world = await this.look();
      if (this.subscribers.size === 0) return; // everyone left while we looked
      if (this.snapshot === undefined) {
        this.snapshot = baseline(world);
        for (const s of this.subscribers) s.ready();
      } else {
        const { next, events } = advance(this.snapshot, world, new Date());
        this.snapshot = next;
        if (events.length > 0) for (const s of this.subscribers) s.events(events);
      }
      this.lastError = '';
    } catch (err) {
      // keep the last snapshot and look again: a pod moving mid-read is no reason to end the streams
      const msg = err instanceof Error ? err.message : String(err);
      if (msg !== this.lastError) this.log(`watching pods and images: ${msg}`);
      this.lastError = msg;
    } finally {
      this.running = false;
      if (this.subscribers.size > 0) this.timer = setTimeout(() => void this.tick(), this.intervalMs);
      else this.stop();
    }
  }
}
