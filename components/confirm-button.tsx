"use client";

import { useEffect, useRef, useState } from "react";
import { buttonClass } from "@/components/ui";
import { Spinner } from "@/components/form";

/**
 * A destructive button that asks first, inline. Focus moves to the confirm step; Cancel or
 * Escape returns it to the button that opened it.
 */
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
  const triggerRef = useRef<HTMLButtonElement>(null);
  const opened = useRef(false);
  useEffect(() => {
    if (asking) {
      opened.current = true;
      confirmRef.current?.focus();
    } else if (opened.current) {
      opened.current = false;
      triggerRef.current?.focus();
    }
  }, [asking]);
  if (!asking) {
    return (
      <button ref={triggerRef} type="button" className={buttonClass("secondary")} onClick={() => setAsking(true)}>
        {label}
      </button>
    );
  }
  return (
    <span
      role="group"
      aria-label={question}
      className="inline-flex items-center gap-2"
      onKeyDown={(event) => {
        if (event.key === "Escape" && !pending) setAsking(false);
      }}
    >
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
