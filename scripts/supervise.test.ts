// The supervisor with real child processes: a killed worker comes back with a new pid;
// one that keeps crashing at once is given up on, with a message.
import { spawn } from "node:child_process";
import { describe, expect, it } from "vitest";
import { supervise } from "./lib/supervise";

const node = (script: string) => () => spawn(process.execPath, ["-e", script], { stdio: "ignore" });
const waitFor = async (check: () => boolean, ms = 10_000) => {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error("timed out");
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
};

describe("supervise", () => {
  it("restarts a process killed with SIGKILL, and logs why", async () => {
    const lines: string[] = [];
    const supervised = supervise({ name: "worker", start: node("setInterval(() => {}, 1000)"), log: (l) => lines.push(l), onGiveUp: () => {}, backoffMs: 50 });
    const first = supervised.current()!;
    await waitFor(() => first.pid !== undefined);
    first.kill("SIGKILL");
    await waitFor(() => supervised.current() !== null && supervised.current() !== first);
    expect(supervised.current()!.pid).not.toBe(first.pid);
    expect(supervised.restarts()).toBe(1);
    expect(lines).toContain("worker was killed by SIGKILL; restarting in 0.05 s");
    await supervised.stop();
    expect(supervised.current()).toBeNull();
  });

  it("gives up after repeated fast crashes, with backoff between them", async () => {
    const lines: string[] = [];
    let gaveUp = "";
    const supervised = supervise({
      name: "worker",
      start: node("process.exit(3)"),
      log: (l) => lines.push(l),
      onGiveUp: (message) => (gaveUp = message),
      backoffMs: 10,
      maxFastCrashes: 3,
    });
    await waitFor(() => gaveUp !== "");
    expect(gaveUp).toBe("worker exited with code 3, and crashed 3 times in a row within 10 s of starting: giving up.");
    expect(lines.filter((l) => l.startsWith("worker exited with code 3; restarting in"))).toEqual([
      "worker exited with code 3; restarting in 0.01 s",
      "worker exited with code 3; restarting in 0.02 s",
    ]);
    await supervised.stop();
  });
});
