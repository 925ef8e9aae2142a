#!/usr/bin/env node
// The `mon1tor` command: runs lib/cli/main.ts through tsx, so it needs no build step.
import { register } from "tsx/esm/api";

register();
const { main } = await import("../lib/cli/main.ts");
await main(process.argv);
