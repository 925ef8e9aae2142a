// Notification emails through a real SMTP server on 127.0.0.1.
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";

const smtpPort = vi.hoisted(() => {
  // A port the system just handed out and let go: a random pick once landed on one in use, and
  // the server never started. Read before any import, because the module reads its URL then.
  const probe = 'const s = require("node:net").createServer().listen(0, "127.0.0.1", () => { console.log(s.address().port); s.close() })';
  const port = Number(require("node:child_process").execFileSync(process.execPath, ["-e", probe], { encoding: "utf8" }).trim());
  process.env.MON1TOR_SMTP_URL = `smtp://127.0.0.1:${port}`;
  process.env.MON1TOR_SMTP_FROM = "mon1tor <alerts@mon1tor.test>";
  return port;
});

import { SMTPServer } from "smtp-server";
import { db, pool } from "@/lib/db";
import { createActiveEndpoint, createMember } from "@/lib/testing/factories";
import { sendPendingNotificationEmails } from "@/lib/notifications/email";

type Mail = { from: string; to: string[]; data: string };
const mails: Mail[] = [];
let server: SMTPServer;

beforeAll(async () => {
  server = new SMTPServer({
    authOptional: true,
    disabledCommands: ["STARTTLS"],
    onData(stream, session, callback) {
      let data = "";
      stream.on("data", (chunk: Buffer) => (data += chunk.toString()));
      stream.on("end", () => {
        mails.push({
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : "",
          to: session.envelope.rcptTo.map((r) => r.address),
          // Undo quoted-printable soft line breaks and escapes.
          data: data.replace(/=\r\n/g, "").replace(/=3D/g, "="),
        });
        callback();
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(smtpPort, "127.0.0.1", resolve));
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

describe("notification emails", () => {
  it("mail each new notification once, to the team's owners and admins only", async () => {
    const owner = await createMember("owner");
    const admin = await createMember("admin", owner.team);
    await createMember("member", owner.team);
    await createMember("viewer", owner.team);
    const { endpoint } = await createActiveEndpoint(owner.team.id, "https://example.com/hook");
    await db.notification.create({
      data: { teamId: owner.team.id, endpointId: endpoint.id, kind: "endpoint_failing", message: "Webhook endpoint https://example.com/hook has failed 5 deliveries in a row." },
    });
    expect(await sendPendingNotificationEmails(pool)).toBe(1);
    expect(await sendPendingNotificationEmails(pool)).toBe(0);
    expect(mails).toHaveLength(1);
    expect(mails[0]!.from).toBe("alerts@mon1tor.test");
    expect(mails[0]!.to.sort()).toEqual([owner.user.email, admin.user.email].sort());
    expect(mails[0]!.data).toContain("has failed 5 deliveries in a row.");
    expect(mails[0]!.data).toContain(`/settings/webhooks/${endpoint.id}/deliveries?status=failing`);
    const [row] = await db.notification.findMany({ where: { endpointId: endpoint.id } });
    expect(row!.emailedAt).toBeInstanceOf(Date);
  });
});
