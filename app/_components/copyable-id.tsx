"use client";

import { toast } from "sonner";
import { Button } from "./ui/button";

/**
 * An id a person hands to a service (the user id, an account id: what /api/v1's
 * routes take), shown whole, with a button that copies it and says so in a toast.
 * `label` names it in the button's accessible name and the toast ("user id").
 */
export function CopyableId({ label, value, testId }: { label: string; value: string; testId: string }) {
  const copy = () =>
    navigator.clipboard.writeText(value).then(
      () => toast.success(`The ${label} is copied`),
      () => toast.error(`Couldn’t copy the ${label}: select it and copy it yourself.`),
    );
  return (
    <span className="inline-flex max-w-full items-center gap-1">
      <code data-testid={testId} className="min-w-0 rounded bg-muted px-1.5 py-0.5 font-mono text-xs break-all select-all">
        {value}
      </code>
      <Button type="button" variant="ghost" size="sm" className="h-7 shrink-0 px-2 text-xs" aria-label={`Copy ${label}`} onClick={() => void copy()}>
        Copy
      </Button>
    </span>
  );
}
