// CPU time of processes, from /proc: what the benches report per delivery or per alert.
import { execFileSync } from "node:child_process";
import fs from "node:fs";

/** CPU seconds used so far by these processes (user + system), from /proc. */
export function cpuSeconds(pids: number[]): number {
  let ticks = 0;
  for (const pid of pids) {
    try {
      const fields = fs.readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
      ticks += Number(fields[11]) + Number(fields[12]);
    } catch {} // gone
  }
  return ticks / 100;
}

/** Every PostgreSQL process on the machine (the benches run one cluster at a time). */
export const postgresPids = () => {
  try {
    return execFileSync("ps", ["-C", "postgres", "-o", "pid="], { encoding: "utf8" }).split("\n").map(Number).filter(Boolean);
  } catch {
    return [];
  }
};
