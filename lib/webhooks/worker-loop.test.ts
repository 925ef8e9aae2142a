// The worker's poll loop: many rounds must not pile up abort listeners on its signal, and a
// NOTIFY is never lost between two drains.
import { getEventListeners } from "node:events";
import { describe, expect, it } from "vitest";
import { Alarm, pause } from "@/lib/webhooks/worker";

describe("worker poll loop", () => {
  it("leaves no abort listener behind, however many rounds it runs and however they end", async () => {
    const controller = new AbortController();
    let wake = () => {};
    for (let round = 0; round < 2_000; round++) {
      // Half the rounds time out, half are woken early (as by NOTIFY).
      const waiting = pause(round % 2 === 0 ? 0 : 60_000, controller.signal, (next) => (wake = next));
      if (round % 2 === 1) wake();
      await waiting;
    }
    expect(getEventListeners(controller.signal, "abort")).toHaveLength(0);
  });

  it("an abort ends the wait at once", async () => {
    const controller = new AbortController();
    const waiting = pause(60_000, controller.signal, () => {});
    expect(getEventListeners(controller.signal, "abort")).toHaveLength(1);
    controller.abort();
    await waiting;
    expect(getEventListeners(controller.signal, "abort")).toHaveLength(0);
  });

  it("a NOTIFY that arrives during a drain makes the wait after it return at once", async () => {
    const alarm = new Alarm();
    const controller = new AbortController();
    alarm.reset(); // a drain starts
    alarm.ring(); // new deliveries committed while its last claim was on the wire
    // Without the memory of that ring, this would sleep the whole poll interval (the test times out).
    await alarm.wait(60_000, controller.signal);
    alarm.reset(); // the next drain: a ring before it does not carry over
    const waiting = alarm.wait(60_000, controller.signal);
    let woke = false;
    void waiting.then(() => (woke = true));
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(woke).toBe(false);
    alarm.ring();
    await waiting;
    expect(getEventListeners(controller.signal, "abort")).toHaveLength(0);
  });
});
