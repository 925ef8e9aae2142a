import { ScrollX } from "@/components/scroll-x";

const buttonStyles = {
  primary: "bg-brand-600 text-white hover:bg-brand-700 disabled:bg-brand-500/60",
  secondary: "border border-slate-300 bg-white text-slate-800 hover:bg-slate-50 disabled:text-slate-400",
  danger: "bg-red-600 text-white hover:bg-red-700 disabled:bg-red-400",
} as const;

export type ButtonVariant = keyof typeof buttonStyles;

export function buttonClass(variant: ButtonVariant = "primary") {
  return `inline-flex items-center justify-center gap-2 rounded-md px-3 py-2 text-sm font-medium shadow-sm disabled:cursor-not-allowed ${buttonStyles[variant]}`;
}


export function PageHeader({ title, description, children }: { title: string; description?: string; children?: React.ReactNode }) {
  return (
    <div className="mb-6 flex flex-wrap items-end justify-between gap-4">
      <div>
        <h1 className="text-2xl font-semibold tracking-tight">{title}</h1>
        {description ? <p className="mt-1 text-sm text-slate-600">{description}</p> : null}
      </div>
      {children}
    </div>
  );
}

export function Card({ title, children, className = "" }: { title?: string; children: React.ReactNode; className?: string }) {
  return (
    <section aria-label={title} className={`rounded-lg border border-slate-200 bg-white p-5 shadow-sm ${className}`}>
      {title ? <h2 className="mb-4 text-base font-semibold">{title}</h2> : null}
      {children}
    </section>
  );
}

/** Code to read or copy (a snippet, a command): scrolls sideways rather than wrap, reachable by keyboard, named by `label`. */
export function CodeBlock({ label, code }: { label: string; code: string }) {
  return (
    <pre tabIndex={0} aria-label={label} className="overflow-x-auto rounded-md bg-slate-900 p-3 text-xs text-slate-100">
      <code>{code}</code>
    </pre>
  );
}

export function EmptyState({ title, children }: { title: string; children?: React.ReactNode }) {
  return (
    <div className="rounded-lg border border-dashed border-slate-300 bg-white px-6 py-10 text-center">
      <p className="font-medium text-slate-800">{title}</p>
      {children ? <div className="mt-1 text-sm text-slate-600">{children}</div> : null}
    </div>
  );
}

export function formatDateTime(date: Date | null | undefined) {
  if (!date) return "—";
  return date.toISOString().replace("T", " ").slice(0, 19) + " UTC";
}

/** A table's header row; an empty column name is read out as `hidden` for screen readers only. */
export function TableHead({ columns }: { columns: (string | { hidden: string })[] }) {
  return (
    <thead className="text-xs uppercase text-slate-500">
      <tr>
        {columns.map((column, index) => (
          <th key={index} scope="col" className={index === 0 ? "py-2" : undefined}>
            {typeof column === "string" ? column : <span className="sr-only">{column.hidden}</span>}
          </th>
        ))}
      </tr>
    </thead>
  );
}

/**
 * The list shell of the dashboard's pages: the empty state when there are no rows, else a
 * labelled table with its header. Rows are the children, one <tr> each.
 */
export function DataTable({
  label,
  columns,
  empty,
  children,
}: {
  label?: string;
  columns: (string | { hidden: string })[];
  empty: React.ReactNode;
  children: React.ReactNode[];
}) {
  if (children.length === 0) return <>{empty}</>;
  return (
    <ScrollX label={label ?? "Table"}>
      <table className="w-full text-left text-sm [&_td]:pr-3 [&_th]:pr-3" aria-label={label}>
        <TableHead columns={columns} />
        <tbody className="divide-y divide-slate-100">{children}</tbody>
      </table>
    </ScrollX>
  );
}
