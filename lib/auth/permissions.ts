import type { Role } from "@/lib/generated/prisma/enums";

/** The role matrix. Server actions and route handlers ask for a permission, never a role. */
const matrix = {
  "webhooks:view": ["owner", "admin", "member", "viewer"],
  "webhooks:manage": ["owner", "admin", "member"],
  "webhooks:reveal-secret": ["owner", "admin", "member"],
  "webhooks:roll-secret": ["owner", "admin"],
  "api-keys:manage": ["owner", "admin"],
  "members:manage": ["owner", "admin"],
  "audit:view": ["owner", "admin"],
  "notifications:view": ["owner", "admin"],
  "team:settings": ["owner"],
} as const satisfies Record<string, readonly Role[]>;

export type Permission = keyof typeof matrix;

export const roles: readonly Role[] = ["owner", "admin", "member", "viewer"];

export function can(role: Role, permission: Permission): boolean {
  return (matrix[permission] as readonly Role[]).includes(role);
}

/** The roles that have `permission`, e.g. who is told about failing endpoints ("notifications:view"). */
export function rolesWith(permission: Permission): readonly Role[] {
  return matrix[permission];
}

/** Admins manage members but cannot touch owners or create them. */
export function canAssignRole(actor: Role, target: Role): boolean {
  if (actor === "owner") return true;
  return actor === "admin" && target !== "owner";
}
