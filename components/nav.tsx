"use client";

import Link from "next/link";
import { usePathname } from "next/navigation";

/**
 * `exact`: current only on this very path, not below it (a section's first tab). `section`: the
 * path below which the item is current, when the link goes straight to a page inside it.
 */
export type NavItem = { href: string; label: string; exact?: boolean; section?: string };

/** A list of links, the current page's marked (aria-current): the main bar, or a section's side navigation (`label` names it). */
export function Nav({ items, label = "Main", vertical = false }: { items: NavItem[]; label?: string; vertical?: boolean }) {
  const pathname = usePathname();
  return (
    <nav aria-label={label}>
      <ul className={vertical ? "flex flex-row flex-wrap gap-1 md:flex-col" : "flex flex-wrap gap-1"}>
        {items.map((item) => {
          const base = item.section ?? item.href;
          const current = pathname === item.href || pathname === base || (!item.exact && pathname.startsWith(`${base}/`));
          return (
            <li key={item.href}>
              <Link
                href={item.href}
                aria-current={current ? "page" : undefined}
                className={`block rounded-md px-3 py-1.5 text-sm font-medium ${current ? "bg-brand-50 text-brand-700" : "text-slate-600 hover:bg-slate-100"}`}
              >
                {item.label}
              </Link>
            </li>
          );
        })}
      </ul>
    </nav>
  );
}
