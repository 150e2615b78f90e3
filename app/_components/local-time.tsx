"use client";

import { useEffect, useState } from "react";
import { localTime } from "./messages";

/** A moment in the reader's own zone and language; a neutral placeholder until hydrated, so server and client render the same. */
export function LocalTime({ iso, fallback = "never" }: { iso: string | null; fallback?: string }) {
  const [text, setText] = useState<string | null>(null);
  useEffect(() => setText(iso ? localTime(new Date(iso)) : null), [iso]);
  if (!iso) return <span>{fallback}</span>;
  return <time dateTime={iso}>{text ?? "…"}</time>;
}
