import crypto from "node:crypto";

export const API_VERSION = "2026-11-01";

export type EventType = "alert.triggered" | "alert.resolved" | "webhook.test";

export type AlertPayload = {
  id: string;
  title: string;
  severity: "critical" | "warning" | "info";
  status: "triggered" | "resolved";
  message: string | null;
  monitor: { id: string | null; name: string | null };
  startedAt: string;
  resolvedAt: string | null;
  url: string;
  /** 1 for the alert's first event, then 2, 3…: a receiver drops anything older than what it has seen. */
  sequence: number;
  /** The id of this alert's previous event, or null for its first. */
  previousEventId: string | null;
};

export const newEventId = () => `evt_${crypto.randomBytes(12).toString("base64url")}`;
export const newDeliveryId = () => `msg_${crypto.randomBytes(12).toString("base64url")}`;

export const dashboardUrl = (path: string) => `${(process.env.NEXTAUTH_URL ?? "http://localhost:3000").replace(/\/+$/, "")}${path}`;

/** The event envelope, serialized once: these exact bytes are signed and sent on every attempt. */
export function serializeEnvelope(event: {
  id: string;
  type: EventType;
  createdAt: Date;
  team: { id: string; name: string };
  alert: AlertPayload;
}): string {
  return JSON.stringify({
    id: event.id,
    type: event.type,
    apiVersion: API_VERSION,
    createdAt: event.createdAt.toISOString(),
    team: { id: event.team.id, name: event.team.name },
    data: { alert: event.alert },
  });
}
