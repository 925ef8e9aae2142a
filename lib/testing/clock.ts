import type { Clock } from "@/lib/webhooks/delivery/dispatch";

/** A clock a test moves by hand, for retry schedules and leases without waiting. */
export class TestClock implements Clock {
  constructor(private current = new Date("2026-11-27T12:00:00Z")) {}
  now() {
    return new Date(this.current);
  }
  advance(ms: number) {
    this.current = new Date(this.current.getTime() + ms);
  }
  set(date: Date) {
    this.current = new Date(date);
  }
}
