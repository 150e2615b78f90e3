"use client";

import { useEffect, useState } from "react";

/** A timestamp in the reader's own time zone (ISO until hydrated, so SSR matches). */
export function LocalTime({ iso }: { iso: string | null }) {
  const [text, setText] = useState(iso ?? "never");
  useEffect(() => setText(iso ? new Date(iso).toLocaleString() : "never"), [iso]);
  return iso ? <time dateTime={iso}>{text}</time> : <span>never</span>;
}
