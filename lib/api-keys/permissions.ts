/** What a key may do: send alerts (the alert APIs), manage endpoints (`mon1tor listen`'s relays). */
export const apiKeyPermissions = ["alerts:send", "endpoints:manage"] as const;
export type ApiKeyPermission = (typeof apiKeyPermissions)[number];
export const apiKeyPermissionLabels: Record<ApiKeyPermission, string> = {
  "alerts:send": "Send alerts",
  "endpoints:manage": "Manage endpoints (mon1tor listen)",
};

