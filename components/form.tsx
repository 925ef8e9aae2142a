"use client";

import { useRouter } from "next/navigation";
import { useState, useTransition } from "react";
import { buttonClass, type ButtonVariant } from "@/components/ui";
import type { ActionResult } from "@/lib/actions/define-action";

/**
 * The largest form a server action takes (next.config.js `serverActions.bodySizeLimit`, less
 * room for the encoding). A larger one is refused here, before it is sent: past the limit Next
 * answers with an error page, and the form and what was typed into it would be lost.
 */
export const MAX_FORM_BYTES = 3.5 * 1024 * 1024;

const utf8Bytes = (value: string) => new TextEncoder().encode(value).byteLength;
const formatMegabytes = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MB`;

/** The refusal for a form too large to send, at its largest field; null when it fits. */
export function oversizedForm(form: FormData | Record<string, unknown>): ActionResult<never> | null {
  const entries = form instanceof FormData ? [...form.entries()] : Object.entries(form);
  let total = 0;
  let largest: [string, number] = ["", 0];
  for (const [name, value] of entries) {
    const size = value instanceof Blob ? value.size : utf8Bytes(typeof value === "string" ? value : JSON.stringify(value) ?? "");
    total += size + utf8Bytes(name);
    if (size > largest[1]) largest = [name, size];
  }
  if (total <= MAX_FORM_BYTES) return null;
  const message = `This is ${formatMegabytes(largest[1])}, more than the ${formatMegabytes(MAX_FORM_BYTES)} a form can send. Nothing was sent; shorten it and try again.`;
  return { ok: false, code: "payload_too_large", message, fieldErrors: { [largest[0]]: [message] } };
}

/** What a form shows when the request itself failed (the server unreachable, or refusing it): what was typed stays. */
const UNREACHABLE: ActionResult<never> = {
  ok: false,
  code: "unavailable",
  message: "The server could not be reached or refused the request. Nothing was changed; what you entered is still here, so try again.",
};

/** Runs a server action call; a call that throws (network, a refused request) becomes a refusal to show. */
async function settle<T>(call: () => Promise<ActionResult<T>>): Promise<ActionResult<T>> {
  try {
    return await call();
  } catch {
    return UNREACHABLE;
  }
}

/**
 * Submits a form through `submit` with a pending state. Unlike `<form action>`, it does
 * not reset the fields afterwards, so a refused submit keeps everything the person typed;
 * a successful one clears the form only when `resetOnSuccess` asks for it.
 */
export function useFormSubmit<T>(
  submit: (form: FormData) => Promise<ActionResult<T>>,
  { resetOnSuccess = false }: { resetOnSuccess?: boolean } = {},
) {
  const [state, setState] = useState<ActionResult<T> | null>(null);
  const [pending, startTransition] = useTransition();
  const onSubmit = (event: React.FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const element = event.currentTarget;
    const form = new FormData(element);
    const tooLarge = oversizedForm(form);
    if (tooLarge) return setState(tooLarge);
    startTransition(async () => {
      const result = await settle(() => submit(form));
      setState(result);
      if (result.ok && resetOnSuccess) element.reset();
    });
  };
  return { state, pending, onSubmit };
}

/** A group of checkboxes sharing one name, with its legend and its error announced. */
export function Checkboxes({ legend, name, options, checked, errors }: { legend: string; name: string; options: readonly (readonly [string, string])[]; checked: readonly string[]; errors?: string[] }) {
  const errorId = `${name}-error`;
  return (
    <fieldset aria-describedby={errorId}>
      <legend className="text-sm font-medium text-slate-700">{legend}</legend>
      <div className="mt-1 flex flex-wrap gap-4">
        {options.map(([value, text]) => (
          <label key={value} className="flex items-center gap-2 text-sm">
            <input type="checkbox" name={name} value={value} defaultChecked={checked.includes(value)} />
            {text}
          </label>
        ))}
      </div>
      <p id={errorId} aria-live="polite" className="mt-1 text-sm text-red-700">
        {errors?.join(" ")}
      </p>
    </fieldset>
  );
}

type FieldProps = {
  label: string;
  name: string;
  errors?: string[];
  hint?: string;
} & Omit<React.InputHTMLAttributes<HTMLInputElement>, "name">;

/** A labelled input whose error and hint are announced with it (aria-describedby). */
export function TextField({ label, name, errors, hint, id, className, ...input }: FieldProps) {
  const inputId = id ?? `field-${name}`;
  const errorId = `${inputId}-error`;
  const hintId = `${inputId}-hint`;
  const describedBy = [hint ? hintId : null, errorId].filter(Boolean).join(" ");
  return (
    <div className={className}>
      <label htmlFor={inputId} className="block text-sm font-medium text-slate-700">
        {label}
      </label>
      <input
        id={inputId}
        name={name}
        aria-invalid={errors?.length ? true : undefined}
        aria-describedby={describedBy}
        className="mt-1 block w-full rounded-md border border-slate-300 bg-white px-3 py-2 text-sm shadow-sm aria-invalid:border-red-500"
        {...input}
      />
      {hint ? (
        <p id={hintId} className="mt-1 text-xs text-slate-500">
          {hint}
        </p>
      ) : null}
      <p id={errorId} aria-live="polite" className="mt-1 text-sm text-red-700">
        {errors?.join(" ")}
      </p>
    </div>
  );
}

type SelectProps = { label: string; name: string; options: readonly string[] } & Omit<
  React.SelectHTMLAttributes<HTMLSelectElement>,
  "name"
>;

export function SelectField({ label, name, options, id, ...select }: SelectProps) {
  const selectId = id ?? `field-${name}`;
  return (
    <div>
      <label htmlFor={selectId} className="block text-sm font-medium text-slate-700">
        {label}
      </label>
      <select
        id={selectId}
        name={name}
        className="mt-1 block rounded-md border border-slate-300 bg-white px-3 py-2 text-sm"
        {...select}
      >
        {options.map((option) => (
          <option key={option} value={option}>
            {option}
          </option>
        ))}
      </select>
    </div>
  );
}

/** Runs a server action from a button with a pending state; refreshes the page on success. */
export function useAction<T>() {
  const router = useRouter();
  const [result, setResult] = useState<ActionResult<T> | null>(null);
  const [pending, startTransition] = useTransition();
  const run = (action: () => Promise<ActionResult<T>>, after?: (result: ActionResult<T>) => void) =>
    startTransition(async () => {
      const outcome = await settle(action);
      setResult(outcome);
      after?.(outcome);
      if (outcome.ok) router.refresh();
    });
  return { result, pending, run };
}

/** Submit button that shows its pending label (and is disabled) while the submit runs. */
type PendingButtonProps = {
  children: React.ReactNode;
  /** Shown instead of the label while the action runs. */
  pendingLabel: string;
  variant?: ButtonVariant;
  pending: boolean;
} & React.ButtonHTMLAttributes<HTMLButtonElement>;

/**
 * A button for a slow action: disabled with a spinner and its pending label while it runs. A
 * `className` adds to the variant's classes (layout such as `w-full`); it used to replace them,
 * which left the sign-in, sign-up, invite and "Create key" buttons unstyled.
 */
export function PendingButton({ children, pendingLabel, variant = "primary", pending, type = "button", className, ...button }: PendingButtonProps) {
  return (
    <button type={type} disabled={pending} aria-disabled={pending} className={className ? `${buttonClass(variant)} ${className}` : buttonClass(variant)} {...button}>
      {pending ? <Spinner /> : null}
      {pending ? pendingLabel : children}
    </button>
  );
}

/** The submit button of a form that goes through useFormSubmit. */
export function SubmitButton(props: PendingButtonProps) {
  return <PendingButton type="submit" {...props} />;
}

export function Spinner() {
  return (
    <span
      aria-hidden="true"
      className="inline-block h-3.5 w-3.5 animate-spin rounded-full border-2 border-current border-r-transparent"
    />
  );
}

/**
 * The form-level result line: an alert for failures, a status for successes. Failures tied
 * to fields are shown next to those fields instead, not twice.
 */
export function FormMessage({ state, success }: { state: ActionResult<unknown> | null; success?: string }) {
  if (!state || (!state.ok && state.fieldErrors)) return null;
  if (!state.ok) {
    return (
      <p role="alert" className="rounded-md bg-red-50 px-3 py-2 text-sm text-red-800">
        {state.message}
      </p>
    );
  }
  return success ? (
    <p role="status" className="rounded-md bg-green-50 px-3 py-2 text-sm text-green-800">
      {success}
    </p>
  ) : null;
}

export const fieldErrors = (state: ActionResult<unknown> | null, field: string) =>
  state && !state.ok ? state.fieldErrors?.[field] : undefined;
