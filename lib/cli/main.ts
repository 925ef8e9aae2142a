// The `mon1tor` command (package bin, bin/mon1tor.mjs): `mon1tor listen --forward-to <url>`.
import { Command, InvalidArgumentError, Option } from "commander";
import { defaultRelayName, FatalError, Listener } from "./listen";
import { relayNameSchema } from "../relay/protocol";

const httpUrl = (what: string) => (value: string) => {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new InvalidArgumentError(`${what} must be a full URL, such as http://localhost:4000/webhook.`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") throw new InvalidArgumentError(`${what} must be an http:// or https:// URL.`);
  return url;
};

const list = (value: string) => [...new Set(value.split(",").map((item) => item.trim()).filter(Boolean))];

const relayName = (value: string) => {
  const parsed = relayNameSchema.safeParse(value);
  if (!parsed.success) throw new InvalidArgumentError(parsed.error.issues[0]!.message);
  return parsed.data;
};

export async function main(argv: string[]) {
  const program = new Command()
    .name("mon1tor")
    .description("mon1tor webhooks from the command line.")
    .showHelpAfterError("(run with --help for usage)");

  program
    .command("listen")
    .description("Relay your team's signed alerts to a URL on this machine: no public URL needed.")
    .requiredOption("--forward-to <url>", "local URL each delivery is POSTed to, e.g. http://localhost:4000/webhook", httpUrl("--forward-to"))
    .option("--url <url>", "your mon1tor's base URL", httpUrl("--url"), new URL("http://localhost:3000"))
    .addOption(new Option("--api-key <key>", "an API key with the “Manage endpoints” permission").env("MON1TOR_API_KEY"))
    .option("--name <name>", "the relay's name in the dashboard (default: <hostname>-<port>)", relayName)
    .option("--secret <whsec>", "pin the signing secret (whsec_…), so the receiver's stays valid across runs")
    .addOption(new Option("--events <types>", "only these event types, comma-separated: alert.triggered,alert.resolved").argParser(list))
    .addOption(new Option("--severities <list>", "only these severities, comma-separated: critical,warning,info").argParser(list))
    .addOption(new Option("--monitors <ids>", "only alerts of these monitor ids, comma-separated").argParser(list))
    .option("--print-json", "print each delivery's payload", false)
    .action(async (options: { forwardTo: URL; url: URL; apiKey?: string; name?: string; secret?: string; events?: string[]; severities?: string[]; monitors?: string[]; printJson: boolean }) => {
      if (!options.apiKey) {
        console.error("An API key is needed: pass --api-key <key> or set MON1TOR_API_KEY. Create one with “Manage endpoints” under Settings → API keys.");
        process.exit(1);
      }
      const listener = new Listener({
        forwardTo: options.forwardTo,
        url: options.url,
        apiKey: options.apiKey,
        name: options.name ?? defaultRelayName(options.forwardTo),
        secret: options.secret,
        eventTypes: options.events,
        severities: options.severities,
        monitorIds: options.monitors,
        printJson: options.printJson,
      });
      let stopping = false;
      const onSignal = (signal: NodeJS.Signals) => {
        // A second Ctrl-C does not wait for what is in flight.
        if (stopping) process.exit(130);
        stopping = true;
        console.error(signal === "SIGINT" ? "\nStopping… (Ctrl-C again to quit at once)" : "Stopping…");
        void listener.shutdown().then(() => {
          console.error("Stopped.");
          process.exit(0);
        });
      };
      process.on("SIGINT", onSignal);
      process.on("SIGTERM", onSignal);
      try {
        await listener.run();
      } catch (error) {
        if (error instanceof FatalError) {
          console.error(error.message);
          process.exit(1);
        }
        throw error;
      }
    });

  await program.parseAsync(argv);
}
