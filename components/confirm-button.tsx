"use client";

import { useEffect, useRef, useState } from "react";
import { buttonClass } from "@/components/ui";
import { Spinner } from "@/components/form";

/** A destructive button that asks first, inline; focus moves to the confirm step and back. */
export function ConfirmButton({
  label,
  question,
  confirmLabel,
  pendingLabel,
  onConfirm,
  pending,
}: {
  label: string;
  question: string;
  confirmLabel: string;
  pendingLabel: string;
  onConfirm: () => void;
  pending: boolean;
}) {
  const [asking, setAsking] = useState(false);
  const confirmRef = useRef<HTMLButtonElement>(null);
  useEffect(() => {
    if (asking) confirmRef.current?.focus();
  }, [asking]);
  if (!asking) {
    return (
      <button type="button" className={buttonClass("secondary")} onClick={() => setAsking(true)}>
        {label}
      </button>
    );
  }
  return (
    <span role="group" aria-label={question} className="inline-flex items-center gap-2">
      <span className="text-sm text-slate-700">{question}</span>
      <button ref={confirmRef} type="button" className={buttonClass("danger")} disabled={pending} onClick={onConfirm}>
        {pending ? <Spinner /> : null}
        {pending ? pendingLabel : confirmLabel}
      </button>
      <button type="button" className={buttonClass("secondary")} disabled={pending} onClick={() => setAsking(false)}>
        Cancel
      </button>
    </span>
  );
}
